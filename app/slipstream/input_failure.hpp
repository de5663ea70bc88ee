#pragma once
// Why an input went down, in words a person can act on. GStreamer's own error
// texts are often generic ("Could not open resource for reading and
// writing."); the domain and code of its GError, and the debug text that
// rtspsrc and decodebin attach, say much more. Everything that reads them
// lives here, so it can be tested without a camera.
#include <gio/gio.h>
#include <gst/gst.h>

#include <string>

namespace slipstream {

// What a failure says about retrying the input.
struct InputFailure {
    std::string reason;
    bool link = false;         // unreachable or its link broke: a probe that reaches it again ends the wait early
    bool diagnose = false;     // GStreamer only said "could not connect": name the cause with our own TCP probe first
    bool ended = false;        // the stream ended (EOS); a warning posted just before may say why
    bool unreachable = false;  // our own probe could not connect: any later probe that can is news

    static InputFailure because(std::string reason) {
        InputFailure f;
        f.reason = std::move(reason);
        return f;
    }
};

// What the classification needs to know about the input.
struct FailureContext {
    bool network = false;    // a camera (rtsp://, http://...), not a file
    bool has_login = false;  // its URI carries a user name (and password)
    std::string where;       // "host:port", for messages
};

// An ERROR message of an element inside the input's bin; from_decoder: that
// element is the input's decoder (see is_decoder).
InputFailure describe_error(const GError* error, const std::string& debug, const FailureContext& input,
                            bool from_decoder = false);

// Whether `object` is a decoder element (Codec/Decoder/...), not a bin that decodes.
bool is_decoder(GstObject* object);

// A WARNING message of an element inside the input's bin: a better reason for
// an end of stream that may follow, or empty.
std::string explain_warning(const std::string& debug, const FailureContext& input);

// Our own TCP connection attempt to host:port failed with `error`.
std::string connect_failure_text(const GError* error, const std::string& host, const std::string& where);

// The readers of GStreamer's debug texts, exposed for their tests.
namespace debug_text {

// rtspsrc: "Got error response: 503 (Service Unavailable)." -> 503, "Service Unavailable".
bool rtsp_status(const std::string& debug, int& code, std::string& phrase);
// A streaming thread's "... reason not-linked (-1)" -> "not-linked".
std::string flow_reason(const std::string& debug);
// decodebin: "Missing decoder: MPEG-4 AAC (audio/mpeg, ...)" -> the last video
// (or image) one and the last other one.
void missing_decoders(const std::string& debug, std::string& video, std::string& other);

}  // namespace debug_text

}  // namespace slipstream
