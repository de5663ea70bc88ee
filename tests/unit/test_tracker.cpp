// Trackers driven by synthetic scenes: ground-truth objects on known paths,
// turned into noisy detections (box noise, misses, occlusions, false
// positives) by a seeded generator. Each scene test states its bounds on
// ID switches, fragmentation and false tracks in its name or first comment.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "slipstream/error.hpp"
#include "slipstream/tracker.hpp"

namespace {

constexpr float pi = 3.14159265f;
const std::vector<unsigned> seeds = {1, 2, 3, 4, 5};

// ---------------------------------------------------------------- scenes

struct Point {
    float x, y;
};

struct SceneObject {
    int class_id = 0;
    float width = 50, height = 100;
    int first_frame = 0, last_frame = 1 << 30;  // inclusive
    std::function<Point(int frame)> centre;
    std::vector<std::pair<int, int>> hidden;     // [from, to): occluded, no detection
    std::vector<std::pair<int, int>> faint;      // [from, to): detected with low confidence (0.2..0.4)
};

struct Scene {
    int frames = 200;
    std::vector<SceneObject> objects;
    float box_noise_px = 2;             // standard deviation on each box edge
    float miss_rate = 0;                // chance a visible object is not detected
    int false_positives_per_frame = 0;  // random boxes, half below high-threshold
};

struct TruthBox {
    int object;  // index in Scene::objects, the ground-truth id
    int class_id;
    ss::Box box;
};

struct Frame {
    std::vector<TruthBox> truth;  // objects in view (not occluded) on this frame
    ss::Detections detections;
};

bool within(const std::vector<std::pair<int, int>>& ranges, int frame) {
    return std::any_of(ranges.begin(), ranges.end(), [&](auto r) { return frame >= r.first && frame < r.second; });
}

std::vector<Frame> render(const Scene& scene, unsigned seed) {
    std::mt19937 random(seed);
    std::normal_distribution<float> noise(0.f, scene.box_noise_px);
    std::uniform_real_distribution<float> unit(0.f, 1.f);
    std::vector<Frame> frames(scene.frames);
    for (int f = 0; f < scene.frames; ++f) {
        for (std::size_t o = 0; o < scene.objects.size(); ++o) {
            const SceneObject& object = scene.objects[o];
            if (f < object.first_frame || f > object.last_frame || within(object.hidden, f)) continue;
            const Point c = object.centre(f);
            const ss::Box truth{c.x - object.width / 2, c.y - object.height / 2, object.width, object.height};
            frames[f].truth.push_back({static_cast<int>(o), object.class_id, truth});
            // Draw the noise even for a missed detection so a miss does not shift later frames' noise.
            const float dl = noise(random), dt = noise(random), dr = noise(random), db = noise(random);
            const float roll = unit(random), confidence_roll = unit(random);
            if (roll < scene.miss_rate) continue;
            ss::Detection d;
            d.class_id = object.class_id;
            d.confidence = within(object.faint, f) ? 0.2f + 0.2f * confidence_roll : 0.6f + 0.35f * confidence_roll;
            d.box = {truth.left + dl, truth.top + dt, truth.width + dr - dl, truth.height + db - dt};
            frames[f].detections.push_back(d);
        }
        for (int k = 0; k < scene.false_positives_per_frame; ++k) {
            ss::Detection d;
            d.class_id = 0;
            d.box.width = 30 + 90 * unit(random);
            d.box.height = 30 + 90 * unit(random);
            d.box.left = unit(random) * (1280 - d.box.width);
            d.box.top = unit(random) * (720 - d.box.height);
            d.confidence = unit(random) < 0.5f ? 0.1f + 0.4f * unit(random) : 0.5f + 0.4f * unit(random);
            frames[f].detections.push_back(d);
        }
        // Detectors emit in no particular order: shuffle so the tracker cannot lean on it.
        std::shuffle(frames[f].detections.begin(), frames[f].detections.end(), random);
    }
    return frames;
}

std::function<Point(int)> straight(Point from, Point velocity) {
    return [=](int f) { return Point{from.x + velocity.x * f, from.y + velocity.y * f}; };
}

// Five objects on parallel-ish lines, 3-5 px per frame (times `speed`), far
// enough apart not to interact.
Scene five_straight_lines(float speed = 1) {
    Scene scene;
    for (int i = 0; i < 5; ++i) {
        SceneObject o;
        o.centre = straight({100.f + 40 * i, 80.f + 130 * i},
                            {speed * (3.f + 0.5f * i), speed * (i % 2 ? 0.5f : -0.3f)});
        o.first_frame = 5 * i;  // staggered starts
        scene.objects.push_back(o);
    }
    return scene;
}

// ---------------------------------------------------------------- running and scoring

using Outputs = std::vector<ss::Detections>;

// update() every `detect_every` frames (from frame 0), predict() on the others.
Outputs run(ss::Tracker& tracker, const std::vector<Frame>& frames, int detect_every = 1) {
    Outputs outputs;
    for (std::size_t f = 0; f < frames.size(); ++f) {
        outputs.push_back(f % detect_every == 0 ? tracker.update(frames[f].detections) : tracker.predict());
    }
    return outputs;
}

Outputs run(const ss::TrackerSettings& settings, const std::vector<Frame>& frames, int detect_every = 1) {
    auto tracker = ss::make_tracker(settings);
    return run(*tracker, frames, detect_every);
}

struct Metrics {
    int id_switches = 0;    // a ground-truth object's matched track id changes
    int most_switches_of_one_object = 0;
    int fragmentation = 0;  // distinct track ids per ground-truth object - 1, summed
    int false_tracks = 0;   // track ids matched to ground truth on under half of their shown frames
    int tracks = 0;         // distinct track ids shown
    double coverage = 0;    // matched ground-truth boxes / ground-truth boxes in view
    double predicted_iou = 0;  // mean IoU of predicted boxes with their object's true box
    int predicted_boxes = 0;
};

// Per frame, output boxes are matched to ground truth of the same class with
// IoU >= 0.5, independently of the trackers' own matching.
Metrics score(const std::vector<Frame>& frames, const Outputs& outputs) {
    Metrics m;
    std::map<int, std::int64_t> last_track_of_object;
    std::map<int, std::set<std::int64_t>> tracks_of_object;
    std::map<int, int> switches_of_object;
    std::map<std::int64_t, int> frames_shown, frames_matched;
    std::map<std::int64_t, std::map<int, int>> objects_of_track;  // for predicted boxes' owners
    int truth_boxes = 0, matched_boxes = 0;

    for (std::size_t f = 0; f < frames.size(); ++f) {
        const auto& truth = frames[f].truth;
        const auto& shown = outputs[f];
        truth_boxes += static_cast<int>(truth.size());
        struct Candidate {
            float iou;
            std::size_t output, object;
        };
        std::vector<Candidate> candidates;
        for (std::size_t i = 0; i < shown.size(); ++i) {
            EXPECT_GE(shown[i].track_id, 1);
            ++frames_shown[shown[i].track_id];
            for (std::size_t j = 0; j < truth.size(); ++j) {
                if (shown[i].class_id != truth[j].class_id) continue;
                const float iou = ss::intersection_over_union(shown[i].box, truth[j].box);
                if (iou >= 0.5f) candidates.push_back({iou, i, j});
            }
        }
        // As CLEAR MOT: an object keeps last frame's track while that still
        // matches, so objects whose boxes coincide (a crossing) do not swap in the
        // metric's eyes; the rest go greedily by IoU.
        std::stable_sort(candidates.begin(), candidates.end(), [&](auto& a, auto& b) {
            const auto kept = [&](const Candidate& c) {
                auto last = last_track_of_object.find(truth[c.object].object);
                return last != last_track_of_object.end() && last->second == shown[c.output].track_id;
            };
            return kept(a) != kept(b) ? kept(a) : a.iou > b.iou;
        });
        std::vector<char> output_used(shown.size(), 0), truth_used(truth.size(), 0);
        for (const auto& c : candidates) {
            if (output_used[c.output] || truth_used[c.object]) continue;
            output_used[c.output] = truth_used[c.object] = 1;
            const std::int64_t track = shown[c.output].track_id;
            const int object = truth[c.object].object;
            auto last = last_track_of_object.find(object);
            if (last != last_track_of_object.end() && last->second != track) {
                ++m.id_switches;
                ++switches_of_object[object];
            }
            last_track_of_object[object] = track;
            tracks_of_object[object].insert(track);
            ++frames_matched[track];
            ++objects_of_track[track][object];
            ++matched_boxes;
        }
    }
    for (const auto& [object, tracks] : tracks_of_object) m.fragmentation += static_cast<int>(tracks.size()) - 1;
    for (const auto& [object, count] : switches_of_object) {
        m.most_switches_of_one_object = std::max(m.most_switches_of_one_object, count);
    }
    for (const auto& [track, shown] : frames_shown) {
        ++m.tracks;
        if (frames_matched[track] * 2 < shown) ++m.false_tracks;
    }
    m.coverage = truth_boxes ? double(matched_boxes) / truth_boxes : 1.0;

    // Predicted boxes against the true box of the object their track follows most.
    double iou_sum = 0;
    for (std::size_t f = 0; f < frames.size(); ++f) {
        for (const auto& d : outputs[f]) {
            if (!d.predicted) continue;
            ++m.predicted_boxes;
            const auto& counts = objects_of_track[d.track_id];
            if (counts.empty()) continue;  // never matched: counts as IoU 0
            const int owner = std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) {
                                  return a.second < b.second;
                              })->first;
            for (const auto& t : frames[f].truth) {
                if (t.object == owner) iou_sum += ss::intersection_over_union(d.box, t.box);
            }
        }
    }
    m.predicted_iou = m.predicted_boxes ? iou_sum / m.predicted_boxes : 0;
    return m;
}

