#pragma once
// The control page (app/slipstream/web/: index.html, app.js, style.css), served
// at / by the HTTP server. The files are static and need no token: the data
// they show comes from the token-protected API, which the page calls with the
// token the user types in.
#include <string>

#include "http_server.hpp"

namespace slipstream {

// Where the page's files are: $SLIPSTREAM_WEB_DIR, else ../share/slipstream/web
// beside the executable (installed or bundled), else the source tree the
// program was built from. Empty when none holds index.html.
std::string find_web_dir();

// Routes / and the page's files; a note on the console says where they come from.
void add_web_page(HttpServer& server);

}  // namespace slipstream
