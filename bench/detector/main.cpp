// bench-detector: what does slipstream's detector cost on top of the network?
//
// For each input size and batch size it times, on real frames of a video,
//   raw     cv::dnn::Net::forward of the same ONNX file on a blob that
//           cv::dnn::blobFromImages prepared beforehand (the baseline), and
//   detect  ss::Detector::detect end to end: pre-processing, forward, output
//           parsing, thresholds and NMS,
// and reports the medians and the overhead (detect - raw) / raw, which should
// stay within --max-overhead percent (exit status 2 otherwise). The detector's
// own split (pre-processing, forward, post-processing) is shown beside it, and
// "non-fwd": the median of detect minus its own forward, as a percentage of raw
// -- the overhead measured without the noise of two separate forward passes.
//
// usage: bench-detector [--config FILE] [--video FILE] [--sizes 416,320] [--batches 1,4]
//                       [--warmup N] [--runs N] [--max-overhead PCT] [--json FILE]
// Sizes other than the config's run through a temporary copy of the config with
// infer-dims=3;S;S (the default NanoDet model has dynamic spatial dimensions).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/videoio.hpp>

#include "slipstream/config.hpp"
#include "slipstream/detector.hpp"
#include "slipstream/error.hpp"
#include "slipstream/json.hpp"

namespace fs = std::filesystem;

namespace {

struct Options {
    fs::path config = ss::default_config_path();
    fs::path video = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
    std::vector<int> sizes = {416, 320};
    std::vector<int> batches = {1, 4};
    int warmup = 3;
    int runs = 30;
    double max_overhead = 10;
    fs::path json;
};

struct Result {
    int size = 0, batch = 0;
    double raw_ms = 0, detect_ms = 0;
    double preprocess_ms = 0, forward_ms = 0, postprocess_ms = 0;  // medians of the detector's own split
    double outside_forward_ms = 0;  // median of (detect - its own forward): the detector's share alone
    std::size_t objects = 0;        // found in the last run, all images
    double overhead_pct() const { return 100.0 * (detect_ms - raw_ms) / raw_ms; }
    // The same overhead without the run-to-run noise of the forward pass itself,
    // which on a busy machine can be larger than everything else.
    double outside_forward_pct() const { return 100.0 * outside_forward_ms / raw_ms; }
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "bench-detector: %s\nusage: bench-detector [--config FILE] [--video FILE] [--sizes 416,320] "
                 "[--batches 1,4] [--warmup N] [--runs N] [--max-overhead PCT] [--json FILE]\n",
                 why);
    std::exit(64);
}

std::vector<int> int_list(const std::string& text) {
    std::vector<int> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        const long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end || v < 1 || v > 4096) usage(("bad number list '" + text + "'").c_str());
        out.push_back(static_cast<int>(v));
    }
    return out;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage((arg + " needs a value").c_str());
            return argv[++i];
        };
        if (arg == "--config") o.config = value();
        else if (arg == "--video") o.video = value();
        else if (arg == "--sizes") o.sizes = int_list(value());
        else if (arg == "--batches") o.batches = int_list(value());
        else if (arg == "--warmup") o.warmup = std::max(0, std::atoi(value().c_str()));
        else if (arg == "--runs") o.runs = std::max(1, std::atoi(value().c_str()));
        else if (arg == "--max-overhead") o.max_overhead = std::atof(value().c_str());
        else if (arg == "--json") o.json = value();
        else if (arg == "-h" || arg == "--help") usage("help");
        else usage(("unknown option " + arg).c_str());
    }
    return o;
}

// `count` frames spread over the first seconds of the video, so a batch holds
// different pictures (and different numbers of objects) as in real use.
std::vector<cv::Mat> read_frames(const fs::path& video, int count) {
    cv::VideoCapture capture(video.string());
    if (!capture.isOpened()) throw std::runtime_error(video.string() + ": cannot open the video");
    std::vector<cv::Mat> frames;
    cv::Mat frame;
    for (int i = 0; static_cast<int>(frames.size()) < count && capture.read(frame); ++i) {
        if (i % 40 == 0) frames.push_back(frame.clone());
    }
    if (static_cast<int>(frames.size()) < count) throw std::runtime_error(video.string() + ": too few frames");
    return frames;
}

