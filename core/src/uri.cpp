#include "slipstream/uri.hpp"

namespace ss {

std::string mask_credentials(std::string_view uri) {
    return mask_credentials_in_text(uri);
}

std::string mask_credentials_in_text(std::string_view text) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto scheme = text.find("://", pos);
        if (scheme == std::string_view::npos) break;
        const std::size_t authority = scheme + 3;
        // The authority ends at the first '/', whitespace or quote; credentials end at its last '@'.
        std::size_t end = authority;
        while (end < text.size() && text[end] != '/' && text[end] != ' ' && text[end] != '\t' && text[end] != '\n' &&
               text[end] != '"' && text[end] != '\'' && text[end] != '>' && text[end] != ')') {
            ++end;
        }
        const auto at = text.substr(authority, end - authority).rfind('@');
        out.append(text.substr(pos, authority - pos));
        if (at != std::string_view::npos) {
            out += "***";
            out.append(text.substr(authority + at, end - authority - at));
        } else {
            out.append(text.substr(authority, end - authority));
        }
        pos = end;
    }
    out.append(text.substr(pos));
    return out;
}

}  // namespace ss
