#pragma once
// One detected or tracked object, in the pixel space of the image it was found in.
// Shaped like upstream GStreamer's analytics object-detection metadata
// (class, confidence, box, tracking id) so a port to GstAnalyticsODMtd is mechanical.
#include <cstdint>
#include <vector>

#include <opencv2/core/types.hpp>

namespace ss {

struct Box {
    float left = 0, top = 0, width = 0, height = 0;

    float right() const { return left + width; }
    float bottom() const { return top + height; }
    float area() const { return width > 0 && height > 0 ? width * height : 0.f; }
};

float intersection_over_union(const Box& a, const Box& b);

// The part of `box` inside a width x height image (zero area when none is).
Box clipped(const Box& box, float width, float height);

struct Detection {
    int class_id = -1;
    int group = -1;  // index into ClassGroups::names, -1 when the class is in no group
    float confidence = 0;
    Box box;
    std::int64_t track_id = -1;  // -1 until a tracker assigns one
    bool predicted = false;      // true when the box comes from a tracker's motion model, not a detection
};

using Detections = std::vector<Detection>;

// The same objects in an image scaled by (sx, sy).
Detections scaled(Detections objects, float sx, float sy);

// Boxes found in a picture of size `from`, moved onto the same scene at size
// `to` (a working frame and its camera's, a result and the frame it is shown
// on). Unchanged when the sizes match or either is empty.
Box resized(const Box& box, cv::Size from, cv::Size to);
Detections resized(Detections objects, cv::Size from, cv::Size to);

}  // namespace ss
