// The MQTT side that needs no broker: the --mqtt URL, topic names, the bounded
// queue, and what MqttReport sends for a run of frames with the track events
// core's TrackEventFeed tells it (the events themselves: test_track_events.cpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mqtt/message_queue.hpp"
#include "mqtt/mqtt_report.hpp"
#include "mqtt/mqtt_url.hpp"
#include "mqtt/topics.hpp"
#include "slipstream/track_event_feed.hpp"
#include "tracked_objects.hpp"

using namespace slipstream::mqtt;

namespace {

using sstest::has;
using sstest::object;
using sstest::person_and_car;

// MqttReport wired to a TrackEventFeed as the program wires them: the feed
// sees each frame first and tells its events to the report, then the report
// counts the frame. Same calls as the report had when it made events itself.
struct ReportWithEvents {
    struct Settings {
        std::string prefix;
        bool frames = false;
        ss::TrackEventSettings events;
    };
    ss::TrackEventFeed feed;
    MqttReport report;
    ReportWithEvents(Settings settings, MqttReport::Send send)
        : feed(settings.events), report({settings.prefix, settings.frames}, std::move(send)) {
        feed.listen([this](const ss::TrackEvent& event) { report.track_event(event); });
    }
    void name_camera(const std::string& source, const std::string& camera_id) {
        feed.name_camera(source, camera_id);
        report.name_camera(source, camera_id);
    }
    void frame(const std::string& source, std::uint64_t number, const ss::Detections& objects, const ss::InferConfig& config,
               double now, const std::string& frame_json = {}) {
        feed.frame(source, number, objects, config, now);
        report.frame(source, objects, config, frame_json);
    }
    void tick(double now) { feed.tick(now); }
    void camera_gone(const std::string& source) {
        feed.camera_gone(source);
        report.camera_gone(source);
    }
    void finish() { feed.finish(); }
    void resend_counts() { report.resend_counts(); }
    bool wants_frames() const { return report.wants_frames(); }
};

}  // namespace

TEST(MqttUrl, ReadsHostPortAndLogin) {
    auto a = parse_broker_url("mqtt://broker.lan:1884");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "broker.lan");
    EXPECT_EQ(a->port, 1884);
    EXPECT_TRUE(a->user.empty());
    EXPECT_EQ(a->masked(), "mqtt://broker.lan:1884");

    a = parse_broker_url("mqtt://cam%40site:p%3Aa%40ss@10.0.0.2:1883/");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->user, "cam@site");
    EXPECT_EQ(a->password, "p:a@ss");
    EXPECT_EQ(a->host, "10.0.0.2");
    EXPECT_EQ(a->masked(), "mqtt://***@10.0.0.2:1883");

    a = parse_broker_url("mqtt://localhost");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->port, 1883);

    a = parse_broker_url("mqtt://[::1]:1999");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "::1");
    EXPECT_EQ(a->port, 1999);
    EXPECT_EQ(a->masked(), "mqtt://[::1]:1999");
}

TEST(MqttUrl, RefusesOtherShapesAndSaysWhy) {
    for (const char* bad : {"", "broker:1883", "http://broker", "mqtts://broker", "mqtt://", "mqtt://:1883", "mqtt://host:",
                            "mqtt://host:0", "mqtt://host:65536", "mqtt://host:12x", "mqtt://host/topic", "mqtt://u:p@",
                            "mqtt://:pw@host", "mqtt://u:p%4@host", "mqtt://[::1"}) {
        std::string why;
        EXPECT_FALSE(parse_broker_url(bad, &why)) << bad;
        EXPECT_FALSE(why.empty()) << bad;
    }
    std::string why;
    parse_broker_url("mqtt://user:secret@host:x", &why);
    EXPECT_FALSE(has(why, "secret"));
}

TEST(MqttTopics, NamesAndLevels) {
    Topics t{"site/a"};
    EXPECT_EQ(t.available(), "site/a/available");
    EXPECT_EQ(t.events(), "site/a/events");
    EXPECT_EQ(t.count("0", "Person"), "site/a/0/person");
    EXPECT_EQ(t.count("door cam", "Two/Wheel+#"), "site/a/door_cam/two_wheel__");
    EXPECT_EQ(t.frames("3"), "site/a/3/frames");
    EXPECT_EQ(topic_level(""), "_");
}

