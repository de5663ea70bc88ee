// Text the user or other programs read: counts lines, masked URIs, JSON.
#include <gtest/gtest.h>

#include "slipstream/config.hpp"
#include "slipstream/counts.hpp"
#include "slipstream/json.hpp"
#include "slipstream/uri.hpp"

namespace {

// The default config's groups over a 5-class label set.
ss::ClassGroups default_groups() {
    ss::ClassGroups g;
    g.names = {"Vehicle", "Cycle", "Person", "Sign"};
    g.group_of_class = {2, 1, 0, -1, 3};  // person, bicycle, car, kite, stop sign
    return g;
}

ss::Detection object(int class_id, const ss::ClassGroups& groups) {
    ss::Detection d;
    d.class_id = class_id;
    d.group = groups.group_of(class_id);
    return d;
}

}  // namespace

TEST(Counts, TextAsTheOriginal) {
    const auto groups = default_groups();
    const ss::Detections objects = {object(0, groups), object(2, groups), object(0, groups)};
    const auto counts = ss::count_groups(objects, groups);
    EXPECT_EQ(counts.objects, 3);
    EXPECT_EQ(counts.per_group, (std::vector<int>{1, 0, 2, 0}));
    EXPECT_EQ(ss::counts_text(counts, groups), "Objects=3 Vehicles=1 Cycles=0 Persons=2 Signs=0");
}

TEST(Counts, TheFrameLineOfStdoutAndTheTiles) {
    const auto groups = default_groups();
    const ss::Detections objects = {object(0, groups), object(2, groups), object(0, groups)};
    EXPECT_EQ(ss::frame_line(3, 12, objects, groups), "Stream=3 Frame=12 Objects=3 Vehicles=1 Cycles=0 Persons=2 Signs=0");
}

TEST(Counts, ObjectsOutsideGroupsCountOnlyAsObjects) {
    const auto groups = default_groups();
    const auto counts = ss::count_groups({object(3, groups), object(4, groups), object(99, groups)}, groups);
    EXPECT_EQ(ss::counts_text(counts, groups), "Objects=3 Vehicles=0 Cycles=0 Persons=0 Signs=1");
    EXPECT_EQ(ss::counts_text(ss::count_groups({}, groups), groups), "Objects=0 Vehicles=0 Cycles=0 Persons=0 Signs=0");
    EXPECT_EQ(ss::counts_text(ss::count_groups({}, {}), {}), "Objects=0");
}

TEST(Counts, Plural) {
    EXPECT_EQ(ss::plural("Person"), "Persons");
    EXPECT_EQ(ss::plural("Bus"), "Bus");
    EXPECT_EQ(ss::plural("SIGNS"), "SIGNS");
    EXPECT_EQ(ss::plural(""), "");
}

TEST(Uri, MasksCredentials) {
    EXPECT_EQ(ss::mask_credentials("rtsp://u:p@h/x"), "rtsp://***@h/x");
    EXPECT_EQ(ss::mask_credentials("rtsp://admin@cam.local:554/live?x=1"), "rtsp://***@cam.local:554/live?x=1");
    // The last '@' of the authority ends the credentials, so an '@' in a password is masked too.
    EXPECT_EQ(ss::mask_credentials("rtsp://user:p@ss@10.0.0.2/stream"), "rtsp://***@10.0.0.2/stream");
    // An '@' in the path is not a credential.
    EXPECT_EQ(ss::mask_credentials("http://host/a@b"), "http://host/a@b");
    EXPECT_EQ(ss::mask_credentials("rtsp://cam/stream"), "rtsp://cam/stream");
    EXPECT_EQ(ss::mask_credentials("file:///videos/a.mp4"), "file:///videos/a.mp4");
    EXPECT_EQ(ss::mask_credentials("rtsp://u:p@h"), "rtsp://***@h");
    EXPECT_EQ(ss::mask_credentials(""), "");
}

TEST(Uri, MasksEveryUriInText) {
    EXPECT_EQ(ss::mask_credentials_in_text("could not open \"rtsp://a:b@cam1/x\": 401; retrying rtsp://c:d@cam2:8554/y "
                                           "and http://cam3/z (mail admin@example.com)"),
              "could not open \"rtsp://***@cam1/x\": 401; retrying rtsp://***@cam2:8554/y "
              "and http://cam3/z (mail admin@example.com)");
    EXPECT_EQ(ss::mask_credentials_in_text("<rtsp://u:p@h>\n(rtsp://v:q@g)"), "<rtsp://***@h>\n(rtsp://***@g)");
    EXPECT_EQ(ss::mask_credentials_in_text("no uri here"), "no uri here");
    EXPECT_EQ(ss::mask_credentials_in_text("dangling ://"), "dangling ://");
}

TEST(Json, EscapesStrings) {
    std::string out;
    ss::append_json_string(out, "a\"b\\c\nd\re\tf");
    EXPECT_EQ(out, R"("a\"b\\c\nd\re\tf")");
    out.clear();
    ss::append_json_string(out, std::string_view("\x01\x1f\0x", 4));
    EXPECT_EQ(out, R"("\u0001\u001f\u0000x")");
    out.clear();
    ss::append_json_string(out, "Fußgänger / ok");  // UTF-8 and '/' pass through
    EXPECT_EQ(out, "\"Fußgänger / ok\"");
}

TEST(Json, Detection) {
    ss::InferConfig config;
    config.labels = {"person", "say \"hi\""};
    config.groups = default_groups();
    ss::Detection d;
    d.class_id = 0;
    d.group = 2;
    d.confidence = 0.87654f;
    d.box = {1.3f, 2.f, 30.f, 40.5f};
    std::string out;
    ss::append_detection_json(out, d, config);
    EXPECT_EQ(out, R"({"class_id":0,"label":"person","group":"Person","confidence":0.8765,"bbox":[1.3,2.0,30.0,40.5]})");

    d.class_id = 1;
    d.group = -1;
    d.track_id = 12;
    d.predicted = true;
    out.clear();
    ss::append_detection_json(out, d, config);
    EXPECT_EQ(out, R"({"class_id":1,"label":"say \"hi\"","group":null,"confidence":0.8765,"bbox":[1.3,2.0,30.0,40.5],)"
                   R"("track_id":12,"predicted":true})");
}