void print(const char* scene, const std::string& type, unsigned seed, const Metrics& m) {
    std::printf("[metrics] %-22s %-9s seed %u: switches %d, fragmentation %d, false tracks %d/%d, coverage %.3f", scene,
                type.c_str(), seed, m.id_switches, m.fragmentation, m.false_tracks, m.tracks, m.coverage);
    if (m.predicted_boxes) std::printf(", predicted %d mean IoU %.3f", m.predicted_boxes, m.predicted_iou);
    std::printf("\n");
}

ss::TrackerSettings settings_of(const std::string& type) {
    ss::TrackerSettings s;
    s.type = type;
    return s;
}

ss::Detection detection(float left, float top, float confidence = 0.9f, int class_id = 0) {
    ss::Detection d;
    d.class_id = class_id;
    d.confidence = confidence;
    d.box = {left, top, 50, 100};
    return d;
}

}  // namespace

// ---------------------------------------------------------------- scenes, both trackers

// Bound: 0 switches, 0 fragmentation, 0 false tracks; coverage >= 0.95 (the first
// min-hits - 1 frames of each object are not shown).
TEST(TrackerScenes, StraightLinesGiveNoSwitchesNoFragmentation) {
    for (const std::string type : {"bytetrack", "iou"}) {
        for (unsigned seed : seeds) {
            SCOPED_TRACE(type + " seed " + std::to_string(seed));
            const auto frames = render(five_straight_lines(), seed);
            const Metrics m = score(frames, run(settings_of(type), frames));
            print("straight lines", type, seed, m);
            EXPECT_EQ(m.id_switches, 0);
            EXPECT_EQ(m.fragmentation, 0);
            EXPECT_EQ(m.false_tracks, 0);
            EXPECT_EQ(m.tracks, 5);
            EXPECT_GE(m.coverage, 0.95);
        }
    }
}