TEST(MqttTopics, PrefixMustBeUsableTopicText) {
    EXPECT_TRUE(valid_prefix("slipstream"));
    EXPECT_TRUE(valid_prefix("site1/slipstream"));
    for (const char* bad : {"", "a/+", "#", "$SYS", "/a", "a/", "a//b", "a\nb"}) {
        std::string why;
        EXPECT_FALSE(valid_prefix(bad, &why)) << bad;
        EXPECT_FALSE(why.empty());
    }
}

TEST(MqttQueue, BoundedByCountDroppingNewEvents) {
    MessageQueue q(3, 1 << 20);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(q.push({"e", std::to_string(i), 1, false}), 0u);
    EXPECT_EQ(q.push({"e", "3", 1, false}), 1u);  // itself
    EXPECT_EQ(q.size(), 3u);
    EXPECT_EQ(q.pop().payload, "0");
    EXPECT_EQ(q.pop().payload, "1");
    EXPECT_EQ(q.pop().payload, "2");
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(MqttQueue, BoundedByBytes) {
    MessageQueue q(100, 10);
    EXPECT_EQ(q.push({"t", "12345678", 0, false}), 0u);  // 9 bytes
    EXPECT_EQ(q.push({"t", "12", 0, false}), 1u);
    EXPECT_EQ(q.bytes(), 9u);
    // Too big for an empty queue too: dropped, never stuck.
    MessageQueue small(100, 4);
    EXPECT_EQ(small.push({"t", "12345678", 0, false}), 1u);
    EXPECT_TRUE(small.empty());
}

TEST(MqttQueue, StateReplacesItsOlderSelfAndOutranksEvents) {
    MessageQueue q(3, 1 << 20);
    EXPECT_EQ(q.push({"p/0/person", "1", 1, true}), 0u);
    EXPECT_EQ(q.push({"p/events", "a", 1, false}), 0u);
    EXPECT_EQ(q.push({"p/events", "b", 1, false}), 0u);
    EXPECT_EQ(q.push({"p/0/person", "2", 1, true}), 0u);  // replaces "1": no growth
    EXPECT_EQ(q.size(), 3u);
    EXPECT_EQ(q.push({"p/0/vehicle", "5", 1, true}), 1u);  // the oldest event makes room
    ASSERT_EQ(q.size(), 3u);
    // Publishing order: "2" came after "b", so it goes after it (never ahead of what preceded it).
    EXPECT_EQ(q.pop().payload, "b");
    Message m = q.pop();
    EXPECT_EQ(m.topic, "p/0/person");
    EXPECT_EQ(m.payload, "2");
    EXPECT_EQ(q.pop().topic, "p/0/vehicle");
    q.push_front({"x", "y", 0, false});
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.bytes(), 2u);
}

