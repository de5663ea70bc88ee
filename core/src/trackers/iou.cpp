// IoU tracker: no motion model, a track is where its last detection was.
// Cheap and predictable; fits scenes where objects move little between
// detection frames (IoU of consecutive boxes above match-iou).
//
// Each detection frame, detections >= low-threshold are matched to confirmed
// and lost tracks, then to tentative ones (optimal assignment on IoU, within a
// class, IoU >= match-iou); unmatched detections >= high-threshold start
// tentative tracks. The rest of a track's life is track_lifecycle.hpp.
#include "track_lifecycle.hpp"

namespace ss {
namespace {

// The last matched detection, box and all, unchanged between detections.
class LastDetection {
public:
    explicit LastDetection(const Detection& detection) : last_(detection) {}

    void advance(bool /*lost*/) {}
    void correct(const Detection& detection) { last_ = detection; }
    Box box() const { return last_.box; }
    int class_id() const { return last_.class_id; }
    Detection detection() const { return last_; }

private:
    Detection last_;
};

class IouTracker final : public TrackLifecycle<LastDetection> {
public:
    explicit IouTracker(const TrackerSettings& settings) : TrackLifecycle(settings) {}

private:
    std::vector<std::size_t> associate(Association& association) override {
        std::vector<std::size_t> usable = association.usable_detections();
        // Established tracks choose first, so a new track started by a duplicate
        // or false detection next to an object cannot take the object over.
        association.match(association.established, usable, settings().match_iou);
        association.match(association.tentative, usable, settings().match_iou);
        std::erase_if(usable, [&](std::size_t i) {
            return association.detections[i].confidence < settings().high_threshold;
        });
        return usable;
    }
};

}  // namespace

std::unique_ptr<Tracker> make_iou_tracker(const TrackerSettings& settings) {
    return std::make_unique<IouTracker>(settings);
}

}  // namespace ss