// Circles, a sine wave and a parabola-like turn at 3-5 px per frame.
// Bound (bytetrack): 0 switches, 0 fragmentation, 0 false tracks, coverage >= 0.95.
TEST(TrackerScenes, CurvedPathsGiveNoSwitchesNoFragmentation) {
    Scene scene;
    SceneObject circle;
    circle.centre = [](int f) { return Point{640 + 220 * std::cos(0.02f * f), 360 + 220 * std::sin(0.02f * f)}; };
    SceneObject wave;
    wave.centre = [](int f) { return Point{60.f + 4 * f, 120 + 60 * std::sin(2 * pi * f / 80)}; };
    SceneObject turn;
    turn.centre = [](int f) { return Point{1100.f - 3 * f, 650 - 0.012f * (f - 100.f) * (f - 100.f)}; };
    scene.objects = {circle, wave, turn};
    for (unsigned seed : seeds) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        const auto frames = render(scene, seed);
        const Metrics m = score(frames, run(settings_of("bytetrack"), frames));
        print("curved paths", "bytetrack", seed, m);
        EXPECT_EQ(m.id_switches, 0);
        EXPECT_EQ(m.fragmentation, 0);
        EXPECT_EQ(m.false_tracks, 0);
        EXPECT_GE(m.coverage, 0.95);
    }
}

