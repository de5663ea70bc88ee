#include "input_failure.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace slipstream {

namespace {

bool contains_nocase(const std::string& text, const char* word) {
    const std::string w = word;
    return std::search(text.begin(), text.end(), w.begin(), w.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           }) != text.end();
}

// A network input's resource error that has no code of its own: rtspsrc's
// debug text tells a refused request from a timeout from a lost connection.
InputFailure describe_network_trouble(const std::string& message, const std::string& debug, const FailureContext& input) {
    InputFailure f;
    int code = 0;
    std::string phrase;
    if (debug_text::rtsp_status(debug, code, phrase)) {
        f.reason = "the camera refused the request: " + std::to_string(code) + (phrase.empty() ? "" : " " + phrase);
        return f;
    }
    f.link = true;
    if (contains_nocase(debug, "timeout") || contains_nocase(debug, "timed out")) {
        f.reason = "no answer from " + input.where + " (timed out)";
    } else if (debug.find("Could not receive message") != std::string::npos) {
        f.reason = "connection lost: receiving from the camera failed";
    } else if (debug.find("Could not send message") != std::string::npos) {
        f.reason = "connection lost: sending to the camera failed";
    } else {
        f.reason = "connection lost (" + message + ")";
    }
    return f;
}

InputFailure describe_resource_error(const GError* error, const std::string& message, const std::string& debug,
                                     const FailureContext& input) {
    InputFailure f = InputFailure::because(message);
    switch (error->code) {
        case GST_RESOURCE_ERROR_NOT_FOUND:
            f.reason = input.network ? "not found (404): check the path in the URI" : "file not found";
            f.link = f.unreachable = !input.network;  // a missing file may appear; a server that said 404 is reachable
            return f;
        case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
            f.reason = !input.network ? "permission denied"
                       : input.has_login ? "unauthorized (401): check the user name and password"
                                         : "unauthorized (401): the camera needs a login: add USER:PASSWORD@ before the host in the URI";
            return f;
        case GST_RESOURCE_ERROR_OPEN_READ:
        case GST_RESOURCE_ERROR_OPEN_WRITE:
        case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
            if (!input.network) {
                f.reason = "cannot open the file (" + message + ")";
                return f;
            }
            f.reason = "cannot connect to " + input.where;
            f.link = f.diagnose = true;
            return f;
        default:
            return input.network ? describe_network_trouble(message, debug, input) : f;
    }
}

// Codecs and streams that cannot be decoded: decodebin names them only in its debug text.
InputFailure describe_missing_decoder(const std::string& message, const std::string& debug) {
    std::string video, other;
    debug_text::missing_decoders(debug, video, other);
    if (!video.empty()) return InputFailure::because("no decoder for its " + video + " video: install the GStreamer plugin for it");
    if (!other.empty()) return InputFailure::because("no video stream (only " + other + ")");
    return InputFailure::because("no decoder for this stream (" + message + ")");
}

InputFailure describe_stream_error(const GError* error, const std::string& message, const std::string& debug,
                                   const FailureContext& input) {
    const char* const not_media = input.network ? "not a media stream (" : "not a media file (";
    switch (error->code) {
        case GST_STREAM_ERROR_TYPE_NOT_FOUND:
            return InputFailure::because(not_media + std::string("unrecognised data)"));
        case GST_STREAM_ERROR_WRONG_TYPE: {  // "This appears to be a text file."
            std::string what = message;
            if (!what.empty()) what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
            if (!what.empty() && what.back() == '.') what.pop_back();
            return InputFailure::because(not_media + what + ")");
        }
        case GST_STREAM_ERROR_CODEC_NOT_FOUND:
            return describe_missing_decoder(message, debug);
        case GST_STREAM_ERROR_DECODE:
        case GST_STREAM_ERROR_DEMUX:
        case GST_STREAM_ERROR_FORMAT:
            return InputFailure::because("unreadable stream (" + message + ")");
        case GST_STREAM_ERROR_FAILED:
            if (const std::string flow = debug_text::flow_reason(debug); !flow.empty()) {
                return InputFailure::because("stream failed (" + flow + ")");
            }
            return InputFailure::because(message);
        default:
            return InputFailure::because(message);
    }
}

}  // namespace

