// Track events (core): one camera's new / update / end, the feed that runs
// them for every camera and tells each listener, and the bounded log of recent
// events with rising sequence numbers that the HTTP API reads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "slipstream/recent_track_events.hpp"
#include "slipstream/track_event_feed.hpp"
#include "slipstream/track_events.hpp"
#include "tracked_objects.hpp"

using namespace ss;

namespace {

using sstest::has;
using sstest::object;
using sstest::person_and_car;

// An event of track `track` on camera "cam", for the log tests.
TrackEvent started(std::int64_t track) {
    TrackEvent e{TrackEventType::started, std::nullopt, {}};
    e.after.camera_id = "cam";
    e.after.track_id = track;
    return e;
}

}  // namespace

TEST(TrackEvents, NewOnceThenEndAfterItIsGone) {
    const auto config = person_and_car();
    TrackEvents events("0", {5.0, 1.0});
    Detection untracked = object(-1, 0);
    auto e = events.frame(1, {object(7, 0, 0.6f), untracked}, config, 100.0);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].type, TrackEventType::started);
    EXPECT_FALSE(e[0].before);
    EXPECT_EQ(e[0].after.track_id, 7);
    EXPECT_EQ(e[0].after.camera_id, "0");
    EXPECT_EQ(e[0].after.label, "person");
    EXPECT_EQ(e[0].after.group, "Person");
    EXPECT_DOUBLE_EQ(e[0].after.first_seen, 100.0);

    EXPECT_TRUE(events.frame(2, {object(7, 0, 0.9f, 12)}, config, 100.5).empty());
    // A predicted box keeps the confidence of the detection it follows.
    EXPECT_TRUE(events.frame(3, {object(7, 0, 0.3f, 14, true)}, config, 101.0).empty());
    EXPECT_TRUE(events.tick(105.9).empty());  // 4.9 s unseen
    e = events.tick(106.0);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].type, TrackEventType::ended);
    ASSERT_TRUE(e[0].before);
    EXPECT_TRUE(e[0].after.ended);
    EXPECT_DOUBLE_EQ(e[0].after.first_seen, 100.0);
    EXPECT_DOUBLE_EQ(e[0].after.last_seen, 101.0);
    EXPECT_EQ(e[0].after.frame, 3u);
    EXPECT_FLOAT_EQ(e[0].after.confidence, 0.9f);
    EXPECT_FLOAT_EQ(e[0].after.top_confidence, 0.9f);
    EXPECT_FLOAT_EQ(e[0].after.box.left, 14);
    EXPECT_EQ(events.open_tracks(), 0u);

    // Seen again after its end: a new event (the consumer closed it).
    e = events.frame(9, {object(7, 0)}, config, 120.0);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].type, TrackEventType::started);
}

TEST(TrackEvents, GroupChangeIsAnUpdateAtMostOncePerInterval) {
    const auto config = person_and_car();
    TrackEvents events("cam", {5.0, 1.0});
    events.frame(1, {object(3, 0)}, config, 10.0);
    // Changed within the interval after new: held back...
    EXPECT_TRUE(events.frame(2, {object(3, 1)}, config, 10.4).empty());
    // ...and sent when the interval has passed, even without a frame.
    auto e = events.tick(11.0);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].type, TrackEventType::updated);
    EXPECT_EQ(e[0].before->group, "Person");
    EXPECT_EQ(e[0].after.group, "Vehicle");
    EXPECT_EQ(e[0].after.label, "car");
    // Flapping back and forth within the interval: one update for the net change, none when it came back.
    EXPECT_TRUE(events.frame(3, {object(3, 0)}, config, 11.2).empty());
    EXPECT_TRUE(events.frame(4, {object(3, 1)}, config, 11.4).empty());
    EXPECT_TRUE(events.tick(12.1).empty());
    // A class in no group, more than the interval after the last update: told at once.
    e = events.frame(5, {object(3, 2)}, config, 12.5);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].after.group, "");
    EXPECT_TRUE(has(event_json(e[0]), "\"group\":null"));
}

TEST(TrackEvents, EndAllEndsEveryTrack) {
    const auto config = person_and_car();
    TrackEvents events("0");
    events.frame(1, {object(1, 0), object(2, 1)}, config, 1.0);
    const auto e = events.end_all();
    ASSERT_EQ(e.size(), 2u);
    for (const auto& x : e) EXPECT_EQ(x.type, TrackEventType::ended);
    EXPECT_EQ(events.open_tracks(), 0u);
    EXPECT_TRUE(events.tick(100).empty());
}

TEST(TrackEvents, JsonCarriesEveryField) {
    const auto config = person_and_car();
    TrackEvents events("2");
    const auto e = events.frame(42, {object(12, 0, 0.71f, 614.8f)}, config, 1733100000.25);
    ASSERT_EQ(e.size(), 1u);
    const std::string json = event_json(e[0]);
    EXPECT_EQ(json.rfind("{\"type\":\"new\",\"before\":null,\"after\":{", 0), 0u) << json;
    for (const char* field : {"\"id\":\"2-12\"", "\"camera_id\":\"2\"", "\"track_id\":12", "\"class_id\":0", "\"label\":\"person\"",
                              "\"group\":\"Person\"", "\"confidence\":0.7100", "\"top_confidence\":0.7100",
                              "\"box\":[614.8,20.0,30.0,60.0]", "\"first_seen\":1733100000.250", "\"last_seen\":1733100000.250",
                              "\"frame\":42", "\"ended\":false"}) {
        EXPECT_TRUE(has(json, field)) << field << " in " << json;
    }
}


