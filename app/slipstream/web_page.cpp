#include "web_page.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "console.hpp"

namespace slipstream {

namespace {

namespace fs = std::filesystem;

struct PageFile {
    const char* route;
    const char* file;
    const char* content_type;
};

// Fixed list: nothing outside these names can be asked for, so no path from a
// request ever reaches the file system.
constexpr PageFile page_files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/live.js", "live.js", "text/javascript; charset=utf-8"},
    {"/events.js", "events.js", "text/javascript; charset=utf-8"},
    {"/style.css", "style.css", "text/css; charset=utf-8"},
};

}  // namespace

std::string find_web_dir() {
    std::vector<fs::path> candidates;
    if (const char* dir = std::getenv("SLIPSTREAM_WEB_DIR"); dir && *dir) candidates.emplace_back(dir);
    std::error_code error;
    const fs::path exe = fs::read_symlink("/proc/self/exe", error);
    if (!error) candidates.push_back(exe.parent_path().parent_path() / "share" / "slipstream" / "web");
#ifdef SLIPSTREAM_WEB_SOURCE_DIR
    candidates.emplace_back(SLIPSTREAM_WEB_SOURCE_DIR);
#endif
    for (const fs::path& dir : candidates) {
        if (fs::is_regular_file(dir / "index.html", error)) return dir.string();
    }
    return {};
}

void add_web_page(HttpServer& server) {
    const std::string dir = find_web_dir();
    if (dir.empty()) {
        console::note("Web page: its files were not found (set SLIPSTREAM_WEB_DIR to the folder with index.html); the API works without it");
        return;
    }
    for (const PageFile& page : page_files) {
        const std::string path = dir + "/" + page.file;
        const std::string type = page.content_type;
        // Read on every request: a few kilobytes, and an edited file shows on reload.
        server.route("GET", page.route, [path, type](const HttpRequest&) {
            std::ifstream in(path, std::ios::binary);
            if (!in) return json_error(404, "NOT_FOUND", "the page file " + path + " cannot be read");
            std::ostringstream text;
            text << in.rdbuf();
            HttpResponse r;
            r.content_type = type;
            r.body = text.str();
            return r;
        }, HttpServer::Access::open);
    }
}

}  // namespace slipstream
