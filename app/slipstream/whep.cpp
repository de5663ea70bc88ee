#include "whep.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

namespace slipstream::whep {

namespace {

std::vector<std::string> sdp_lines(const std::string& sdp) {
    std::vector<std::string> lines;
    std::istringstream in(sdp);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.compare(0, prefix.size(), prefix) == 0; }

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1" -> {key: value}
std::map<std::string, std::string> fmtp_values(const std::string& parameters) {
    std::map<std::string, std::string> values;
    std::istringstream in(parameters);
    std::string pair;
    while (std::getline(in, pair, ';')) {
        const auto equals = pair.find('=');
        if (equals == std::string::npos) continue;
        auto trimmed = [](std::string s) {
            s.erase(0, s.find_first_not_of(" \t"));
            s.erase(s.find_last_not_of(" \t") + 1);
            return s;
        };
        values[lower(trimmed(pair.substr(0, equals)))] = trimmed(pair.substr(equals + 1));
    }
    return values;
}

// Higher is better: mode 1 is required, then a baseline profile (profile_idc 0x42,
// whatever its constraint flags: the encoder's constrained baseline plays in both).
int preference(const H264Format& f) {
    if (f.packetization_mode != 1) return 0;
    return lower(f.profile_level_id).rfind("42", 0) == 0 ? 3 : f.profile_level_id.empty() ? 2 : 1;
}

}  // namespace

OfferCheck check_offer(const std::string& sdp) {
    OfferCheck result;
    const std::vector<std::string> lines = sdp_lines(sdp);
    if (lines.empty() || lines.front() != "v=0") {
        result.error = "the body is not an SDP offer (it must start with the line v=0): POST the offer of an RTCPeerConnection "
                       "(pc.localDescription.sdp) with Content-Type: application/sdp";
        return result;
    }
    // The first video section: its direction and its H.264 formats.
    bool in_video = false, seen_video = false;
    std::string direction = "sendrecv";
    std::map<int, H264Format> h264;
    std::vector<std::string> other_codecs;
    for (const std::string& line : lines) {
        if (starts_with(line, "m=")) {
            if (seen_video) break;
            in_video = starts_with(line, "m=video ");
            seen_video = in_video;
            continue;
        }
        if (!in_video) continue;
        if (line == "a=sendonly" || line == "a=recvonly" || line == "a=sendrecv" || line == "a=inactive") direction = line.substr(2);
        if (starts_with(line, "a=rtpmap:")) {
            std::istringstream in(line.substr(9));
            int payload = -1;
            std::string encoding;
            in >> payload >> encoding;
            const std::string name = encoding.substr(0, encoding.find('/'));
            // RTP payload types are 7 bits; anything else cannot be sent (rtph264pay's pt).
            if (lower(name) == "h264" && payload >= 0 && payload <= 127) {
                h264[payload].payload = payload;
            } else if (name != "rtx" && name != "red" && name != "ulpfec" && name.rfind("flexfec", 0) != 0 &&
                       std::find(other_codecs.begin(), other_codecs.end(), name) == other_codecs.end()) {
                other_codecs.push_back(name);
            }
        }
    }
    for (const std::string& line : lines) {  // fmtp lines may come before or after their rtpmap
        if (!starts_with(line, "a=fmtp:")) continue;
        std::istringstream in(line.substr(7));
        int payload = -1;
        in >> payload;
        auto it = h264.find(payload);
        if (it == h264.end()) continue;
        std::string rest;
        std::getline(in, rest);
        const auto values = fmtp_values(rest);
        if (auto m = values.find("packetization-mode"); m != values.end()) it->second.packetization_mode = std::atoi(m->second.c_str());
        if (auto p = values.find("profile-level-id"); p != values.end()) it->second.profile_level_id = lower(p->second);
    }
    if (!seen_video) {
        result.error = "the offer has no video section: add a receive-only video transceiver "
                       "(pc.addTransceiver('video', {direction: 'recvonly'})) before creating the offer";
        return result;
    }
    if (direction == "sendonly" || direction == "inactive") {
        result.error = "the offer's video is " + direction + ": the live view sends video, so offer it recvonly (or sendrecv)";
        return result;
    }
    if (h264.empty()) {
        std::string offered;
        for (const auto& c : other_codecs) offered += (offered.empty() ? "" : ", ") + c;
        result.error = "the offer has no H.264 video (it offers " + (offered.empty() ? std::string("none") : offered) +
                       "): slipstream sends H.264; use a player or browser whose WebRTC receives H.264";
        return result;
    }
    const H264Format* best = nullptr;
    for (const auto& [payload, format] : h264) {
        if (!best || preference(format) > preference(*best)) best = &format;
    }
    if (preference(*best) == 0) {
        result.error = "the offer's H.264 allows only packetization-mode=0 (single NAL units); slipstream sends "
                       "packetization-mode=1: offer that too";
        return result;
    }
    result.format = *best;
    return result;
}

std::string with_candidates(const std::string& sdp, const std::vector<std::pair<unsigned, std::string>>& candidates) {
    // The session part, then one list of lines per media section.
    std::vector<std::vector<std::string>> parts(1);
    for (const std::string& line : sdp_lines(sdp)) {
        if (starts_with(line, "m=")) parts.emplace_back();
        if (line != "a=end-of-candidates") parts.back().push_back(line);  // it goes last, below
    }
    for (const auto& [index, candidate] : candidates) {
        if (index + 1 >= parts.size()) continue;
        auto& section = parts[index + 1];
        const std::string line = "a=" + (starts_with(candidate, "a=") ? candidate.substr(2) : candidate);
        if (std::find(section.begin(), section.end(), line) == section.end()) section.push_back(line);
    }
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        for (const auto& line : parts[i]) out += line + "\r\n";
        if (i > 0) out += "a=end-of-candidates\r\n";
    }
    return out;
}

