// IoU tracker: no motion model, a track is where its last detection was.
// Cheap and predictable; fits scenes where objects move little between
// detection frames (IoU of consecutive boxes above match-iou).
//
// Each detection frame, detections >= low-threshold are matched to confirmed
// and lost tracks, then to tentative ones (optimal assignment on IoU, within a
// class, IoU >= match-iou). Unmatched tentative tracks die, unmatched confirmed
// tracks are lost (kept, not shown) for max-age frames, and unmatched
// detections >= high-threshold start tentative tracks, confirmed after
// min-hits consecutive matches.
#include <cstdint>

#include "assignment.hpp"
#include "trackers.hpp"

namespace ss {
namespace {

enum class TrackState { tentative, confirmed, lost };

struct Track {
    Detection last;  // the last matched detection, box and all
    TrackState state = TrackState::tentative;
    std::int64_t id = 0;  // given on confirmation
    int consecutive_hits = 1;
    int frames_since_match = 0;
};

class IouTracker final : public Tracker {
public:
    explicit IouTracker(const TrackerSettings& settings) : settings_(settings) {}

    Detections update(const Detections& detections) override {
        advance();

        std::vector<std::size_t> usable;
        for (std::size_t i = 0; i < detections.size(); ++i) {
            const Detection& d = detections[i];
            if (is_trackable(d.box) && d.confidence >= settings_.low_threshold) usable.push_back(i);
        }
        std::vector<BoxOfClass> track_boxes, detection_boxes;
        for (const Track& track : tracks_) track_boxes.push_back({track.last.box, track.last.class_id});
        for (const Detection& d : detections) detection_boxes.push_back({d.box, d.class_id});

        // Established tracks choose first, so a new track started by a duplicate
        // or false detection next to an object cannot take the object over.
        std::vector<std::size_t> established, tentative;
        for (std::size_t t = 0; t < tracks_.size(); ++t) {
            (tracks_[t].state == TrackState::tentative ? tentative : established).push_back(t);
        }
        std::vector<std::int64_t> id_of_detection(detections.size(), 0);  // 0: not shown
        for (auto* stage : {&established, &tentative}) {
            for (const auto& [t, d] :
                 match_remaining_by_iou(track_boxes, *stage, detection_boxes, usable, settings_.match_iou)) {
                id_of_detection[d] = match(tracks_[t], detections[d]);
            }
        }

        for (Track& track : tracks_) {
            if (track.frames_since_match > 0 && track.state == TrackState::confirmed) track.state = TrackState::lost;
        }
        std::erase_if(tracks_, [](const Track& track) {
            return track.state == TrackState::tentative && track.frames_since_match > 0;
        });
        drop_expired();

        for (std::size_t i : usable) {  // unmatched ones by now
            if (detections[i].confidence < settings_.high_threshold) continue;
            Track& track = tracks_.emplace_back(Track{detections[i]});
            if (settings_.min_hits <= 1) confirm(track);
            id_of_detection[i] = track.id;
        }

        return shown_with_ids(detections, id_of_detection);
    }

    // No motion model: the last box, unchanged.
    Detections predict() override {
        advance();
        drop_expired();
        Detections shown;
        for (const Track& track : tracks_) {
            if (track.state != TrackState::confirmed || track.frames_since_match > settings_.predict_frames()) continue;
            Detection& d = shown.emplace_back(track.last);
            d.track_id = track.id;
            d.predicted = true;
        }
        return shown;
    }

private:
    void advance() {
        for (Track& track : tracks_) ++track.frames_since_match;
    }

    void drop_expired() {
        std::erase_if(tracks_, [this](const Track& track) { return track.frames_since_match > settings_.max_age; });
    }

    // Returns the id to show the detection with, 0 while the track is tentative.
    std::int64_t match(Track& track, const Detection& detection) {
        track.last = detection;
        track.frames_since_match = 0;
        ++track.consecutive_hits;
        if (track.state == TrackState::lost ||
            (track.state == TrackState::tentative && track.consecutive_hits >= settings_.min_hits)) {
            confirm(track);
        }
        return track.id;
    }

    void confirm(Track& track) {
        track.state = TrackState::confirmed;
        if (track.id == 0) track.id = ++last_id_;
    }

    TrackerSettings settings_;
    std::vector<Track> tracks_;  // in creation order, so every run iterates alike
    std::int64_t last_id_ = 0;
};

}  // namespace

std::unique_ptr<Tracker> make_iou_tracker(const TrackerSettings& settings) {
    return std::make_unique<IouTracker>(settings);
}

}  // namespace ss