TEST(TrackEventFeed, TellsEveryListenerInOrderPerCameraAndName) {
    const auto config = person_and_car();
    TrackEventFeed feed({5.0, 1.0});
    std::vector<std::string> first, second;
    feed.listen([&](const TrackEvent& e) { first.push_back(std::string(event_type_name(e.type)) + " " + e.after.camera_id + "-" + std::to_string(e.after.track_id)); });
    feed.listen([&](const TrackEvent& e) { second.push_back(e.after.camera_id); });

    feed.name_camera("3", "front door");
    feed.frame("0", 1, {object(1, 0), object(2, 1)}, config, 10.0);
    feed.frame("3", 1, {object(1, 0)}, config, 11.0);  // same track id, another camera: its own track
    feed.frame("0", 2, {object(1, 0)}, config, 12.0);
    feed.tick(15.5);  // track 2 of camera 0 unseen since 10.0
    EXPECT_EQ(first, (std::vector<std::string>{"new 0-1", "new 0-2", "new front door-1", "end 0-2"}));
    EXPECT_EQ(second.size(), first.size());

    // A camera that leaves: its tracks end; late frames of its source bring nothing back.
    first.clear();
    feed.camera_gone("3");
    feed.frame("3", 2, {object(1, 0)}, config, 16.0);
    EXPECT_EQ(first, (std::vector<std::string>{"end front door-1"}));

    first.clear();
    feed.finish();
    EXPECT_EQ(first, (std::vector<std::string>{"end 0-1"}));
}

TEST(RecentTrackEvents, NumbersRiseFromOneAndTheLogIsBounded) {
    RecentTrackEvents log(3);
    EXPECT_EQ(log.capacity(), 3u);
    auto page = log.read(std::nullopt, 10);
    EXPECT_TRUE(page.events.empty());
    EXPECT_EQ(page.latest, 0u);
    EXPECT_EQ(page.oldest, 0u);
    EXPECT_FALSE(page.more);

    for (int i = 1; i <= 5; ++i) EXPECT_EQ(log.add(started(i), 100.0 + i), static_cast<std::uint64_t>(i));
    page = log.read(std::nullopt, 10);
    ASSERT_EQ(page.events.size(), 3u);  // the two oldest went
    EXPECT_EQ(page.latest, 5u);
    EXPECT_EQ(page.oldest, 3u);
    EXPECT_FALSE(page.more);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(page.events[i].seq, 3 + i);
        EXPECT_EQ(page.events[i].event.after.track_id, static_cast<std::int64_t>(3 + i));
        EXPECT_DOUBLE_EQ(page.events[i].time, 103.0 + static_cast<double>(i));
    }
}

TEST(RecentTrackEvents, AfterAndLimit) {
    RecentTrackEvents log(200);
    for (int i = 1; i <= 10; ++i) log.add(started(i), i);

    // Without after: the newest `limit`, oldest first; nothing newer follows them.
    auto page = log.read(std::nullopt, 4);
    ASSERT_EQ(page.events.size(), 4u);
    EXPECT_EQ(page.events.front().seq, 7u);
    EXPECT_EQ(page.events.back().seq, 10u);
    EXPECT_FALSE(page.more);

    // With after: the ones following it, at most `limit`, and whether more follow.
    page = log.read(2, 3);
    ASSERT_EQ(page.events.size(), 3u);
    EXPECT_EQ(page.events.front().seq, 3u);
    EXPECT_EQ(page.events.back().seq, 5u);
    EXPECT_TRUE(page.more);
    page = log.read(page.events.back().seq, 50);
    ASSERT_EQ(page.events.size(), 5u);
    EXPECT_EQ(page.events.front().seq, 6u);
    EXPECT_FALSE(page.more);
    EXPECT_EQ(page.latest, 10u);

    // Up to date, or ahead (a client of an earlier run): nothing, and the latest number to compare.
    EXPECT_TRUE(log.read(10, 50).events.empty());
    page = log.read(999, 50);
    EXPECT_TRUE(page.events.empty());
    EXPECT_EQ(page.latest, 10u);
    // after=0: from the oldest kept.
    EXPECT_EQ(log.read(0, 50).events.size(), 10u);
}

TEST(RecentTrackEvents, AfterEventsThatFellOutStartsAtTheOldestKept) {
    RecentTrackEvents log(4);
    for (int i = 1; i <= 9; ++i) log.add(started(i), i);
    const auto page = log.read(2, 50);  // 3..5 fell out
    ASSERT_EQ(page.events.size(), 4u);
    EXPECT_EQ(page.events.front().seq, 6u);
    EXPECT_EQ(page.oldest, 6u);
}

TEST(RecentTrackEvents, JsonIsTheEventWithItsNumberAndTime) {
    const auto config = person_and_car();
    TrackEvents camera("door");
    const auto events = camera.frame(7, {object(4, 1, 0.65f)}, config, 1733100000.5);
    ASSERT_EQ(events.size(), 1u);
    RecentTrackEvents log;
    log.add(events[0], 1733100000.5);
    const auto page = log.read(std::nullopt, 50);
    ASSERT_EQ(page.events.size(), 1u);
    const std::string json = recent_event_json(page.events[0]);
    EXPECT_EQ(json.rfind("{\"seq\":1,\"time\":1733100000.500,\"type\":\"new\",\"before\":null,\"after\":{", 0), 0u) << json;
    EXPECT_TRUE(has(json, "\"camera_id\":\"door\"")) << json;
    EXPECT_TRUE(has(json, "\"label\":\"car\"")) << json;
    EXPECT_EQ(json.back(), '}');
    EXPECT_EQ(json.substr(json.find("\"type\"")), event_json(events[0]).substr(1));
}
