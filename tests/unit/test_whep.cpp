// The WHEP live view's pure parts: offer checks, the answer's candidates,
// session ids and when a session is given up.
#include <gtest/gtest.h>

#include <set>

#include "whep.hpp"

using namespace slipstream::whep;

namespace {

// The video part of a Chromium recvonly offer, shortened.
const std::string chromium_offer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 108 116\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\n"
    "a=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:116 H264/90000\r\n"
    "a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
    return text;
}

}  // namespace

TEST(WhepOffer, ChromiumOfferGetsAConstrainedBaselineModeOneFormat) {
    const OfferCheck check = check_offer(chromium_offer);
    ASSERT_EQ(check.error, "");
    EXPECT_EQ(check.format.packetization_mode, 1);
    EXPECT_EQ(check.format.profile_level_id.substr(0, 2), "42");
    EXPECT_TRUE(check.format.payload == 102 || check.format.payload == 108) << check.format.payload;
}

TEST(WhepOffer, UnixLineEndsAndUpperCaseWork) {
    const OfferCheck check = check_offer(replaced(replaced(chromium_offer, "\r\n", "\n"), "H264", "h264"));
    EXPECT_EQ(check.error, "");
    EXPECT_EQ(check.format.packetization_mode, 1);
}

TEST(WhepOffer, MainProfileOnlyIsTakenWhenNothingElse) {
    const std::string offer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 116\r\na=recvonly\r\na=rtpmap:116 H264/90000\r\n"
                              "a=fmtp:116 packetization-mode=1;profile-level-id=4d001f\r\n";
    const OfferCheck check = check_offer(offer);
    EXPECT_EQ(check.error, "");
    EXPECT_EQ(check.format.payload, 116);
}

TEST(WhepOffer, NotSdpIsRefusedSayingWhatToSend) {
    const OfferCheck check = check_offer("{\"offer\": 1}");
    EXPECT_NE(check.error.find("v=0"), std::string::npos) << check.error;
    EXPECT_NE(check.error.find("application/sdp"), std::string::npos) << check.error;
    EXPECT_NE(check_offer("").error, "");
}

TEST(WhepOffer, AudioOnlyOfferNamesTheMissingVideo) {
    const OfferCheck check = check_offer("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n");
    EXPECT_NE(check.error.find("no video"), std::string::npos) << check.error;
    EXPECT_NE(check.error.find("recvonly"), std::string::npos) << check.error;
}

TEST(WhepOffer, WithoutH264SaysWhatWasOffered) {
    const OfferCheck check = check_offer("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97 98\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n"
                                         "a=rtpmap:97 rtx/90000\r\na=rtpmap:98 VP9/90000\r\n");
    EXPECT_NE(check.error.find("no H.264"), std::string::npos) << check.error;
    EXPECT_NE(check.error.find("VP8, VP9"), std::string::npos) << check.error;
}

TEST(WhepOffer, SendOnlyVideoIsRefused) {
    const OfferCheck check = check_offer(replaced(chromium_offer, "a=recvonly", "a=sendonly"));
    EXPECT_NE(check.error.find("sendonly"), std::string::npos) << check.error;
}

TEST(WhepOffer, PayloadTypesBeyondSevenBitsAreNotTaken) {
    for (const char* payload : {"300", "-5", "128"}) {
        const std::string p = payload;
        const std::string offer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF " + p + "\r\na=recvonly\r\na=rtpmap:" + p +
                                  " H264/90000\r\na=fmtp:" + p + " packetization-mode=1;profile-level-id=42e01f\r\n";
        EXPECT_NE(check_offer(offer).error, "") << "payload " << p;
    }
}

TEST(WhepOffer, OnlyPacketizationModeZeroIsRefused) {
    const std::string offer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 104\r\na=recvonly\r\na=rtpmap:104 H264/90000\r\n"
                              "a=fmtp:104 packetization-mode=0;profile-level-id=42e01f\r\n";
    EXPECT_NE(check_offer(offer).error.find("packetization-mode=1"), std::string::npos);
}

TEST(WhepOffer, TheFirstVideoSectionCounts) {
    const std::string offer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
                              "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=recvonly\r\na=rtpmap:102 H264/90000\r\n"
                              "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r\n"
                              "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n";
    const OfferCheck check = check_offer(offer);
    EXPECT_EQ(check.error, "");
    EXPECT_EQ(check.format.payload, 102);
}

