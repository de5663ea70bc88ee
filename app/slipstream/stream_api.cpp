#include "stream_api.hpp"

#include <json-glib/json-glib.h>

#include <cstdio>
#include <map>
#include <memory>

#include "console.hpp"
#include "input_address.hpp"
#include "slipstream/json.hpp"
#include "slipstream/uri.hpp"

namespace slipstream {

namespace {

constexpr const char* add_path = "/api/v1/stream/add";
constexpr const char* remove_path = "/api/v1/stream/remove";
constexpr const char* info_path = "/api/v1/stream/get-stream-info";
constexpr const char* ready_path = "/api/v1/health/get-dsready-state";
constexpr std::size_t max_camera_id_length = 128;

// A request body's JSON, for one call.
struct Body {
    std::unique_ptr<JsonParser, decltype(&g_object_unref)> parser{json_parser_new(), g_object_unref};
    JsonObject* value = nullptr;  // the "value" object, once read
};

// JSON written as text: json-glib would print 9.6 as 9.5999999999999996.
class JsonObjectText {
public:
    JsonObjectText& add(const char* name, const std::string& value) {
        key(name);
        ss::append_json_string(text_, value);
        return *this;
    }
    JsonObjectText& add(const char* name, double value) {
        key(name);
        char number[32];
        std::snprintf(number, sizeof number, "%.1f", value);
        text_ += number;
        return *this;
    }
    JsonObjectText& add(const char* name, guint64 value) {
        key(name);
        text_ += std::to_string(value);
        return *this;
    }
    JsonObjectText& add_raw(const char* name, const std::string& json) {
        key(name);
        text_ += json;
        return *this;
    }
    std::string done() const { return text_ + "}"; }

private:
    void key(const char* name) {
        text_ += text_.size() > 1 ? "," : "";
        ss::append_json_string(text_, name);
        text_ += ':';
    }
    std::string text_ = "{";
};

std::string camera_text(const InputStatus& s, const CameraRates& rates) {
    JsonObjectText o;
    o.add("camera_id", s.camera_id).add("camera_name", s.name).add("camera_url", s.masked_url);
    o.add("source_id", static_cast<guint64>(s.index));  // "stream" in the metadata and on screen
    o.add("state", s.state);
    if (!s.reason.empty()) o.add("reason", s.reason);
    if (s.next_retry_s >= 0) o.add("next_retry_s", s.next_retry_s);
    o.add("codec", s.codec).add("width", static_cast<guint64>(s.width)).add("height", static_cast<guint64>(s.height));
    o.add("fps_nominal", s.nominal_fps).add("fps_in", rates.received).add("fps_shown", rates.shown);
    o.add("detections_per_s", rates.detected);
    if (s.counters) {
        const CameraCounters& c = *s.counters;
        o.add("frames_received", c.frames_received.load()).add("frames_shown", c.frames_shown.load());
        o.add("frames_detected", c.frames_detected.load()).add("objects_detected", c.objects_detected.load());
        o.add("reconnects", c.reconnects.load());
    }
    return o.done();
}

// {"Person":12,"Vehicle":3}: objects detected on this camera so far, by counting group.
std::string groups_text(const std::map<std::string, guint64>& by_group) {
    JsonObjectText o;
    for (const auto& [group, count] : by_group) o.add(group.c_str(), count);
    return o.done();
}

HttpResponse success(const std::string& reason, const std::function<void(JsonObjectText&)>& more = {}) {
    JsonObjectText o;
    o.add("status", status_line(200)).add("reason", reason);
    if (more) more(o);
    HttpResponse r;
    r.body = o.done();
    return r;
}

// What one camera of a request body looks like, for error messages.
std::string example(const char* change) {
    return std::string(R"({"key":"sensor","value":{"camera_id":"cam1","camera_name":"Door","camera_url":"rtsp://host/stream","change":")") +
           change + R"("}})";
}

// Reads the body's "value" object; an error response (status 400) when it cannot.
HttpResponse read_value(const HttpRequest& request, Body& body, const char* change, const char* failed) {
    GError* error = nullptr;
    if (request.body.empty()) {
        return json_error(400, failed, std::string("the request has no body: send JSON such as ") + example(change));
    }
    if (!json_parser_load_from_data(body.parser.get(), request.body.data(), static_cast<gssize>(request.body.size()), &error)) {
        std::string why = std::string("the body is not valid JSON (") + (error ? error->message : "parse error") + "): send " + example(change);
        g_clear_error(&error);
        return json_error(400, failed, why);
    }
    JsonNode* root = json_parser_get_root(body.parser.get());
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        return json_error(400, failed, std::string("the body must be a JSON object such as ") + example(change));
    }
    JsonObject* top = json_node_get_object(root);
    JsonNode* value = json_object_get_member(top, "value");
    if (!value || !JSON_NODE_HOLDS_OBJECT(value)) {
        return json_error(400, failed, std::string("the field \"value\" (an object with the camera) is missing: send ") + example(change));
    }
    body.value = json_node_get_object(value);
    JsonNode* change_node = json_object_get_member(body.value, "change");
    const char* given_change = change_node && JSON_NODE_HOLDS_VALUE(change_node) && json_node_get_value_type(change_node) == G_TYPE_STRING
                                   ? json_node_get_string(change_node)
                                   : nullptr;
    // DeepStream's clients say camera_add / camera_remove (or camera_streaming_add...): the verb must match the path.
    if (given_change && std::string(given_change).find(std::string(change).substr(7)) == std::string::npos) {
        return json_error(400, failed, std::string("\"change\" is \"") + given_change + "\" but this path takes \"" + change + "\"");
    }
    HttpResponse ok;
    ok.status = 0;
    return ok;
}