// Two same-class objects whose boxes overlap completely on frame 100. A swap
// changes both objects' ids: 2 switches by the metric. Bound (bytetrack): no
// object switches more than once per crossing (at most one swap), and of the
// 15 steep crossings (X, head-on, V; 5 seeds each) at most one swaps. The
// shallow crossing, boxes overlapping for some 60 frames with 1 px/frame of
// relative motion, is ambiguous for an IoU tracker: only the per-crossing bound.
TEST(TrackerScenes, CrossingObjectsSwapAtMostOncePerCrossing) {
    struct Crossing {
        const char* name;
        Point velocity_a, velocity_b;
        bool steep;
    };
    const std::vector<Crossing> crossings = {
        {"X", {4.f, 1.5f}, {4.f, -1.5f}, true},
        {"head-on", {4.f, 0.f}, {-4.f, 0.f}, true},
        {"V", {3.f, 3.f}, {-3.f, 3.f}, true},
        {"shallow", {4.f, 0.5f}, {4.f, -0.5f}, false},
    };
    int steep_switches = 0;
    for (const auto& crossing : crossings) {
        Scene scene;
        SceneObject a, b;
        const Point meet{640, 360};
        const Point va = crossing.velocity_a, vb = crossing.velocity_b;
        a.centre = straight({meet.x - va.x * 100, meet.y - va.y * 100}, va);
        b.centre = straight({meet.x - vb.x * 100, meet.y - vb.y * 100}, vb);
        scene.objects = {a, b};
        for (unsigned seed : seeds) {
            SCOPED_TRACE(std::string(crossing.name) + " seed " + std::to_string(seed));
            const auto frames = render(scene, seed);
            const Metrics m = score(frames, run(settings_of("bytetrack"), frames));
            print((std::string("crossing ") + crossing.name).c_str(), "bytetrack", seed, m);
            EXPECT_LE(m.most_switches_of_one_object, 1);
            EXPECT_LE(m.fragmentation, 2);
            EXPECT_EQ(m.false_tracks, 0);
            EXPECT_GE(m.coverage, 0.95);
            if (crossing.steep) steep_switches += m.id_switches;
        }
    }
    EXPECT_LE(steep_switches, 2);
}

// Objects of different classes never exchange ids: bound 0 switches even head-on.
TEST(TrackerScenes, CrossingObjectsOfDifferentClassesNeverSwitch) {
    Scene scene;
    SceneObject a, b;
    a.centre = straight({240, 360}, {4, 0});
    b.centre = straight({1040, 360}, {-4, 0});
    b.class_id = 1;
    scene.objects = {a, b};
    for (const std::string type : {"bytetrack", "iou"}) {
        for (unsigned seed : seeds) {
            SCOPED_TRACE(type + " seed " + std::to_string(seed));
            const auto frames = render(scene, seed);
            const Metrics m = score(frames, run(settings_of(type), frames));
            EXPECT_EQ(m.id_switches, 0);
            EXPECT_EQ(m.fragmentation, 0);
        }
    }
}

