#include "input_address.hpp"

#include <gst/gst.h>

#include "slipstream/uri.hpp"

namespace slipstream {

namespace {

// The schemes whose host we can probe with a TCP connection, and their ports.
guint16 default_port(const std::string& scheme) {
    if (scheme == "rtsp" || scheme == "rtspt") return 554;
    if (scheme == "rtsps") return 322;
    if (scheme == "http") return 80;
    if (scheme == "https") return 443;
    return 0;
}

}  // namespace

InputAddress parse_input_address(const std::string& text) {
    InputAddress a;
    a.uri = text;
    if (a.uri.find("://") == std::string::npos) {
        // A plain path is taken as a local file.
        gchar* uri = gst_filename_to_uri(a.uri.c_str(), nullptr);
        if (uri) a.uri = uri;
        g_free(uri);
    }
    a.masked = ss::mask_credentials(a.uri);
    const char* scheme = g_uri_peek_scheme(a.uri.c_str());  // interned: not freed
    a.scheme = scheme ? scheme : "";
    if (const guint16 port = default_port(a.scheme)) {
        if (GUri* uri = g_uri_parse(a.uri.c_str(), G_URI_FLAGS_NONE, nullptr)) {
            a.has_login = g_uri_get_userinfo(uri) != nullptr;
            if (g_uri_get_host(uri) && *g_uri_get_host(uri)) {
                a.host = g_uri_get_host(uri);
                a.port = g_uri_get_port(uri) > 0 ? static_cast<guint16>(g_uri_get_port(uri)) : port;
            }
            g_uri_unref(uri);
        }
    }
    return a;
}

}  // namespace slipstream
