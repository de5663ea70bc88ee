#include "slipstream/shown_detections.hpp"

#include <utility>

namespace ss {

void ShownDetections::add(DetectionResult result) { waiting_.push_back(std::move(result)); }

ShownFrame ShownDetections::show(std::uint64_t number, bool is_new) {
    while (!waiting_.empty() && waiting_.front().frame_number <= number) {
        DetectionResult& r = waiting_.front();
        objects_ = std::move(r.objects);
        size_ = r.image_size;
        detected_frame_ = r.frame_number;
        waiting_.pop_front();
    }
    ShownFrame shown;
    shown.objects = &objects_;
    shown.size = size_;
    shown.detected_frame = detected_frame_;
    shown.detected = detected_frame_ != announced_frame_;
    if (shown.detected) announced_frame_ = detected_frame_;
    shown.on_time = shown.detected && is_new && number == detected_frame_;
    return shown;
}

}  // namespace ss
