#pragma once
// Minimal JSON writing for the metadata and `slipstream detect` outputs.
#include <string>
#include <string_view>

#include "slipstream/config.hpp"
#include "slipstream/detection.hpp"

namespace ss {

// Appends s as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);
// Appends v with `decimals` digits after the point (0 where it is not finite: JSON has no NaN).
void append_json_number(std::string& out, double v, int decimals);
// Appends a box as [left,top,width,height] in pixels, one decimal.
void append_box_json(std::string& out, const Box& box);

// {"class_id":..,"label":..,"group":..,"confidence":..,"bbox":[l,t,w,h]} plus
// "track_id" and "predicted" when a tracker has seen the object.
void append_detection_json(std::string& out, const Detection& d, const InferConfig& config);

}  // namespace ss