std::string with_profile(const std::string& sdp, const H264Format& format) {
    if (format.profile_level_id.empty()) return sdp;
    const std::string fmtp = "a=fmtp:" + std::to_string(format.payload) + " ";
    std::string out;
    for (const std::string& line : sdp_lines(sdp)) {
        if (starts_with(line, fmtp) && line.find("profile-level-id=") == std::string::npos) {
            out += line + ";profile-level-id=" + format.profile_level_id + "\r\n";
        } else {
            out += line + "\r\n";
        }
    }
    return out;
}

std::string new_session_id() {
    static std::random_device device;
    static std::mt19937_64 generator(
        (static_cast<std::uint64_t>(device()) << 32) ^ device() ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    static const char* digits = "0123456789abcdef";
    std::string id;
    for (int half = 0; half < 2; ++half) {
        std::uint64_t bits = generator();
        for (int i = 0; i < 16; ++i, bits >>= 4) id += digits[bits & 15];
    }
    return id;
}

std::string session_id_in(const std::string& path, const std::string& prefix) {
    if (!starts_with(path, prefix + "/")) return {};
    const std::string id = path.substr(prefix.size() + 1);
    if (id.empty() || id.size() > 64) return {};
    for (char c : id) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return {};
    }
    return id;
}

Reap reap_decision(const SessionHealth& health, const ReapTimes& times) {
    if (health.failed) return Reap::failed;
    if (!health.connected) return health.age_s > times.connect_s ? Reap::never_connected : Reap::keep;
    // Connected but nothing heard yet: the first report is due within the silence time too.
    const double silent = health.silent_s >= 0 ? health.silent_s : health.age_s;
    return silent > times.silence_s ? Reap::went_silent : Reap::keep;
}

const char* reap_reason(Reap reap) {
    switch (reap) {
        case Reap::failed: return "ICE/DTLS connection failed or closed";
        case Reap::never_connected: return "never connected";
        case Reap::went_silent: return "no RTCP from the viewer";
        case Reap::keep: break;
    }
    return "kept";
}

}  // namespace slipstream::whep
