#pragma once
// Still images for `slipstream detect`, decoded by GStreamer (decodebin picks
// jpegdec, pngdec, ...) instead of OpenCV's imgcodecs: on Debian imgcodecs
// pulls in GDAL and about 80 more libraries, which the portable bundle
// (tools/bundle.sh) cannot carry within its size, and the pipeline already
// has every decoder it needs.
#include <opencv2/core.hpp>

#include <string>

namespace slipstream {

// The first picture of the file at `path` as 8-bit BGR. Empty when the file is
// missing or nothing installed decodes it; `why` then says which.
cv::Mat read_image(const std::string& path, std::string& why);

}  // namespace slipstream