TEST(MqttReport, CountsWhenTheyChangeEventsAndFrames) {
    const auto config = person_and_car();
    std::vector<Message> sent;
    ReportWithEvents report({"ss", true, {5.0, 1.0}}, [&](Message m) { sent.push_back(std::move(m)); });

    report.frame("0", 1, {object(1, 0), object(2, 0)}, config, 50.0, "{\"frame\":1}");
    // new x2, then every group's count (retained), then the frame line.
    ASSERT_EQ(sent.size(), 5u);
    EXPECT_EQ(sent[0].topic, "ss/events");
    EXPECT_EQ(sent[0].qos, 1);
    EXPECT_FALSE(sent[0].retain);
    EXPECT_EQ(sent[2].topic, "ss/0/person");
    EXPECT_EQ(sent[2].payload, "2");
    EXPECT_TRUE(sent[2].retain);
    EXPECT_EQ(sent[3].topic, "ss/0/vehicle");
    EXPECT_EQ(sent[3].payload, "0");
    EXPECT_EQ(sent[4].topic, "ss/0/frames");
    EXPECT_EQ(sent[4].payload, "{\"frame\":1}");
    EXPECT_FALSE(sent[4].retain);

    sent.clear();
    report.frame("0", 2, {object(1, 0), object(2, 0)}, config, 50.1, "{\"frame\":2}");
    ASSERT_EQ(sent.size(), 1u);  // the same counts: only the line
    EXPECT_EQ(sent[0].topic, "ss/0/frames");

    sent.clear();
    report.frame("0", 3, {object(1, 0), object(5, 1)}, config, 50.2, "");
    ASSERT_EQ(sent.size(), 3u);  // new car; person 1, vehicle 1; no line given
    EXPECT_EQ(sent[1].topic, "ss/0/person");
    EXPECT_EQ(sent[1].payload, "1");
    EXPECT_EQ(sent[2].topic, "ss/0/vehicle");
    EXPECT_EQ(sent[2].payload, "1");

    sent.clear();
    report.tick(55.15);  // track 2 unseen since 50.1
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_TRUE(has(sent[0].payload, "\"type\":\"end\"")) << sent[0].payload;
    EXPECT_TRUE(has(sent[0].payload, "\"track_id\":2"));

    // Another camera counts for itself.
    sent.clear();
    report.frame("1", 1, {}, config, 55.2, "");
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].topic, "ss/1/person");
    EXPECT_EQ(sent[0].payload, "0");

    // A camera that leaves: its tracks end and its retained counts are cleared.
    sent.clear();
    report.camera_gone("0");
    ASSERT_EQ(sent.size(), 4u);
    EXPECT_EQ(sent[2].topic, "ss/0/person");
    EXPECT_TRUE(sent[2].payload.empty());
    EXPECT_TRUE(sent[2].retain);

    sent.clear();
    report.frame("1", 2, {object(9, 1)}, config, 56.0, "");
    sent.clear();
    report.finish();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_TRUE(has(sent[0].payload, "\"type\":\"end\""));
}

TEST(MqttReport, NoFrameLinesUnlessAsked) {
    const auto config = person_and_car();
    std::vector<Message> sent;
    ReportWithEvents report({"slipstream", false, {}}, [&](Message m) { sent.push_back(std::move(m)); });
    EXPECT_FALSE(report.wants_frames());
    report.frame("0", 1, {}, config, 1.0, "{\"frame\":1}");
    for (const auto& m : sent) EXPECT_NE(m.topic, "slipstream/0/frames");
}

TEST(MqttReport, ResendsCurrentCountsOnRequest) {
    const auto config = person_and_car();
    std::vector<Message> sent;
    ReportWithEvents report({"p", false, {}}, [&](Message m) { sent.push_back(std::move(m)); });
    report.resend_counts();
    EXPECT_TRUE(sent.empty());  // nothing counted yet
    report.frame("4", 1, {object(1, 1)}, config, 1.0);
    sent.clear();
    report.resend_counts();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].topic, "p/4/person");
    EXPECT_EQ(sent[0].payload, "0");
    EXPECT_EQ(sent[1].topic, "p/4/vehicle");
    EXPECT_EQ(sent[1].payload, "1");
    EXPECT_TRUE(sent[1].retain);
}

TEST(MqttReport, CamerasAddedThroughTheApiGoByTheirId) {
    const auto config = person_and_car();
    std::vector<Message> sent;
    ReportWithEvents report({"p", false, {}}, [&](Message m) { sent.push_back(std::move(m)); });
    report.name_camera("5", "front door");
    report.frame("5", 1, {object(3, 0)}, config, 1.0);
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_TRUE(has(sent[0].payload, "\"camera_id\":\"front door\"")) << sent[0].payload;
    EXPECT_TRUE(has(sent[0].payload, "\"id\":\"front door-3\""));
    EXPECT_EQ(sent[1].topic, "p/front_door/person");

    sent.clear();
    report.camera_gone("5");
    ASSERT_EQ(sent.size(), 3u);  // the end, then both counts cleared
    EXPECT_TRUE(has(sent[0].payload, "\"type\":\"end\""));
    EXPECT_EQ(sent[1].topic, "p/front_door/person");
    EXPECT_TRUE(sent[1].payload.empty());

    // A frame of the removed source still on its way: nothing comes back to life.
    sent.clear();
    report.frame("5", 2, {object(3, 0)}, config, 2.0);
    report.tick(20.0);
    EXPECT_TRUE(sent.empty());
}
