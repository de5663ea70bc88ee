// `slipstream detect [--config FILE] IMAGE...`: one JSON object per image on
// stdout, boxes in original-image pixels. Unreadable images are reported on
// stderr and the rest are still processed; the exit code says whether all worked.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "commands.hpp"
#include "slipstream/detector.hpp"
#include "slipstream/error.hpp"
#include "slipstream/json.hpp"

namespace {

void print_usage(FILE* out) {
    std::fputs(
        "usage: slipstream detect [--config FILE] IMAGE...\n"
        "Detects objects in each image and prints one JSON object per image:\n"
        "  {\"image\", \"width\", \"height\", \"detections\": [{\"class_id\", \"label\", \"group\",\n"
        "   \"confidence\", \"bbox\": [left, top, width, height]}]}\n"
        "  --config FILE   nvinfer-style detector config (default: the embedded NanoDet config)\n",
        out);
}

}  // namespace

int run_detect_command(int argc, char** argv) {
    std::filesystem::path config_file = ss::default_config_path();
    std::vector<std::string> images;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            print_usage(stdout);
            return 0;
        } else if (arg == "--config" || arg == "-c") {
            if (++i >= argc) {
                std::fprintf(stderr, "error: --config needs a file name\n");
                return 2;
            }
            config_file = argv[i];
        } else if (arg.rfind("--config=", 0) == 0) {
            config_file = arg.substr(9);
        } else if (arg.size() > 1 && arg[0] == '-') {
            std::fprintf(stderr, "error: unknown option '%s' (see slipstream detect --help)\n", arg.c_str());
            return 2;
        } else {
            images.push_back(arg);
        }
    }
    if (images.empty()) {
        print_usage(stderr);
        return 2;
    }

    std::unique_ptr<ss::Detector> detector;
    try {
        auto config = ss::load_infer_config(config_file);
        for (const auto& warning : config.warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
        detector = std::make_unique<ss::Detector>(std::move(config));
    } catch (const ss::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }

    int failures = 0;
    for (const auto& path : images) {
        cv::Mat image;
        try {
            image = cv::imread(path, cv::IMREAD_COLOR);
        } catch (const cv::Exception&) {
            image.release();
        }
        if (image.empty()) {
            std::fprintf(stderr, "error: %s: cannot read image (missing, or not an image format OpenCV reads)\n", path.c_str());
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
        line += "]}\n";
        std::fputs(line.c_str(), stdout);
        std::fflush(stdout);
    }
    return failures ? 1 : 0;
}
