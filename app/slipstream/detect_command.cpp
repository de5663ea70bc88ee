// `slipstream detect [--config FILE] IMAGE...`: one JSON object per image on
// stdout, boxes in original-image pixels. Unreadable images are reported on
// stderr and the rest are still processed; the exit code says whether all worked.
#include <string>
#include <vector>

#include "commands.hpp"
#include "console.hpp"
#include "image_file.hpp"
#include "options.hpp"
#include "slipstream/detector.hpp"
#include "slipstream/error.hpp"
#include "slipstream/json.hpp"

namespace {

const char* const usage =
    "usage: slipstream detect [--config FILE] IMAGE...\n"
    "Detects objects in each image and prints one JSON object per image:\n"
    "  {\"image\", \"width\", \"height\", \"detections\": [{\"class_id\", \"label\", \"group\",\n"
    "   \"confidence\", \"bbox\": [left, top, width, height]}]}\n"
    "  --config FILE   nvinfer-style detector config (default: the embedded NanoDet config)";

}  // namespace

int run_detect_command(int argc, char** argv) {
    using namespace slipstream;
    std::filesystem::path config_file = ss::default_config_path();
    std::vector<std::string> images;
    const std::vector<OptionSpec> options = {
        {"--config", nullptr, "FILE", "nvinfer-style detector config",
         [&config_file](const std::string& v) { return config_file = v, true; }, "-c", "a file name"},
    };
    bool help = false;
    if (const std::string error = read_arguments(options, argc, argv, "slipstream detect --help", help, &images); !error.empty()) {
        console::error(error);
        return 2;
    }
    if (help) {
        console::say(usage);
        return 0;
    }
    if (images.empty()) {
        console::note(usage);
        return 2;
    }

    std::unique_ptr<ss::Detector> detector;
    try {
        auto config = ss::load_infer_config(config_file);
        for (const auto& warning : config.warnings) console::warn(warning);
        detector = std::make_unique<ss::Detector>(std::move(config));
    } catch (const ss::Error& e) {
        console::error(e.what());
        return 1;
    }

    int failures = 0;
    for (const auto& path : images) {
        std::string why;
        const cv::Mat image = read_image(path, why);
        if (image.empty()) {
            console::error(path + ": cannot read image (" + why + ")");
            ++failures;
            continue;
        }
        std::string line = "{\"image\":";
        ss::append_json_string(line, path);
        line += ",\"width\":" + std::to_string(image.cols) + ",\"height\":" + std::to_string(image.rows) +
                ",\"detections\":[";
        const auto detections = detector->detect(image);
        for (std::size_t i = 0; i < detections.size(); ++i) {
            if (i) line += ',';
            ss::append_detection_json(line, detections[i], detector->config());
        }
        line += "]}";
        console::say(line);
    }
    return failures ? 1 : 0;
}