namespace debug_text {

bool rtsp_status(const std::string& debug, int& code, std::string& phrase) {
    const auto at = debug.find("error response: ");
    if (at == std::string::npos) return false;
    const char* start = debug.c_str() + at + 16;
    char* end = nullptr;
    const long value = std::strtol(start, &end, 10);
    if (end == start || value < 100 || value > 999) return false;
    code = static_cast<int>(value);
    const auto open = debug.find('(', at), close = debug.find(')', at);
    phrase = open != std::string::npos && close != std::string::npos && close > open ? debug.substr(open + 1, close - open - 1) : "";
    return true;
}

std::string flow_reason(const std::string& debug) {
    const auto at = debug.find("reason ");
    if (at == std::string::npos) return {};
    const auto end = debug.find_first_of(" (", at + 7);
    return debug.substr(at + 7, end == std::string::npos ? std::string::npos : end - at - 7);
}

// One line per stream: "Missing decoder: NAME (MEDIA/SUBTYPE, ...)". With our
// video-only caps, an audio stream is "missing" a decoder too.
void missing_decoders(const std::string& debug, std::string& video, std::string& other) {
    const std::string marker = "Missing decoder: ";
    for (auto at = debug.find(marker); at != std::string::npos; at = debug.find(marker, at + 1)) {
        const auto start = at + marker.size();
        const auto open = debug.find(" (", start);
        if (open == std::string::npos) break;
        const std::string what = debug.substr(start, open - start);
        const std::string media = debug.substr(open + 2, debug.find('/', open) - open - 2);
        (media == "video" || media == "image" ? video : other) = what;
    }
}

}  // namespace debug_text

InputFailure describe_error(const GError* error, const std::string& debug, const FailureContext& input,
                            bool from_decoder) {
    const std::string message = error && error->message ? error->message : "unknown error";
    // A decoder's own failure is no trouble with the camera, whatever its code
    // (nvh264dec reports GPU memory it could not allocate as a settings error).
    if (from_decoder && error && error->domain == GST_RESOURCE_ERROR) {
        return InputFailure::because("the video decoder failed (" + message + ")");
    }
    if (error && error->domain == GST_RESOURCE_ERROR) return describe_resource_error(error, message, debug, input);
    if (error && error->domain == GST_STREAM_ERROR) return describe_stream_error(error, message, debug, input);
    if (error && error->domain == GST_CORE_ERROR && error->code == GST_CORE_ERROR_MISSING_PLUGIN) {
        return describe_missing_decoder(message, debug);
    }
    InputFailure f = InputFailure::because(message);
    return f;
}

bool is_decoder(GstObject* object) {
    if (!object || !GST_IS_ELEMENT(object)) return false;
    GstElementFactory* factory = gst_element_get_factory(GST_ELEMENT(object));
    const gchar* klass = factory ? gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS) : nullptr;
    return klass && g_str_has_prefix(klass, "Codec/Decoder");
}

std::string explain_warning(const std::string& debug, const FailureContext& input) {
    // rtspsrc warns this just before it ends the stream: the better reason.
    if (input.network && contains_nocase(debug, "closed the connection")) return "the camera closed the connection";
    return {};
}

std::string connect_failure_text(const GError* error, const std::string& host, const std::string& where) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) return "connection refused: nothing listens at " + where;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) return "no answer from " + where + " (timed out)";
    if (error->domain == G_RESOLVER_ERROR) return "host not found: " + host;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE)) return "host unreachable: " + host;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE)) return "network unreachable: " + host;
    return "cannot connect to " + where + " (" + error->message + ")";
}

}  // namespace slipstream
