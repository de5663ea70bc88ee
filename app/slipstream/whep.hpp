#pragma once
// The parts of the WebRTC live view (WHEP signalling) that need no GStreamer:
// reading a viewer's SDP offer, completing our answer with its ICE candidates,
// session ids, and when a viewer's session is given up. Unit-tested on their own
// (tests/unit/test_whep.cpp); app/slipstream/webrtc_output.cpp uses them.
#include <string>
#include <utility>
#include <vector>

namespace slipstream::whep {

// The H.264 format of an offer that we send with: its payload type and fmtp values.
struct H264Format {
    int payload = -1;
    int packetization_mode = 0;
    std::string profile_level_id;  // "42e01f"; empty when the offer names none
};

// What a WHEP offer says, or why it cannot be answered.
struct OfferCheck {
    std::string error;   // one line a person can act on; empty: the offer is good
    H264Format format;   // the best H.264 format of the first video section
};

// Reads an SDP offer: it needs a video section that can receive, with H.264 in
// packetization mode 1 (what rtph264pay sends). Of several, a constrained
// baseline format wins (what the encoder makes), then any other H.264.
OfferCheck check_offer(const std::string& sdp);

// Our answer with the ICE candidates gathered for it, each after the other
// attributes of its media section (index), plus "a=end-of-candidates": a
// non-trickle answer must carry them. Candidates already there are kept once.
// A candidate is as webrtcbin gives it: "candidate:1 1 UDP ...".
std::string with_candidates(const std::string& sdp, const std::vector<std::pair<unsigned, std::string>>& candidates);

// Our answer with the format's profile-level-id on its fmtp line, where that
// line has none: without it a browser assumes baseline level 1.0.
std::string with_profile(const std::string& sdp, const H264Format& format);

// 32 random hex digits: a session's resource name, not guessable.
std::string new_session_id();

// The session id in a resource path "<prefix>/<id>", or empty when the path is not one.
std::string session_id_in(const std::string& path, const std::string& prefix);

// How a session is doing, as the reaper sees it once a second.
struct SessionHealth {
    bool connected = false;        // ICE and DTLS up (webrtcbin's connection-state)
    bool failed = false;           // connection-state failed or closed
    double age_s = 0;              // since the offer came
    double silent_s = -1;          // since the viewer's last RTCP packet; -1: none yet
};

struct ReapTimes {
    double connect_s = 15;  // an answered offer must connect within this
    double silence_s = 10;  // a connected viewer reports (RTCP) at least this often
};

enum class Reap { keep, failed, never_connected, went_silent };

// Whether to end a session: a vanished viewer (page closed without DELETE, a
// network gone) stops sending RTCP; one that never connects holds a slot.
Reap reap_decision(const SessionHealth& health, const ReapTimes& times = {});

// Why, for the log: "ICE/DTLS failed", ...
const char* reap_reason(Reap reap);

}  // namespace slipstream::whep