// A string field of "value" (numbers are taken as their text: some clients send ids as numbers).
bool text_field(JsonObject* value, const char* name, std::string& out) {
    JsonNode* node = json_object_get_member(value, name);
    if (!node || !JSON_NODE_HOLDS_VALUE(node)) return false;
    const GType type = json_node_get_value_type(node);
    if (type == G_TYPE_STRING) {
        out = json_node_get_string(node);
    } else if (type == G_TYPE_INT64) {
        out = std::to_string(json_node_get_int(node));
    } else {
        return false;
    }
    return true;
}

// The schemes an input can read: those uridecodebin has a source for, and plain files.
bool readable_scheme(const std::string& scheme) {
    return !scheme.empty() && gst_uri_protocol_is_supported(GST_URI_SRC, scheme.c_str());
}

}  // namespace

std::string camera_json(const InputStatus& status, const CameraRates& rates) { return camera_text(status, rates); }

void add_stream_api(HttpServer& server, Sources& sources, const CameraStats& stats, std::function<bool()> ready) {
    server.route("POST", add_path, [&sources](const HttpRequest& request) {
        const char* failed = "STREAM_ADD_FAIL";
        Body body;
        if (HttpResponse bad = read_value(request, body, "camera_add", failed); bad.status) return bad;
        std::string id, url, name;
        if (!text_field(body.value, "camera_id", id) || id.empty()) {
            return json_error(400, failed, "\"value.camera_id\" is missing or empty: give each camera a unique id, e.g. " + example("camera_add"));
        }
        if (id.size() > max_camera_id_length) {
            return json_error(400, failed, "\"value.camera_id\" is longer than " + std::to_string(max_camera_id_length) + " characters: use a shorter id");
        }
        if (!text_field(body.value, "camera_url", url) || url.empty()) {
            return json_error(400, failed, "\"value.camera_url\" is missing or empty: give the camera's URL, e.g. rtsp://host:554/stream");
        }
        text_field(body.value, "camera_name", name);
        const InputAddress address = parse_input_address(url);
        if (url.find("://") == std::string::npos || !readable_scheme(address.scheme)) {
            return json_error(422, failed, "camera_url " + ss::mask_credentials(url) + ": slipstream cannot read " +
                                               (address.scheme.empty() || url.find("://") == std::string::npos
                                                    ? std::string("a URL without a scheme")
                                                    : "the scheme '" + address.scheme + "'") +
                                               "; give an rtsp://, rtsps://, http(s):// or file:// URL");
        }
        if (sources.find(id) >= 0) {
            return json_error(409, failed, "a camera with camera_id '" + id + "' is already in the pipeline: remove it first (POST " +
                                               remove_path + ") or choose another id");
        }
        const int index = sources.add(url, id, name);
        console::note("API: camera " + id + " added as input " + std::to_string(index) + " (" + address.masked + ")");
        return success("STREAM_ADD_SUCCESS", [&](JsonObjectText& o) {
            o.add("camera_id", id).add("source_id", static_cast<guint64>(index));
        });
    });

    server.route("POST", remove_path, [&sources](const HttpRequest& request) {
        const char* failed = "STREAM_REMOVE_FAIL";
        Body body;
        if (HttpResponse bad = read_value(request, body, "camera_remove", failed); bad.status) return bad;
        std::string id;
        if (!text_field(body.value, "camera_id", id) || id.empty()) {
            return json_error(400, failed, "\"value.camera_id\" is missing or empty: name the camera to remove, e.g. " + example("camera_remove"));
        }
        const int index = sources.find(id);
        if (index < 0) {
            return json_error(404, failed, "no camera with camera_id '" + id + "' is in the pipeline: GET " + std::string(info_path) +
                                               " lists the cameras");
        }
        sources.remove(index);
        console::note("API: camera " + id + " (input " + std::to_string(index) + ") removed");
        return success("STREAM_REMOVE_SUCCESS", [&](JsonObjectText& o) { o.add("camera_id", id); });
    });

    server.route("GET", info_path, [&sources, &stats](const HttpRequest&) {
        const std::vector<InputStatus> cameras = sources.statuses();
        std::string list = "[";
        for (const InputStatus& s : cameras) {
            if (list.size() > 1) list += ',';
            std::string camera = camera_text(s, stats.rates(static_cast<guint>(s.index)));
            camera.pop_back();  // reopen the object for the groups
            camera += ",\"detections_by_group\":" + groups_text(stats.detections_by_group(static_cast<guint>(s.index))) + "}";
            list += camera;
        }
        list += "]";
        JsonObjectText info;
        info.add("stream-count", static_cast<guint64>(cameras.size())).add_raw("stream-info", list);
        return success("GET_LIVE_STREAM_INFO_SUCCESS", [&](JsonObjectText& o) { o.add_raw("stream-info", info.done()); });
    });

    server.route("GET", ready_path, [ready](const HttpRequest&) {
        JsonObjectText health;
        health.add("ds-ready", std::string(ready() ? "YES" : "NO"));
        return success("DS_READY_STATE_SUCCESS", [&](JsonObjectText& o) { o.add_raw("health-info", health.done()); });
    });

    // Liveness: the main loop answers (a stuck loop answers nothing and the probe times out).
    server.route("GET", "/livez", [](const HttpRequest&) {
        HttpResponse r;
        r.body = R"({"status":"alive"})";
        return r;
    }, HttpServer::Access::open);
    // Readiness: the pipeline plays and so takes cameras; an empty one is ready too.
    server.route("GET", "/readyz", [ready](const HttpRequest&) {
        if (ready()) {
            HttpResponse r;
            r.body = R"({"status":"ready"})";
            return r;
        }
        return json_error(503, "NOT_READY", "the pipeline is not playing yet; try again in a moment");
    }, HttpServer::Access::open);
}

}  // namespace slipstream