// Occlusion of N frames while moving on: the id survives for N <= max-age
// (bound: 0 fragmentation), and a new id comes for N > max-age (exactly 1).
TEST(TrackerScenes, OcclusionUpToMaxAgeKeepsTheId) {
    const ss::TrackerSettings settings = settings_of("bytetrack");
    for (int hidden_frames : {5, 15, settings.max_age, settings.max_age + 1, settings.max_age + 10}) {
        Scene scene;
        SceneObject o;
        o.centre = straight({100, 300}, {4, 0.5f});
        o.hidden = {{80, 80 + hidden_frames}};
        scene.objects = {o};
        for (unsigned seed : seeds) {
            SCOPED_TRACE("hidden " + std::to_string(hidden_frames) + " seed " + std::to_string(seed));
            const auto frames = render(scene, seed);
            const Metrics m = score(frames, run(settings, frames));
            print(("hidden " + std::to_string(hidden_frames) + " frames").c_str(), "bytetrack", seed, m);
            EXPECT_EQ(m.id_switches, m.fragmentation);
            EXPECT_EQ(m.fragmentation, hidden_frames <= settings.max_age ? 0 : 1);
            EXPECT_EQ(m.false_tracks, 0);
        }
    }
}

// 20% of detections missing at random. Bound: 0 switches, 0 fragmentation,
// 0 false tracks; coverage >= 0.7 (a missed frame shows nothing: not predicted on update()).
TEST(TrackerScenes, TwentyPercentMissedDetectionsKeepIds) {
    for (const std::string type : {"bytetrack", "iou"}) {
        for (unsigned seed : seeds) {
            SCOPED_TRACE(type + " seed " + std::to_string(seed));
            // Without a motion model, a few misses in a row at 5 px/frame leave the
            // IoU gate behind: the iou tracker gets the scene at half speed.
            Scene scene = five_straight_lines(type == "iou" ? 0.5f : 1.f);
            scene.miss_rate = 0.2f;
            const auto frames = render(scene, seed);
            const Metrics m = score(frames, run(settings_of(type), frames));
            print("20% missed", type, seed, m);
            EXPECT_EQ(m.id_switches, 0);
            EXPECT_EQ(m.fragmentation, 0);
            EXPECT_EQ(m.false_tracks, 0);
            EXPECT_GE(m.coverage, 0.7);
        }
    }
}

// One false positive per frame at a random place, half of them below
// high-threshold. Bound: <= 1 false confirmed track per 200-frame scene, and the
// real objects keep 0 switches and 0 fragmentation.
TEST(TrackerScenes, RandomFalsePositivesMakeAtMostOneFalseTrack) {
    Scene scene = five_straight_lines();
    scene.false_positives_per_frame = 1;
    for (const std::string type : {"bytetrack", "iou"}) {
        for (unsigned seed : seeds) {
            SCOPED_TRACE(type + " seed " + std::to_string(seed));
            const auto frames = render(scene, seed);
            const Metrics m = score(frames, run(settings_of(type), frames));
            print("false positives", type, seed, m);
            EXPECT_LE(m.false_tracks, 1);
            EXPECT_EQ(m.id_switches, 0);
            EXPECT_EQ(m.fragmentation, 0);
        }
    }
}

// ByteTrack's point: detections below high-threshold (a partly hidden object)
// keep the track and its id. Bound: 0 fragmentation, coverage >= 0.95 while faint.
TEST(TrackerScenes, FaintDetectionsKeepByteTrackTracksAlive) {
    Scene scene;
    SceneObject o;
    o.centre = straight({100, 300}, {4, 0});
    o.faint = {{60, 120}};
    scene.objects = {o};
    for (unsigned seed : seeds) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        const auto frames = render(scene, seed);
        const Outputs outputs = run(settings_of("bytetrack"), frames);
        const std::vector<Frame> faint_frames(frames.begin() + 60, frames.begin() + 120);
        const Outputs faint_outputs(outputs.begin() + 60, outputs.begin() + 120);
        EXPECT_GE(score(faint_frames, faint_outputs).coverage, 0.95);
        EXPECT_EQ(score(frames, outputs).fragmentation, 0);
    }
}