// A copy of the config with another input size and batch size. Model and label
// paths become absolute, since the copy lives in another folder.
fs::path config_copy(const fs::path& original, const ss::InferConfig& loaded, int size, int batch, const fs::path& dir) {
    std::ifstream in(original);
    std::ostringstream out;
    std::string line, section;
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] == '[') section = line;
        const auto key = line.substr(0, line.find('='));
        if (section == "[property]" && key == "batch-size") continue;  // written right after [property]
        if (section == "[property]" && key == "infer-dims") {
            line = "infer-dims=" + std::to_string(loaded.input_channels) + ";" + std::to_string(size) + ";" + std::to_string(size);
        } else if (section == "[property]" && key == "onnx-file") {
            line = "onnx-file=" + loaded.onnx_file.string();
        } else if (section == "[property]" && key == "labelfile-path") {
            line = "labelfile-path=" + loaded.labelfile_path.string();
        }
        out << line << '\n';
        if (line == "[property]") out << "batch-size=" << batch << '\n';
    }
    const fs::path file = dir / ("config-" + std::to_string(size) + "-b" + std::to_string(batch) + ".txt");
    std::ofstream(file) << out.str();
    return file;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Result bench(const ss::InferConfig& config, const std::vector<cv::Mat>& images, const Options& o) {
    Result r;
    r.size = config.input_width;
    r.batch = static_cast<int>(images.size());

    ss::Detector detector(config);

    // The baseline: the same model, backend and target, fed what blobFromImages
    // makes of the same frames (stretched, scaled, RGB as the config says).
    cv::dnn::Net net = cv::dnn::readNetFromONNX(config.onnx_file.string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    const std::vector<std::string> names = net.getUnconnectedOutLayersNames();
    const cv::Mat blob = cv::dnn::blobFromImages(images, config.net_scale_factor,
                                                 cv::Size(config.input_width, config.input_height), cv::Scalar(),
                                                 config.model_color_format == ss::ColorFormat::rgb, false);
    std::vector<cv::Mat> outputs;
    auto raw = [&] {
        net.setInput(blob);
        net.forward(outputs, names);
    };
    std::vector<ss::Detections> found;
    auto detect = [&] { found = detector.detect(images); };

    for (int i = 0; i < o.warmup; ++i) raw(), detect();
    // Interleaved, in alternating order, so that whatever else runs on the
    // machine (and caches, and clock changes) hits both alike.
    std::vector<double> raw_ms, detect_ms, pre_ms, fwd_ms, post_ms, outside_ms;
    auto time_raw = [&] {
        const auto start = std::chrono::steady_clock::now();
        raw();
        raw_ms.push_back(ms_since(start));
    };
    auto time_detect = [&] {
        const auto start = std::chrono::steady_clock::now();
        detect();
        detect_ms.push_back(ms_since(start));
        const auto& t = detector.last_timing();
        pre_ms.push_back(t.preprocess_ms);
        fwd_ms.push_back(t.forward_ms);
        post_ms.push_back(t.postprocess_ms);
        outside_ms.push_back(detect_ms.back() - t.forward_ms);
    };
    for (int i = 0; i < o.runs; ++i) {
        if (i % 2) {
            time_detect(), time_raw();
        } else {
            time_raw(), time_detect();
        }
    }
    r.raw_ms = median(raw_ms);
    r.detect_ms = median(detect_ms);
    r.preprocess_ms = median(pre_ms);
    r.forward_ms = median(fwd_ms);
    r.postprocess_ms = median(post_ms);
    r.outside_forward_ms = median(outside_ms);
    for (const auto& d : found) r.objects += d.size();
    return r;
}

void write_json(const fs::path& file, const Options& o, const std::vector<Result>& results, bool pass) {
    std::string config, video;
    ss::append_json_string(config, o.config.string());
    ss::append_json_string(video, o.video.string());
    std::ofstream out(file);
    out << "{\n  \"config\": " << config << ",\n  \"video\": " << video << ",\n"
        << "  \"warmup\": " << o.warmup << ",\n  \"runs\": " << o.runs << ",\n  \"threads\": " << cv::getNumThreads()
        << ",\n  \"statistic\": \"median\",\n  \"max_overhead_pct\": " << o.max_overhead << ",\n  \"pass\": "
        << (pass ? "true" : "false") << ",\n  \"results\": [\n";
    char buffer[512];
    for (std::size_t i = 0; i < results.size(); ++i) {
        const Result& r = results[i];
        std::snprintf(buffer, sizeof buffer,
                      "    {\"input\": %d, \"batch\": %d, \"raw_forward_ms\": %.3f, \"detect_ms\": %.3f, "
                      "\"overhead_pct\": %.2f, \"detect_preprocess_ms\": %.3f, \"detect_forward_ms\": %.3f, "
                      "\"detect_postprocess_ms\": %.3f, \"outside_forward_pct\": %.2f, \"objects\": %zu}%s\n",
                      r.size, r.batch, r.raw_ms, r.detect_ms, r.overhead_pct(), r.preprocess_ms, r.forward_ms,
                      r.postprocess_ms, r.outside_forward_pct(), r.objects, i + 1 < results.size() ? "," : "");
        out << buffer;
    }
    out << "  ]\n}\n";
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    try {
        const ss::InferConfig base = ss::load_infer_config(o.config);
        const int most = *std::max_element(o.batches.begin(), o.batches.end());
        const std::vector<cv::Mat> frames = read_frames(o.video, most);

        std::string pattern = (fs::temp_directory_path() / "bench-detector-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary folder");
        const fs::path tmp = pattern;

        std::printf("model %s, %s (%dx%d), %d threads, median of %d runs after %d warm-up\n",
                    base.onnx_file.filename().c_str(), o.video.filename().c_str(), frames[0].cols, frames[0].rows,
                    cv::getNumThreads(), o.runs, o.warmup);
        std::printf("%6s %6s %12s %12s %9s %8s %8s %8s %9s %8s\n", "input", "batch", "raw fwd ms", "detect ms",
                    "overhead", "pre ms", "fwd ms", "post ms", "non-fwd", "objects");
        std::vector<Result> results;
        bool pass = true;
        for (int size : o.sizes) {
            for (int batch : o.batches) {
                const auto config = ss::load_infer_config(config_copy(o.config, base, size, batch, tmp));
                const std::vector<cv::Mat> images(frames.begin(), frames.begin() + batch);
                const Result r = bench(config, images, o);
                pass = pass && r.overhead_pct() <= o.max_overhead;
                std::printf("%6d %6d %12.2f %12.2f %8.1f%% %8.2f %8.2f %8.2f %8.1f%% %8zu\n", r.size, r.batch,
                            r.raw_ms, r.detect_ms, r.overhead_pct(), r.preprocess_ms, r.forward_ms, r.postprocess_ms,
                            r.outside_forward_pct(), r.objects);
                std::fflush(stdout);
                results.push_back(r);
            }
        }
        std::error_code ec;
        fs::remove_all(tmp, ec);
        std::printf("overhead %s the %.0f%% limit\n", pass ? "within" : "EXCEEDS", o.max_overhead);
        if (!o.json.empty()) write_json(o.json, o, results, pass);
        return pass ? 0 : 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench-detector: %s\n", e.what());
        return 1;
    }
}
