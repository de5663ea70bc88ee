#include "mqtt_url.hpp"

#include <cctype>
#include <cstdlib>

namespace slipstream::mqtt {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// %XX -> the byte; false for a broken escape.
bool percent_decode(const std::string& in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return false;
        const int high = hex_value(in[i + 1]), low = hex_value(in[i + 2]);
        if (high < 0 || low < 0) return false;
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return true;
}

std::optional<BrokerAddress> fail(std::string* why, const char* reason) {
    if (why) *why = reason;
    return std::nullopt;
}

}  // namespace

std::string BrokerAddress::masked() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return std::string("mqtt://") + (user.empty() ? "" : "***@") + (ipv6 ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
}

std::optional<BrokerAddress> parse_broker_url(const std::string& url, std::string* why) {
    const std::string scheme = "mqtt://";
    if (url.compare(0, scheme.size(), scheme) != 0) {
        if (url.find("://") != std::string::npos) return fail(why, "only mqtt:// is supported, not TLS or websockets");
        return fail(why, "it does not start with mqtt://");
    }
    std::string rest = url.substr(scheme.size());
    if (!rest.empty() && rest.back() == '/') rest.pop_back();  // "mqtt://host:1883/" is common
    if (rest.find_first_of("/?# \t") != std::string::npos) return fail(why, "a broker URL has no path");
    BrokerAddress address;
    if (const auto at = rest.rfind('@'); at != std::string::npos) {
        const std::string credentials = rest.substr(0, at);
        rest = rest.substr(at + 1);
        const auto colon = credentials.find(':');
        if (!percent_decode(credentials.substr(0, colon), address.user) ||
            (colon != std::string::npos && !percent_decode(credentials.substr(colon + 1), address.password))) {
            return fail(why, "a broken %-escape in the user or password");
        }
        if (address.user.empty()) return fail(why, "an empty user name before '@'");
    }
    std::string port_text;
    if (!rest.empty() && rest[0] == '[') {  // [IPv6]:port
        const auto close = rest.find(']');
        if (close == std::string::npos) return fail(why, "a '[' without ']' around the host");
        address.host = rest.substr(1, close - 1);
        const std::string after = rest.substr(close + 1);
        if (!after.empty() && after[0] != ':') return fail(why, "text after the host's ']'");
        if (!after.empty()) port_text = after.substr(1);
        if (after == ":") return fail(why, "an empty port");
    } else {
        const auto colon = rest.find(':');
        address.host = rest.substr(0, colon);
        if (colon != std::string::npos) {
            port_text = rest.substr(colon + 1);
            if (port_text.empty()) return fail(why, "an empty port");
        }
    }
    if (address.host.empty()) return fail(why, "no host");
    if (!port_text.empty()) {
        char* end = nullptr;
        const long port = std::strtol(port_text.c_str(), &end, 10);
        if (*end || port < 1 || port > 65535 || !std::isdigit(static_cast<unsigned char>(port_text[0]))) {
            return fail(why, "the port is not a number from 1 to 65535");
        }
        address.port = static_cast<int>(port);
    }
    return address;
}

}  // namespace slipstream::mqtt