// Detection on every 3rd frame, predict() between. Bound (bytetrack, straight
// lines): mean IoU of predicted boxes with the truth >= 0.5, 0 switches,
// 0 fragmentation, and predicted boxes on (nearly) every frame between detections.
TEST(TrackerScenes, PredictedBoxesFollowStraightMotion) {
    for (unsigned seed : seeds) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        const auto frames = render(five_straight_lines(), seed);
        const Outputs outputs = run(settings_of("bytetrack"), frames, 3);
        const Metrics m = score(frames, outputs);
        print("every 3rd frame", "bytetrack", seed, m);
        EXPECT_GE(m.predicted_iou, 0.5);
        EXPECT_EQ(m.id_switches, 0);
        EXPECT_EQ(m.fragmentation, 0);
        EXPECT_EQ(m.false_tracks, 0);
        EXPECT_GE(m.coverage, 0.9);
        for (std::size_t f = 0; f < outputs.size(); ++f) {
            for (const auto& d : outputs[f]) EXPECT_EQ(d.predicted, f % 3 != 0) << "frame " << f;
        }
    }
}

// The same scene gives the same output, ids and boxes, on every run.
TEST(TrackerScenes, SameSceneSameIdsEveryRun) {
    Scene scene = five_straight_lines();
    scene.miss_rate = 0.1f;
    scene.false_positives_per_frame = 2;
    SceneObject crossing;
    crossing.centre = straight({1100, 100}, {-4, 3});
    scene.objects.push_back(crossing);
    for (const std::string type : {"bytetrack", "iou"}) {
        for (unsigned seed : seeds) {
            const auto frames = render(scene, seed);
            const Outputs first = run(settings_of(type), frames, 2);
            run(settings_of(type), render(scene, seed + 100));  // other work in between
            const Outputs second = run(settings_of(type), frames, 2);
            ASSERT_EQ(first.size(), second.size());
            for (std::size_t f = 0; f < first.size(); ++f) {
                ASSERT_EQ(first[f].size(), second[f].size()) << type << " seed " << seed << " frame " << f;
                for (std::size_t i = 0; i < first[f].size(); ++i) {
                    EXPECT_EQ(first[f][i].track_id, second[f][i].track_id);
                    EXPECT_EQ(first[f][i].predicted, second[f][i].predicted);
                    EXPECT_EQ(first[f][i].box.left, second[f][i].box.left);
                    EXPECT_EQ(first[f][i].box.top, second[f][i].box.top);
                }
            }
        }
    }
}

// ---------------------------------------------------------------- rules, frame by frame

TEST(TrackerRules, ShownAfterMinHitsConsecutiveMatchesWithTheDetectionBox) {
    for (const auto& type : ss::tracker_names()) {
        SCOPED_TRACE(type);
        auto tracker = ss::make_tracker(settings_of(type));
        EXPECT_TRUE(tracker->update({detection(100, 100)}).empty());
        EXPECT_TRUE(tracker->update({detection(102, 100)}).empty());
        const auto shown = tracker->update({detection(104, 101, 0.8f)});
        ASSERT_EQ(shown.size(), 1u);
        EXPECT_EQ(shown[0].track_id, 1);
        EXPECT_FALSE(shown[0].predicted);
        EXPECT_FLOAT_EQ(shown[0].box.left, 104);  // the detection's box, not a filtered one
        EXPECT_FLOAT_EQ(shown[0].box.top, 101);
        EXPECT_FLOAT_EQ(shown[0].confidence, 0.8f);
    }
}

TEST(TrackerRules, TentativeTrackDiesOnItsFirstMiss) {
    for (const auto& type : ss::tracker_names()) {
        SCOPED_TRACE(type);
        auto tracker = ss::make_tracker(settings_of(type));
        tracker->update({detection(100, 100)});
        tracker->update({detection(100, 100)});
        tracker->update({});  // missed: the count starts again
        EXPECT_TRUE(tracker->update({detection(100, 100)}).empty());
        EXPECT_TRUE(tracker->update({detection(100, 100)}).empty());
        EXPECT_EQ(tracker->update({detection(100, 100)}).size(), 1u);
    }
}

