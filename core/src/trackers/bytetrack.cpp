// ByteTrack-style tracker: a constant-velocity Kalman filter per track and
// association in stages, so that low-confidence detections (often a partly
// hidden object) keep existing tracks alive without starting new ones.
//
// Each detection frame:
//   1. detections >= high-threshold vs confirmed and lost tracks, IoU >= match-iou
//   2. detections in [low-threshold, high-threshold) vs confirmed tracks still
//      unmatched, IoU >= low-match-iou (stricter: these are less trustworthy)
//   3. high detections left vs tentative tracks, IoU >= match-iou
//   then high detections left start tentative tracks. The rest of a track's
//   life (confirmation, lost, expiry) is track_lifecycle.hpp.
// Every stage is an optimal assignment on IoU (assignment.hpp), within a class.
//
// A matched track is shown with its detection's box, not the filtered one:
// the filter lags behind turns and speed changes by a few frames, while the
// detection is the newest evidence; the filter's job is association and the
// boxes of frames without detection.
#include <algorithm>

#include <opencv2/core.hpp>

#include "track_lifecycle.hpp"

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

// The Kalman filter, and what a track shows on frames without detection.
class KalmanMotion {
public:
    explicit KalmanMotion(const Detection& detection)
        : filter_(detection.box), class_id_(detection.class_id), group_(detection.group),
          confidence_(detection.confidence) {}

    void advance(bool lost) {
        if (lost) filter_.hold_size();
        filter_.predict();
    }

    void correct(const Detection& detection) {
        filter_.correct(detection.box);
        confidence_ = detection.confidence;
    }

    Box box() const { return filter_.box(); }
    int class_id() const { return class_id_; }

    Detection detection() const {
        Detection d;
        d.class_id = class_id_;
        d.group = group_;
        d.confidence = confidence_;
        d.box = filter_.box();
        return d;
    }

private:
    BoxKalmanFilter filter_;
    int class_id_;
    int group_;
    float confidence_;  // of the last matched detection
};

class ByteTrackTracker final : public TrackLifecycle<KalmanMotion> {
public:
    explicit ByteTrackTracker(const TrackerSettings& settings) : TrackLifecycle(settings) {}

private:
    std::vector<std::size_t> associate(Association& association) override {
        std::vector<std::size_t> high, low;
        for (std::size_t i : association.usable_detections()) {
            (association.detections[i].confidence >= settings().high_threshold ? high : low).push_back(i);
        }
        association.match(association.established, high, settings().match_iou);
        std::vector<std::size_t> confirmed_left;  // lost tracks need a high detection to come back
        for (std::size_t t : association.established) {
            if (association.is_confirmed(t)) confirmed_left.push_back(t);
        }
        association.match(confirmed_left, low, settings().low_match_iou);
        association.match(association.tentative, high, settings().match_iou);
        return high;
    }
};

}  // namespace

std::unique_ptr<Tracker> make_bytetrack_tracker(const TrackerSettings& settings) {
    return std::make_unique<ByteTrackTracker>(settings);
}

}  // namespace ss
