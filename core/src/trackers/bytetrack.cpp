// ByteTrack-style tracker: a constant-velocity Kalman filter per track and
// association in stages, so that low-confidence detections (often a partly
// hidden object) keep existing tracks alive without starting new ones.
//
// Each detection frame:
//   1. detections >= high-threshold vs confirmed and lost tracks, IoU >= match-iou
//   2. detections in [low-threshold, high-threshold) vs confirmed tracks still
//      unmatched, IoU >= low-match-iou (stricter: these are less trustworthy)
//   3. high detections left vs tentative tracks, IoU >= match-iou
//   then unmatched tentative tracks die, unmatched confirmed tracks become lost
//   (kept, not shown, for max-age frames) and high detections left start
//   tentative tracks, confirmed after min-hits consecutive matches.
// Every stage is an optimal assignment on IoU (assignment.hpp), within a class.
//
// A matched track is shown with its detection's box, not the filtered one:
// the filter lags behind turns and speed changes by a few frames, while the
// detection is the newest evidence; the filter's job is association and the
// boxes of frames without detection.
#include <algorithm>

#include <opencv2/core.hpp>

#include "assignment.hpp"
#include "trackers.hpp"

namespace ss {
namespace {

// State (centre x, centre y, aspect w/h, height, and their velocities per frame).
// Noise scales with the box height, so near and far objects are tracked alike.
class BoxKalmanFilter {
public:
    explicit BoxKalmanFilter(const Box& box) {
        const auto z = measurement_of(box);
        for (int i = 0; i < 4; ++i) state_[i] = z[i];
        const double h = z[3];
        const double position_sd[4] = {2 * position_noise * h, 2 * position_noise * h, 1e-2, 2 * position_noise * h};
        // The first box says nothing about velocity: start it very uncertain.
        const double velocity_sd[4] = {10 * velocity_noise * h, 10 * velocity_noise * h, 1e-5,
                                       10 * velocity_noise * h};
        for (int i = 0; i < 4; ++i) {
            covariance_(i, i) = position_sd[i] * position_sd[i];
            covariance_(i + 4, i + 4) = velocity_sd[i] * velocity_sd[i];
        }
    }

    // One frame ahead.
    void predict() {
        const double h = noise_scale();
        const double position_sd[4] = {position_noise * h, position_noise * h, 1e-2, position_noise * h};
        const double velocity_sd[4] = {velocity_noise * h, velocity_noise * h, 1e-5, velocity_noise * h};
        Matrix8 process_noise = Matrix8::zeros();
        for (int i = 0; i < 4; ++i) {
            process_noise(i, i) = position_sd[i] * position_sd[i];
            process_noise(i + 4, i + 4) = velocity_sd[i] * velocity_sd[i];
        }
        const Matrix8 transition = transition_matrix();
        state_ = transition * state_;
        covariance_ = transition * covariance_ * transition.t() + process_noise;
    }

    void correct(const Box& box) {
        const double h = noise_scale();
        const double noise_sd[4] = {position_noise * h, position_noise * h, 1e-1, position_noise * h};
        Matrix4 innovation_covariance;
        cv::Matx<double, 8, 4> covariance_times_observation;  // P H^T: H picks the first 4 states
        for (int r = 0; r < 8; ++r) {
            for (int c = 0; c < 4; ++c) covariance_times_observation(r, c) = covariance_(r, c);
        }
        for (int r = 0; r < 4; ++r) {
            for (int c = 0; c < 4; ++c) innovation_covariance(r, c) = covariance_(r, c);
            innovation_covariance(r, r) += noise_sd[r] * noise_sd[r];
        }
        const cv::Matx<double, 8, 4> gain =
            covariance_times_observation * innovation_covariance.inv(cv::DECOMP_CHOLESKY);
        const auto z = measurement_of(box);
        cv::Vec<double, 4> innovation;
        for (int i = 0; i < 4; ++i) innovation[i] = z[i] - state_[i];
        state_ += gain * innovation;
        covariance_ -= gain * innovation_covariance * gain.t();
    }

    // A track without matches keeps its size: extrapolating the height's
    // velocity over a long gap would shrink or blow up the box.
    void hold_size() { state_[7] = 0; }

    Box box() const {
        const double h = std::max(state_[3], 1.0);
        const double w = std::max(state_[2], 0.0) * h;
        return Box{static_cast<float>(state_[0] - w / 2), static_cast<float>(state_[1] - h / 2), static_cast<float>(w),
                   static_cast<float>(h)};
    }

private:
    using Matrix8 = cv::Matx<double, 8, 8>;
    using Matrix4 = cv::Matx<double, 4, 4>;

    // Noise as a fraction of the height, per frame: the values DeepSORT and ByteTrack use.
    static constexpr double position_noise = 1.0 / 20;
    static constexpr double velocity_noise = 1.0 / 160;

    // At least a pixel: noise that vanishes with the height would freeze the filter.
    double noise_scale() const { return std::max(state_[3], 1.0); }

    static cv::Vec<double, 4> measurement_of(const Box& box) {
        return {box.left + box.width / 2.0, box.top + box.height / 2.0, double(box.width) / box.height, box.height};
    }