TEST(TrackerRules, IdsStartAtOneIncreaseAndAreNeverReused) {
    for (const auto& type : ss::tracker_names()) {
        SCOPED_TRACE(type);
        ss::TrackerSettings settings = settings_of(type);
        settings.min_hits = 1;
        settings.max_age = 2;
        auto tracker = ss::make_tracker(settings);
        EXPECT_EQ(tracker->update({detection(100, 100)}).at(0).track_id, 1);
        EXPECT_EQ(tracker->update({detection(100, 100), detection(500, 100)}).at(1).track_id, 2);
        for (int i = 0; i < 3; ++i) tracker->update({});  // both expire after max-age frames
        const auto shown = tracker->update({detection(100, 100), detection(500, 100)});
        ASSERT_EQ(shown.size(), 2u);
        EXPECT_EQ(shown[0].track_id, 3);
        EXPECT_EQ(shown[1].track_id, 4);
    }
}

TEST(TrackerRules, LostTracksAreHiddenAndPredictionStopsAfterMaxPredict) {
    for (const auto& type : ss::tracker_names()) {
        SCOPED_TRACE(type);
        ss::TrackerSettings settings = settings_of(type);
        settings.max_predict = 4;
        auto tracker = ss::make_tracker(settings);
        for (int i = 0; i < 3; ++i) tracker->update({detection(100, 100)});
        for (int i = 1; i <= 6; ++i) {
            const auto shown = tracker->predict();
            ASSERT_EQ(shown.size(), i <= 4 ? 1u : 0u) << "predict() " << i;
            if (!shown.empty()) {
                EXPECT_TRUE(shown[0].predicted);
                EXPECT_EQ(shown[0].track_id, 1);
            }
        }
        EXPECT_TRUE(tracker->update({}).empty());   // missed: lost, not shown
        EXPECT_TRUE(tracker->predict().empty());    // and not predicted either
        const auto back = tracker->update({detection(100, 100)});  // within max-age: same id
        ASSERT_EQ(back.size(), 1u);
        EXPECT_EQ(back[0].track_id, 1);
    }
}

TEST(TrackerRules, IouTrackerPredictsTheLastBoxUnchanged) {
    auto tracker = ss::make_tracker(settings_of("iou"));
    for (int i = 0; i < 3; ++i) tracker->update({detection(100.f + 5 * i, 100)});
    for (int i = 0; i < 3; ++i) {
        const auto shown = tracker->predict();
        ASSERT_EQ(shown.size(), 1u);
        EXPECT_FLOAT_EQ(shown[0].box.left, 110);
        EXPECT_FLOAT_EQ(shown[0].box.top, 100);
        EXPECT_TRUE(shown[0].predicted);
    }
}

TEST(TrackerRules, ByteTrackPredictsAlongTheVelocity) {
    auto tracker = ss::make_tracker(settings_of("bytetrack"));
    for (int i = 0; i < 10; ++i) tracker->update({detection(100.f + 5 * i, 100)});
    const auto shown = tracker->predict();
    ASSERT_EQ(shown.size(), 1u);
    EXPECT_NEAR(shown[0].box.left, 150, 2);  // 5 px per frame, one frame on
    EXPECT_NEAR(shown[0].box.top, 100, 1);
}

TEST(TrackerRules, LowConfidenceDetectionsNeitherStartTracksNorShowBelowLowThreshold) {
    auto tracker = ss::make_tracker(settings_of("bytetrack"));
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(tracker->update({detection(100, 100, 0.3f)}).empty());
    for (int i = 0; i < 3; ++i) tracker->update({detection(100, 100)});
    EXPECT_EQ(tracker->update({detection(100, 100, 0.3f)}).size(), 1u);  // keeps a confirmed track
    EXPECT_TRUE(tracker->update({detection(100, 100, 0.05f)}).empty());  // below low-threshold: ignored
}

