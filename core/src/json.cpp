#include "slipstream/json.hpp"

#include <cmath>
#include <cstdio>

namespace ss {

void append_json_number(std::string& out, double v, int decimals) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, std::isfinite(v) ? v : 0.0);
    out += buffer;
}

void append_box_json(std::string& out, const Box& box) {
    out += '[';
    append_json_number(out, box.left, 1);
    out += ',';
    append_json_number(out, box.top, 1);
    out += ',';
    append_json_number(out, box.width, 1);
    out += ',';
    append_json_number(out, box.height, 1);
    out += ']';
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buffer[8];
                    std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                    out += buffer;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

void append_detection_json(std::string& out, const Detection& d, const InferConfig& config) {
    out += "{\"class_id\":";
    out += std::to_string(d.class_id);
    out += ",\"label\":";
    append_json_string(out, config.label(d.class_id));
    out += ",\"group\":";
    if (d.group >= 0) {
        append_json_string(out, config.group_name(d.group));
    } else {
        out += "null";
    }
    out += ",\"confidence\":";
    append_json_number(out, d.confidence, 4);
    out += ",\"bbox\":";
    append_box_json(out, d.box);
    if (d.track_id >= 0) {
        out += ",\"track_id\":";
        out += std::to_string(d.track_id);
        out += ",\"predicted\":";
        out += d.predicted ? "true" : "false";
    }
    out += '}';
}

}  // namespace ss