    static Matrix8 transition_matrix() {
        Matrix8 m = Matrix8::eye();
        for (int i = 0; i < 4; ++i) m(i, i + 4) = 1;  // position += velocity * 1 frame
        return m;
    }

    cv::Vec<double, 8> state_;
    Matrix8 covariance_ = Matrix8::zeros();
};

enum class TrackState { tentative, confirmed, lost };

struct Track {
    BoxKalmanFilter motion;
    int class_id;
    int group;
    float confidence;
    TrackState state = TrackState::tentative;
    std::int64_t id = 0;  // given on confirmation, so ids count objects shown, not false starts
    int consecutive_hits = 1;
    int frames_since_match = 0;
};

class ByteTrackTracker final : public Tracker {
public:
    explicit ByteTrackTracker(const TrackerSettings& settings) : settings_(settings) {}

    Detections update(const Detections& detections) override {
        advance();

        std::vector<std::size_t> high, low;
        for (std::size_t i = 0; i < detections.size(); ++i) {
            const Detection& d = detections[i];
            if (!is_trackable(d.box) || !(d.confidence >= settings_.low_threshold)) continue;
            (d.confidence >= settings_.high_threshold ? high : low).push_back(i);
        }

        // Boxes once per frame: a track matched in one stage takes no part in the next.
        std::vector<BoxOfClass> track_boxes, detection_boxes;
        for (const Track& track : tracks_) track_boxes.push_back({track.motion.box(), track.class_id});
        for (const Detection& d : detections) detection_boxes.push_back({d.box, d.class_id});
        std::vector<std::int64_t> id_of_detection(detections.size(), 0);  // 0: not shown
        auto match_stage = [&](std::vector<std::size_t>& track_indices, std::vector<std::size_t>& detection_indices,
                               float min_iou) {
            for (const auto& [t, d] :
                 match_remaining_by_iou(track_boxes, track_indices, detection_boxes, detection_indices, min_iou)) {
                id_of_detection[d] = match(tracks_[t], detections[d]);
            }
        };

        std::vector<std::size_t> established, tentative;
        for (std::size_t t = 0; t < tracks_.size(); ++t) {
            (tracks_[t].state == TrackState::tentative ? tentative : established).push_back(t);
        }
        match_stage(established, high, settings_.match_iou);
        std::vector<std::size_t> confirmed_left;  // lost tracks need a high detection to come back
        for (std::size_t t : established) {
            if (tracks_[t].state == TrackState::confirmed) confirmed_left.push_back(t);
        }
        match_stage(confirmed_left, low, settings_.low_match_iou);
        match_stage(tentative, high, settings_.match_iou);

        for (Track& track : tracks_) {
            if (track.frames_since_match > 0 && track.state == TrackState::confirmed) track.state = TrackState::lost;
        }
        std::erase_if(tracks_, [](const Track& track) {
            return track.state == TrackState::tentative && track.frames_since_match > 0;
        });
        drop_expired();

        for (std::size_t i : high) {
            Track& track = tracks_.emplace_back(Track{BoxKalmanFilter(detections[i].box), detections[i].class_id,
                                                      detections[i].group, detections[i].confidence});
            if (settings_.min_hits <= 1) confirm(track);
            id_of_detection[i] = track.id;
        }

        return shown_with_ids(detections, id_of_detection);
    }

    Detections predict() override {
        advance();
        drop_expired();
        Detections shown;
        for (const Track& track : tracks_) {
            if (track.state != TrackState::confirmed || track.frames_since_match > settings_.predict_frames()) continue;
            Detection& d = shown.emplace_back();
            d.class_id = track.class_id;
            d.group = track.group;
            d.confidence = track.confidence;
            d.box = track.motion.box();
            d.track_id = track.id;
            d.predicted = true;
        }
        return shown;
    }

private:
    // Every track moves one frame on.
    void advance() {
        for (Track& track : tracks_) {
            if (track.state == TrackState::lost) track.motion.hold_size();
            track.motion.predict();
            ++track.frames_since_match;
        }
    }

    void drop_expired() {
        std::erase_if(tracks_, [this](const Track& track) { return track.frames_since_match > settings_.max_age; });
    }

    void confirm(Track& track) {
        track.state = TrackState::confirmed;
        if (track.id == 0) track.id = ++last_id_;
    }

    // Returns the id to show the detection with, 0 while the track is tentative.
    std::int64_t match(Track& track, const Detection& detection) {
        track.motion.correct(detection.box);
        track.confidence = detection.confidence;
        track.frames_since_match = 0;
        ++track.consecutive_hits;
        if (track.state == TrackState::lost ||
            (track.state == TrackState::tentative && track.consecutive_hits >= settings_.min_hits)) {
            confirm(track);
        }
        return track.id;
    }

    TrackerSettings settings_;
    std::vector<Track> tracks_;  // in creation order, so every run iterates alike
    std::int64_t last_id_ = 0;
};

}  // namespace

std::unique_ptr<Tracker> make_bytetrack_tracker(const TrackerSettings& settings) {
    return std::make_unique<ByteTrackTracker>(settings);
}

}  // namespace ss