TEST(WhepAnswer, CandidatesGoIntoTheirSectionFollowedByEndOfCandidates) {
    const std::string answer = "v=0\r\ns=-\r\nm=audio 9 UDP 0\r\na=mid:0\r\nm=video 9 UDP 96\r\na=mid:1\r\n";
    const std::string out = with_candidates(answer, {{1, "candidate:1 1 UDP 2015363327 192.0.2.2 41000 typ host"},
                                                     {0, "candidate:2 1 UDP 2015363327 192.0.2.2 41002 typ host"}});
    EXPECT_EQ(out,
              "v=0\r\ns=-\r\nm=audio 9 UDP 0\r\na=mid:0\r\n"
              "a=candidate:2 1 UDP 2015363327 192.0.2.2 41002 typ host\r\na=end-of-candidates\r\n"
              "m=video 9 UDP 96\r\na=mid:1\r\n"
              "a=candidate:1 1 UDP 2015363327 192.0.2.2 41000 typ host\r\na=end-of-candidates\r\n");
}

TEST(WhepAnswer, CandidatesAlreadyThereAreNotRepeated) {
    const std::string answer = "v=0\r\nm=video 9 UDP 96\r\na=candidate:1 1 UDP 5 192.0.2.2 41000 typ host\r\na=end-of-candidates\r\n";
    const std::string out = with_candidates(answer, {{0, "candidate:1 1 UDP 5 192.0.2.2 41000 typ host"},
                                                     {0, "candidate:1 1 UDP 5 192.0.2.2 41000 typ host"},
                                                     {7, "candidate:9 1 UDP 5 192.0.2.9 1 typ host"}});
    EXPECT_EQ(out, "v=0\r\nm=video 9 UDP 96\r\na=candidate:1 1 UDP 5 192.0.2.2 41000 typ host\r\na=end-of-candidates\r\n");
}

TEST(WhepAnswer, ProfileOfTheOfferGoesOnTheFormatsFmtpLine) {
    H264Format format;
    format.payload = 108;
    format.packetization_mode = 1;
    format.profile_level_id = "42e01f";
    const std::string answer = "v=0\r\nm=video 9 UDP 108\r\na=rtpmap:108 H264/90000\r\n"
                               "a=fmtp:108 packetization-mode=1;level-asymmetry-allowed=1\r\na=fmtp:1080 x=1\r\n";
    EXPECT_EQ(with_profile(answer, format),
              "v=0\r\nm=video 9 UDP 108\r\na=rtpmap:108 H264/90000\r\n"
              "a=fmtp:108 packetization-mode=1;level-asymmetry-allowed=1;profile-level-id=42e01f\r\na=fmtp:1080 x=1\r\n");
    // Already named: left alone.
    const std::string named = "v=0\r\na=fmtp:108 profile-level-id=42001f\r\n";
    EXPECT_EQ(with_profile(named, format), named);
}

TEST(WhepSession, IdsAreLongHexAndDistinct) {
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = new_session_id();
        ASSERT_EQ(id.size(), 32u);
        ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 1000u);
}

TEST(WhepSession, IdFromResourcePath) {
    EXPECT_EQ(session_id_in("/api/v1/whep/0a1b", "/api/v1/whep"), "0a1b");
    EXPECT_EQ(session_id_in("/api/v1/whep", "/api/v1/whep"), "");
    EXPECT_EQ(session_id_in("/api/v1/whep/", "/api/v1/whep"), "");
    EXPECT_EQ(session_id_in("/api/v1/whepx/ab", "/api/v1/whep"), "");
    EXPECT_EQ(session_id_in("/api/v1/whep/a/b", "/api/v1/whep"), "");
    EXPECT_EQ(session_id_in("/api/v1/whep/..", "/api/v1/whep"), "");
}

TEST(WhepReap, FailedGoesAtOnce) {
    SessionHealth h;
    h.failed = true;
    EXPECT_EQ(reap_decision(h), Reap::failed);
}

TEST(WhepReap, UnconnectedSessionHasItsConnectTime) {
    SessionHealth h;
    h.age_s = 14;
    EXPECT_EQ(reap_decision(h), Reap::keep);
    h.age_s = 16;
    EXPECT_EQ(reap_decision(h), Reap::never_connected);
}

TEST(WhepReap, ConnectedViewerMustKeepReporting) {
    SessionHealth h;
    h.connected = true;
    h.age_s = 100;
    h.silent_s = 1;
    EXPECT_EQ(reap_decision(h), Reap::keep);
    h.silent_s = 11;
    EXPECT_EQ(reap_decision(h), Reap::went_silent);
    // Never heard from at all: counted from the offer.
    h.silent_s = -1;
    EXPECT_EQ(reap_decision(h), Reap::went_silent);
    h.age_s = 5;
    EXPECT_EQ(reap_decision(h), Reap::keep);
    EXPECT_EQ(reap_decision(h, ReapTimes{15, 3}), Reap::went_silent);
}
