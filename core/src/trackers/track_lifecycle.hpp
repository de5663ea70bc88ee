#pragma once
// The life of a track, the same in every tracker: a detection at or above
// high-threshold that no track takes starts a tentative track; min-hits
// consecutive matches confirm it (shown, given an id); a tentative track dies
// on its first miss; a confirmed track missed on a detection frame is lost
// (kept, not shown) until a match brings it back or it goes max-age frames
// without one. On frames without detection, confirmed tracks are shown where
// their motion model puts them for max-predict frames after their last match.
//
// A tracker derives from TrackLifecycle<its motion model> and supplies only
// what differs: the motion model (where a track is between its detections)
// and associate() (which detections are matched to which tracks, in what
// stages, and which ones start tracks).
#include <concepts>
#include <cstdint>
#include <vector>

#include "assignment.hpp"
#include "trackers.hpp"

namespace ss {

// What a tracker knows of one object between its detections.
template <typename M>
concept MotionModel = std::constructible_from<M, const Detection&> &&  // a track started by this detection
    requires(M motion, const M& known, const Detection& detection, bool lost) {
        motion.advance(lost);       // one frame on; `lost`: the track missed its last detection frame
        motion.correct(detection);  // a detection was matched to the track
        { known.box() } -> std::same_as<Box>;  // where the object is expected on this frame
        { known.class_id() } -> std::same_as<int>;
        { known.detection() } -> std::same_as<Detection>;  // what a frame without detection shows
    };

template <MotionModel Motion>
class TrackLifecycle : public Tracker {
public:
    Detections update(const Detections& detections) final {
        advance();
        Association association(*this, detections);
        const std::vector<std::size_t> starters = associate(association);
        end_detection_frame();
        for (std::size_t i : starters) {
            Track& track = tracks_.emplace_back(Track{Motion(detections[i])});
            if (settings_.min_hits <= 1) confirm(track);
            association.id_of_detection_[i] = track.id;
        }
        return shown_with_ids(detections, association.id_of_detection_);
    }

    Detections predict() final {
        advance();
        drop_expired();
        Detections shown;
        for (const Track& track : tracks_) {
            if (track.state != TrackState::confirmed || track.frames_since_match > settings_.predict_frames()) continue;
            Detection& d = shown.emplace_back(track.motion.detection());
            d.track_id = track.id;
            d.predicted = true;
        }
        return shown;
    }

protected:
    explicit TrackLifecycle(const TrackerSettings& settings) : settings_(settings) {}

    // One detection frame's matching, handed to associate(). Boxes are taken
    // once, after every track moved a frame on: a track matched in one stage
    // takes no part in the next.
    class Association {
    public:
        const Detections& detections;
        // Track indices still unmatched, in creation order: confirmed and lost
        // tracks, and tentative ones.
        std::vector<std::size_t> established, tentative;

        Association(TrackLifecycle& owner, const Detections& detections_of_frame)
            : detections(detections_of_frame), owner_(owner), id_of_detection_(detections_of_frame.size(), 0) {
            for (const Track& track : owner_.tracks_) track_boxes_.push_back({track.motion.box(), track.motion.class_id()});
            for (const Detection& d : detections) detection_boxes_.push_back({d.box, d.class_id});
            for (std::size_t t = 0; t < owner_.tracks_.size(); ++t) {
                (owner_.tracks_[t].state == TrackState::tentative ? tentative : established).push_back(t);
            }
        }

        // The detections a tracker may match, in order: usable boxes at or above low-threshold.
        std::vector<std::size_t> usable_detections() const {
            std::vector<std::size_t> usable;
            for (std::size_t i = 0; i < detections.size(); ++i) {
                const Detection& d = detections[i];
                if (is_trackable(d.box) && d.confidence >= owner_.settings_.low_threshold) usable.push_back(i);
            }
            return usable;
        }

        bool is_confirmed(std::size_t track) const { return owner_.tracks_[track].state == TrackState::confirmed; }

        // One stage: the optimal assignment on IoU (>= min_iou, within a class)
        // between the listed tracks and detections; matched ones leave both lists.
        void match(std::vector<std::size_t>& track_indices, std::vector<std::size_t>& detection_indices,
                   float min_iou) {
            for (const auto& [t, d] :
                 match_remaining_by_iou(track_boxes_, track_indices, detection_boxes_, detection_indices, min_iou)) {
                id_of_detection_[d] = owner_.match(owner_.tracks_[t], detections[d]);
            }
        }

    private:
        friend class TrackLifecycle;
        TrackLifecycle& owner_;
        std::vector<BoxOfClass> track_boxes_, detection_boxes_;
        std::vector<std::int64_t> id_of_detection_;  // 0: not shown
    };

    // Matches tracks to detections with association.match(), in the tracker's
    // stages, and returns the detections left to start tentative tracks, in order.
    virtual std::vector<std::size_t> associate(Association& association) = 0;

    const TrackerSettings& settings() const { return settings_; }

private:
    enum class TrackState { tentative, confirmed, lost };

    struct Track {
        Motion motion;
        TrackState state = TrackState::tentative;
        std::int64_t id = 0;  // given on confirmation, so ids count objects shown, not false starts
        int consecutive_hits = 1;
        int frames_since_match = 0;
    };

    // Every track moves one frame on.
    void advance() {
        for (Track& track : tracks_) {
            track.motion.advance(track.state == TrackState::lost);
            ++track.frames_since_match;
        }
    }

    // Returns the id to show the detection with, 0 while the track is tentative.
    std::int64_t match(Track& track, const Detection& detection) {
        track.motion.correct(detection);
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

    // Tracks not matched on this detection frame: confirmed ones are lost, tentative ones die.
    void end_detection_frame() {
        for (Track& track : tracks_) {
            if (track.frames_since_match > 0 && track.state == TrackState::confirmed) track.state = TrackState::lost;
        }
        std::erase_if(tracks_, [](const Track& track) {
            return track.state == TrackState::tentative && track.frames_since_match > 0;
        });
        drop_expired();
    }

    void drop_expired() {
        std::erase_if(tracks_, [this](const Track& track) { return track.frames_since_match > settings_.max_age; });
    }

    // What update() returns: the detections given an id (0 = not shown), with it
    // set and predicted=false, in the order of `detections`.
    static Detections shown_with_ids(const Detections& detections, const std::vector<std::int64_t>& id_of_detection) {
        Detections shown;
        for (std::size_t i = 0; i < detections.size(); ++i) {
            if (id_of_detection[i] == 0) continue;
            Detection& d = shown.emplace_back(detections[i]);
            d.track_id = id_of_detection[i];
            d.predicted = false;
        }
        return shown;
    }

    TrackerSettings settings_;
    std::vector<Track> tracks_;  // in creation order, so every run iterates alike
    std::int64_t last_id_ = 0;
};

}  // namespace ss
