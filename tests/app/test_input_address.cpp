#include <gtest/gtest.h>

#include "input_address.hpp"

using slipstream::parse_input_address;

TEST(InputAddress, RtspWithLoginIsMaskedAndProbedOnItsPort) {
    const auto a = parse_input_address("rtsp://admin:secret@10.0.0.7:8554/live");
    EXPECT_EQ(a.uri, "rtsp://admin:secret@10.0.0.7:8554/live");
    EXPECT_EQ(a.masked, "rtsp://***@10.0.0.7:8554/live");
    EXPECT_EQ(a.scheme, "rtsp");
    EXPECT_EQ(a.host, "10.0.0.7");
    EXPECT_EQ(a.port, 8554);
    EXPECT_TRUE(a.has_login);
    EXPECT_TRUE(a.network());
    EXPECT_EQ(a.where(), "10.0.0.7:8554");
}

TEST(InputAddress, SchemesHaveTheirDefaultPorts) {
    EXPECT_EQ(parse_input_address("rtsp://cam/stream").port, 554);
    EXPECT_EQ(parse_input_address("rtspt://cam/stream").port, 554);
    EXPECT_EQ(parse_input_address("rtsps://cam/stream").port, 322);
    EXPECT_EQ(parse_input_address("http://cam/video.mjpg").port, 80);
    EXPECT_EQ(parse_input_address("https://cam/video.mjpg").port, 443);
    EXPECT_FALSE(parse_input_address("rtsp://cam/stream").has_login);
}

TEST(InputAddress, APlainPathIsALocalFile) {
    const auto a = parse_input_address("/srv/video/a b.mp4");
    EXPECT_EQ(a.uri, "file:///srv/video/a%20b.mp4");
    EXPECT_EQ(a.scheme, "file");
    EXPECT_FALSE(a.network());
}

TEST(InputAddress, SchemesWithoutAHostToProbeAreNotNetworkInputs) {
    EXPECT_FALSE(parse_input_address("file:///srv/a.mp4").network());
    EXPECT_FALSE(parse_input_address("udp://0.0.0.0:5000").network());
}
