#include "topics.hpp"

#include <cctype>

namespace slipstream::mqtt {

std::string topic_level(std::string_view name) {
    std::string level;
    level.reserve(name.size());
    for (unsigned char c : name) {
        if (c == '/' || c == '+' || c == '#' || std::isspace(c) || c < 0x20 || c == 0x7f) {
            level += '_';
        } else {
            level += static_cast<char>(std::tolower(c));
        }
    }
    return level.empty() ? "_" : level;
}

bool valid_prefix(const std::string& prefix, std::string* why) {
    auto fail = [why](const char* reason) {
        if (why) *why = reason;
        return false;
    };
    if (prefix.empty()) return fail("it is empty");
    if (prefix.find_first_of("+#") != std::string::npos) return fail("'+' and '#' are wildcards, not topic text");
    if (prefix[0] == '$') return fail("topics starting with '$' belong to the broker");
    if (prefix.front() == '/' || prefix.back() == '/' || prefix.find("//") != std::string::npos) {
        return fail("it has an empty level (a leading, trailing or double '/')");
    }
    for (unsigned char c : prefix) {
        if (c < 0x20 || c == 0x7f) return fail("it has a control character");
    }
    return true;
}

}  // namespace slipstream::mqtt