TEST(TrackerRules, UnusableBoxesAreIgnored) {
    const float nan = std::nanf("");
    for (const auto& type : ss::tracker_names()) {
        SCOPED_TRACE(type);
        ss::TrackerSettings settings = settings_of(type);
        settings.min_hits = 1;
        auto tracker = ss::make_tracker(settings);
        ss::Detection flat = detection(100, 100), undefined = detection(300, 100), vague = detection(500, 100);
        flat.box.height = 0;
        undefined.box.left = nan;
        vague.confidence = nan;
        EXPECT_TRUE(tracker->update({flat, undefined, vague}).empty());
        EXPECT_EQ(tracker->update({detection(100, 100)}).size(), 1u);  // and nothing was poisoned
        EXPECT_EQ(tracker->predict().size(), 1u);
    }
}

// ---------------------------------------------------------------- settings

TEST(TrackerSettings, DefaultsWhenTheSectionIsEmpty) {
    std::vector<std::string> warnings;
    const auto s = ss::parse_tracker_settings({}, &warnings);
    EXPECT_EQ(s.type, "bytetrack");
    EXPECT_FLOAT_EQ(s.high_threshold, 0.5f);
    EXPECT_FLOAT_EQ(s.low_threshold, 0.1f);
    EXPECT_FLOAT_EQ(s.match_iou, 0.3f);
    EXPECT_FLOAT_EQ(s.low_match_iou, 0.5f);
    EXPECT_EQ(s.min_hits, 3);
    EXPECT_EQ(s.max_age, 30);
    EXPECT_EQ(s.predict_frames(), 30);
    EXPECT_TRUE(warnings.empty());
}

TEST(TrackerSettings, ReadsEveryKeyAndWarnsAboutUnknownOnes) {
    std::vector<std::string> warnings;
    const auto s = ss::parse_tracker_settings({{"type", "iou"},
                                               {"high-threshold", "0.6"},
                                               {"low-threshold", "0.2"},
                                               {"match-iou", "0.4"},
                                               {"low-match-iou", "0.7"},
                                               {"min-hits", "1"},
                                               {"max-age", "50"},
                                               {"max-predict", "10"},
                                               {"ll-config-file", "tracker.yml"}},
                                              &warnings);
    EXPECT_EQ(s.type, "iou");
    EXPECT_FLOAT_EQ(s.high_threshold, 0.6f);
    EXPECT_FLOAT_EQ(s.low_threshold, 0.2f);
    EXPECT_FLOAT_EQ(s.match_iou, 0.4f);
    EXPECT_FLOAT_EQ(s.low_match_iou, 0.7f);
    EXPECT_EQ(s.min_hits, 1);
    EXPECT_EQ(s.max_age, 50);
    EXPECT_EQ(s.predict_frames(), 10);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("ll-config-file"), std::string::npos);
    EXPECT_EQ(ss::parse_tracker_settings({{"max-age", "50"}}, nullptr).predict_frames(), 50);  // follows max-age
}

TEST(TrackerSettings, BadValuesNameTheKey) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"type", "sort"},          {"high-threshold", "high"}, {"high-threshold", "1.5"},
        {"low-threshold", "-0.1"}, {"match-iou", "0"},         {"low-match-iou", "0.5x"},
        {"min-hits", "0"},         {"min-hits", "2.5"},        {"max-age", "-1"},
        {"max-predict", ""},       {"max-predict", "31"},  // above the default max-age
    };
    for (const auto& [key, value] : bad) {
        try {
            ss::parse_tracker_settings({{key, value}}, nullptr);
            ADD_FAILURE() << key << "=" << value << " was accepted";
        } catch (const ss::ConfigError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("[tracker] " + key + ": ", 0), 0u) << e.what();
        }
    }
    try {
        ss::parse_tracker_settings({{"low-threshold", "0.6"}}, nullptr);
        ADD_FAILURE() << "low-threshold above high-threshold was accepted";
    } catch (const ss::ConfigError& e) {
        EXPECT_STREQ(e.what(), "[tracker] low-threshold: 0.6 is above high-threshold 0.5");
    }
}

TEST(TrackerSettings, RegistryKnowsBothTrackers) {
    EXPECT_EQ(ss::tracker_names(), (std::vector<std::string>{"bytetrack", "iou"}));
    ss::TrackerSettings s;
    s.type = "nope";
    EXPECT_THROW(ss::make_tracker(s), ss::ConfigError);
}
