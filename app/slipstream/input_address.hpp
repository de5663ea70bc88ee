#pragma once
// Where an input comes from, read once from what the user gave: a URI, or a
// plain path taken as a local file.
#include <glib.h>

#include <string>

namespace slipstream {

struct InputAddress {
    std::string uri;     // as uridecodebin gets it
    std::string masked;  // for every message: credentials as ***
    std::string scheme;
    std::string host;    // network inputs: where a TCP probe connects
    guint16 port = 0;    // 0: not a network input (a file, or a scheme we cannot probe)
    bool has_login = false;  // the URI carries a user name (and password)

    bool network() const { return port != 0; }
    std::string where() const { return host + ":" + std::to_string(port); }
};

InputAddress parse_input_address(const std::string& text);

}  // namespace slipstream
