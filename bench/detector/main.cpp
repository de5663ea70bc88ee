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
// usage: bench-detector [--config FILE] [--video FILE | --frames FILE.bgr [--frame-size WxH]]
//                       [--sizes 416,320] [--batches 1,4]
//                       [--warmup N] [--runs N] [--max-overhead PCT] [--json FILE]
// Sizes other than the config's run through a temporary copy of the config with
// infer-dims=3;S;S (the default NanoDet model has dynamic spatial dimensions).
//
// With --backend NAME it measures throughput instead: for each precision and
// batch size it creates the backend through core's registry, configures it
// (BackendOptions: gpu_id, fp16, max_batch = the batch), loads the config's
// model, warms up, then runs forward() on the same pre-processed batch of real
// frames for --seconds and reports images/s (and the median and 90th
// percentile of one forward). Backends that read frames in GPU memory (cuda)
// are also timed on the GPU path's own way in: the same frames as NV12 in GPU
// memory, at the size sscudascale hands them over (the network's input, or
// within it keeping the aspect), through forward_frames (outputs back to host memory: "frames") and,
// where the parser has a GPU plan, forward_frames_parsed (outputs parsed on
// the GPU, candidates back: "parsed"). Then, unless --no-detector, ss::Detector end to
// end (pre-processing, forward, parsing, NMS) through a copy of the config with
// backend=NAME, batch-size=the batch (at most 64, the config's limit; larger
// batches run as several), network-mode=2 or 0 and gpu-id=N, for the same time.
//
//   bench-detector --backend cuda [--batch-sizes 1,8,32,64,128] [--precision fp16,fp32]
//                  [--gpu N] [--seconds S] [--warmup N] [--no-detector]
//                  [--config FILE] [--video FILE | --frames FILE.bgr [--frame-size WxH]] [--json FILE]
//
// CPU backends (opencv) ignore the precision: they run once, as fp32, with a note.
// --frames reads raw BGR frames (raw_frames.hpp says how to write them with the
// bundle's gst-launch-1.0): the build in the portable bundle
// (slipstream-bench-detector) has no OpenCV videoio, so --video is not there.
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
#if SS_BENCH_VIDEOIO
#include <opencv2/videoio.hpp>
#endif

#include "raw_frames.hpp"
#if SS_BENCH_DEVICE_FRAMES
#include "device_frames.hpp"
#endif
#include "slipstream/backend.hpp"
#include "slipstream/config.hpp"
#include "slipstream/detector.hpp"
#include "slipstream/frame_convert.hpp"
#include "slipstream/error.hpp"
#include "slipstream/json.hpp"
#include "slipstream/preprocess.hpp"

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
    fs::path frames;             // raw BGR frames instead of the video
    ss::bench::FrameSize frame_size;
    // Throughput mode (--backend).
    std::string backend;
    std::vector<int> batch_sizes = {1, 8, 32, 64, 128};
    std::vector<std::string> precisions = {"fp16", "fp32"};
    int gpu = 0;
    double seconds = 3;
    bool detector = true;
    bool warmup_given = false;
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
                 "bench-detector: %s\n"
                 "usage: bench-detector [--config FILE] [--video FILE | --frames FILE.bgr [--frame-size WxH]] "
                 "[--sizes 416,320] [--batches 1,4] [--warmup N] [--runs N] [--max-overhead PCT] [--json FILE]\n"
                 "       bench-detector --backend NAME [--batch-sizes 1,8,32,64,128] [--precision fp16,fp32] "
                 "[--gpu N] [--seconds S] [--warmup N] [--no-detector] [--config FILE] "
                 "[--video FILE | --frames FILE.bgr [--frame-size WxH]] [--json FILE]\n",
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
        else if (arg == "--warmup") o.warmup = std::max(0, std::atoi(value().c_str())), o.warmup_given = true;
        else if (arg == "--runs") o.runs = std::max(1, std::atoi(value().c_str()));
        else if (arg == "--max-overhead") o.max_overhead = std::atof(value().c_str());
        else if (arg == "--json") o.json = value();
        else if (arg == "--frames") o.frames = value();
        else if (arg == "--frame-size") {
            o.frame_size = ss::bench::parse_frame_size(value());
            if (!o.frame_size) usage("--frame-size needs WIDTHxHEIGHT");
        } else if (arg == "--backend") o.backend = value();
        else if (arg == "--batch-sizes") o.batch_sizes = int_list(value());
        else if (arg == "--precision") {
            o.precisions.clear();
            std::stringstream in(value());
            std::string item;
            while (std::getline(in, item, ',')) {
                if (item != "fp16" && item != "fp32") usage(("bad precision '" + item + "' (fp16, fp32)").c_str());
                o.precisions.push_back(item);
            }
            if (o.precisions.empty()) usage("--precision needs fp16, fp32 or both");
        } else if (arg == "--gpu") o.gpu = std::max(0, std::atoi(value().c_str()));
        else if (arg == "--seconds") {
            o.seconds = std::atof(value().c_str());
            if (!(o.seconds > 0)) usage("--seconds needs a positive number");
        } else if (arg == "--no-detector") o.detector = false;
        else if (arg == "-h" || arg == "--help") usage("help");
        else usage(("unknown option " + arg).c_str());
    }
    return o;
}

// `count` frames spread over the first seconds of the video (one in `step`), so
// a batch holds different pictures (and different numbers of objects) as in
// real use. With --frames, the raw file's frames (written one in a few
// already) from the first on. at_least: fewer than that is an error.
std::vector<cv::Mat> read_frames(const Options& o, int count, int step = 40, int at_least = -1) {
    if (at_least < 0) at_least = count;
    std::vector<cv::Mat> frames;
    if (!o.frames.empty()) {
        frames = ss::bench::read_raw_frames(o.frames, o.frame_size, static_cast<std::size_t>(count));
        if (static_cast<int>(frames.size()) < at_least) throw std::runtime_error(o.frames.string() + ": too few frames");
        return frames;
    }
#if SS_BENCH_VIDEOIO
    cv::VideoCapture capture(o.video.string());
    if (!capture.isOpened()) throw std::runtime_error(o.video.string() + ": cannot open the video");
    cv::Mat frame;
    for (int i = 0; static_cast<int>(frames.size()) < count && capture.read(frame); ++i) {
        if (i % step == 0) frames.push_back(frame.clone());
    }
    if (static_cast<int>(frames.size()) < at_least) throw std::runtime_error(o.video.string() + ": too few frames");
    return frames;
#else
    (void)step;
    throw std::runtime_error("this build has no OpenCV videoio to read " + o.video.string() +
                             ": give raw BGR frames with --frames FILE.bgr (see raw_frames.hpp)");
#endif
}

std::string frames_name(const Options& o) {
    return (o.frames.empty() ? o.video : o.frames).filename().string();
}

// A copy of the config with another input size and batch size, and other
// [property] keys set (overrides: key -> value). Model and label paths become
// absolute, since the copy lives in another folder.
fs::path config_copy(const fs::path& original, const ss::InferConfig& loaded, int size, int batch, const fs::path& dir,
                     const std::vector<std::pair<std::string, std::string>>& overrides = {},
                     const std::string& tag = "") {
    std::ifstream in(original);
    std::ostringstream out;
    std::string line, section;
    auto overridden = [&](const std::string& key) {
        return std::any_of(overrides.begin(), overrides.end(), [&](const auto& kv) { return kv.first == key; });
    };
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] == '[') section = line;
        const auto key = line.substr(0, line.find('='));
        if (section == "[property]" && (key == "batch-size" || overridden(key))) continue;  // written after [property]
        if (section == "[property]" && key == "infer-dims") {
            line = "infer-dims=" + std::to_string(loaded.input_channels) + ";" + std::to_string(size) + ";" + std::to_string(size);
        } else if (section == "[property]" && key == "onnx-file") {
            line = "onnx-file=" + loaded.onnx_file.string();
        } else if (section == "[property]" && key == "labelfile-path") {
            line = "labelfile-path=" + loaded.labelfile_path.string();
        }
        out << line << '\n';
        if (line == "[property]") {
            out << "batch-size=" << batch << '\n';
            for (const auto& [k, v] : overrides) out << k << '=' << v << '\n';
        }
    }
    const fs::path file = dir / ("config-" + std::to_string(size) + "-b" + std::to_string(batch) + tag + ".txt");
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
    ss::append_json_string(video, (o.frames.empty() ? o.video : o.frames).string());
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

// ---- Throughput mode (--backend) ------------------------------------------

struct Throughput {
    std::string precision;
    int batch = 0;
    bool ok = false;
    std::string error;  // why the point failed
    double forward_ips = 0, forward_ms = 0, forward_p90_ms = 0;
    int forward_runs = 0;
    bool detector_ran = false;
    std::string detector_note;  // why the detector was not timed, or what it did differently
    int detector_batch = 0;
    double detect_ips = 0, detect_ms = 0;
    int detect_runs = 0;
    std::size_t objects = 0;  // found by the detector in the batch, last run
    // The GPU path's own way in (backends that read device frames): the frames
    // as NV12 in GPU memory, pre-processed there; outputs copied back to host
    // memory (frames_ips), or parsed on the GPU with only candidates back (parsed_ips).
    bool frames_ran = false;
    std::string frames_note;
    double frames_ips = 0, frames_ms = 0, parsed_ips = 0, parsed_ms = 0;
    std::size_t parsed_candidates = 0;
};

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
    return v[i];
}

// Runs f `warmup` times, then for `seconds` (at least twice); the times of the timed runs in ms.
template <typename F>
std::vector<double> run_for(double seconds, int warmup, F&& f) {
    for (int i = 0; i < warmup; ++i) f();
    std::vector<double> ms;
    const auto start = std::chrono::steady_clock::now();
    while (ms.size() < 2 || ms_since(start) < seconds * 1000.0) {
        const auto t = std::chrono::steady_clock::now();
        f();
        ms.push_back(ms_since(t));
    }
    return ms;
}

double images_per_s(const std::vector<double>& ms, int batch) {
    double total = 0;
    for (double m : ms) total += m;
    return total > 0 ? 1000.0 * batch * static_cast<double>(ms.size()) / total : 0;
}

// The batch as the GPU path hands it over (NV12 in GPU memory at the
// detector's frame size), through forward_frames and (when the parser has a
// plan for the GPU) forward_frames_parsed.
void bench_device_frames(const Options& o, const ss::InferConfig& base, const std::vector<cv::Mat>& images,
                         ss::InferenceBackend& backend, Throughput& r) {
    if (!backend.accepts_device_frames()) return;
#if SS_BENCH_DEVICE_FRAMES
    try {
        std::vector<ss::DeviceFrame> frames;
        cv::Mat small;
        for (const auto& image : images) {
            cv::resize(image, small,
                       ss::detector_frame_size(image.size(), {base.input_width, base.input_height}, base.maintain_aspect_ratio),
                       0, 0, cv::INTER_AREA);
            frames.push_back(ss::bench::upload_nv12(small, o.gpu));
        }
        const ss::InputSpec spec = ss::input_spec_of(base);
        const ss::ParserContext context = ss::parser_context_of(base);
        const int batch = static_cast<int>(frames.size());
        const auto outputs = backend.forward_frames(frames, spec);
        auto ms = run_for(o.seconds, o.warmup, [&] { (void)backend.forward_frames(frames, spec); });
        r.frames_ips = images_per_s(ms, batch);
        r.frames_ms = median(ms);
        r.frames_ran = true;
        const ss::DeviceParsePlan plan = ss::make_output_parser(base.parser)->device_plan(ss::image_views(outputs, 0), context);
        if (plan.empty() || !backend.parses_on_device()) {
            r.frames_note = "parser " + base.parser + " runs on the CPU only";
            return;
        }
        std::vector<std::vector<ss::Candidate>> parsed;
        ms = run_for(o.seconds, o.warmup, [&] { parsed = backend.forward_frames_parsed(frames, spec, plan, context); });
        r.parsed_ips = images_per_s(ms, batch);
        r.parsed_ms = median(ms);
        for (const auto& c : parsed) r.parsed_candidates += c.size();
    } catch (const std::exception& e) {
        r.frames_note = std::string("device frames failed: ") + e.what();
    }
#else
    (void)o, (void)base, (void)images, (void)r;
    r.frames_note = "built without the CUDA runtime: device frames not timed";
#endif
}

Throughput bench_backend(const Options& o, const ss::InferConfig& base, const std::vector<cv::Mat>& frames,
                         const std::string& precision, int batch, const fs::path& tmp) {
    Throughput r;
    r.precision = precision;
    r.batch = batch;
    std::vector<cv::Mat> images;  // the real frames, over again when the batch is larger
    for (int i = 0; i < batch; ++i) images.push_back(frames[static_cast<std::size_t>(i) % frames.size()]);
    try {
        // The backend alone, on a batch pre-processed once.
        auto backend = ss::make_inference_backend(o.backend);
        ss::BackendOptions options;
        options.gpu_id = o.gpu;
        options.fp16 = precision == "fp16";
        options.max_batch = batch;
        options.sizes_between = false;  // nothing built beside the size measured
        backend->configure(options);
        backend->load(base.onnx_file, base.output_blob_names);
        const ss::Preprocessor preprocessor(base);
        const std::size_t per_image = preprocessor.floats_per_image();
        std::vector<float> input(per_image * static_cast<std::size_t>(batch));
        for (int i = 0; i < batch; ++i) preprocessor.run(images[static_cast<std::size_t>(i)], input.data() + i * per_image);
        const bool nchw = base.network_input_order == ss::InputOrder::nchw;
        const std::vector<int> shape = nchw ? std::vector<int>{batch, base.input_channels, base.input_height, base.input_width}
                                            : std::vector<int>{batch, base.input_height, base.input_width, base.input_channels};
        const ss::InputTensor tensor{input.data(), shape};
        for (const auto& out : backend->forward(tensor)) {
            if (out.shape.empty() || out.shape[0] != batch) {
                throw std::runtime_error("output '" + out.name + "' has batch dimension " +
                                         (out.shape.empty() ? std::string("none") : std::to_string(out.shape[0])) +
                                         " for a batch of " + std::to_string(batch));
            }
        }
        const auto ms = run_for(o.seconds, o.warmup, [&] { (void)backend->forward(tensor); });
        r.forward_ips = images_per_s(ms, batch);
        r.forward_ms = median(ms);
        r.forward_p90_ms = percentile(ms, 0.9);
        r.forward_runs = static_cast<int>(ms.size());
        r.ok = true;
        bench_device_frames(o, base, images, *backend, r);
    } catch (const std::exception& e) {
        r.error = e.what();
        return r;
    }
    if (!o.detector) return r;
    // ss::Detector end to end, with the config saying what the backend was told.
    r.detector_batch = std::min(batch, 64);
    if (r.detector_batch < batch) {
        r.detector_note = "batch-size " + std::to_string(r.detector_batch) + " (the config's limit): " +
                          std::to_string((batch + 63) / 64) + " forwards per detect";
    }
    try {
        const fs::path file = config_copy(o.config, base, base.input_width, r.detector_batch, tmp,
                                          {{"backend", o.backend},
                                           {"network-mode", precision == "fp16" ? "2" : "0"},
                                           {"gpu-id", std::to_string(o.gpu)}},
                                          "-" + precision);
        ss::Detector detector(ss::load_infer_config(file));
        std::vector<ss::Detections> found;
        const auto ms = run_for(o.seconds, o.warmup, [&] { found = detector.detect(images); });
        r.detect_ips = images_per_s(ms, batch);
        r.detect_ms = median(ms);
        r.detect_runs = static_cast<int>(ms.size());
        for (const auto& d : found) r.objects += d.size();
        r.detector_ran = true;
    } catch (const std::exception& e) {
        r.detector_note = std::string("detector failed: ") + e.what();
    }
    return r;
}

void print_throughput_header() {
    std::printf("%9s %6s %12s %9s %9s %13s %10s %8s %13s %13s\n", "precision", "batch", "fwd img/s", "fwd ms", "fwd p90",
                "detect img/s", "detect ms", "objects", "frames img/s", "parsed img/s");
}

void print_throughput_row(const Throughput& r) {
    if (!r.ok) {
        std::printf("%9s %6d   failed: %s\n", r.precision.c_str(), r.batch, r.error.c_str());
        return;
    }
    char detect_ips[32] = "-", detect_ms[32] = "-", objects[32] = "-";
    if (r.detector_ran) {
        std::snprintf(detect_ips, sizeof detect_ips, "%.1f", r.detect_ips);
        std::snprintf(detect_ms, sizeof detect_ms, "%.2f", r.detect_ms);
        std::snprintf(objects, sizeof objects, "%zu", r.objects);
    }
    char frames_ips[32] = "-", parsed_ips[32] = "-";
    if (r.frames_ran) std::snprintf(frames_ips, sizeof frames_ips, "%.1f", r.frames_ips);
    if (r.parsed_ips > 0) std::snprintf(parsed_ips, sizeof parsed_ips, "%.1f", r.parsed_ips);
    std::printf("%9s %6d %12.1f %9.2f %9.2f %13s %10s %8s %13s %13s\n", r.precision.c_str(), r.batch, r.forward_ips,
                r.forward_ms, r.forward_p90_ms, detect_ips, detect_ms, objects, frames_ips, parsed_ips);
    if (!r.detector_note.empty()) std::printf("%16s note: %s\n", "", r.detector_note.c_str());
    if (!r.frames_note.empty()) std::printf("%16s note: %s\n", "", r.frames_note.c_str());
}

void write_throughput_json(const fs::path& file, const Options& o, const ss::InferConfig& base, const std::vector<cv::Mat>& frames,
                           const std::vector<Throughput>& results, const std::string& note) {
    auto q = [](const std::string& s) {
        std::string out;
        ss::append_json_string(out, s);
        return out;
    };
    std::ofstream out(file);
    out << "{\n  \"tool\": \"bench-detector\",\n  \"backend\": " << q(o.backend) << ",\n  \"gpu\": " << o.gpu
        << ",\n  \"config\": " << q(o.config.string()) << ",\n  \"model\": " << q(base.onnx_file.string())
        << ",\n  \"input\": [" << base.input_width << ", " << base.input_height << "],\n  \"frames\": "
        << q((o.frames.empty() ? o.video : o.frames).string()) << ",\n  \"distinct_frames\": " << frames.size()
        << ",\n  \"frame_size\": [" << frames[0].cols << ", " << frames[0].rows << "],\n  \"seconds_per_point\": "
        << o.seconds << ",\n  \"warmup\": " << o.warmup << ",\n  \"threads\": " << cv::getNumThreads()
        << ",\n  \"note\": " << q(note) << ",\n  \"results\": [\n";
    char buffer[768];
    for (std::size_t i = 0; i < results.size(); ++i) {
        const Throughput& r = results[i];
        std::string row = "    {\"precision\": " + q(r.precision) + ", \"batch\": " + std::to_string(r.batch) +
                          ", \"ok\": " + (r.ok ? "true" : "false");
        if (!r.ok) {
            row += ", \"error\": " + q(r.error);
        } else {
            std::snprintf(buffer, sizeof buffer,
                          ", \"forward_images_per_s\": %.2f, \"forward_ms_median\": %.3f, \"forward_ms_p90\": %.3f, "
                          "\"forward_runs\": %d",
                          r.forward_ips, r.forward_ms, r.forward_p90_ms, r.forward_runs);
            row += buffer;
            if (r.detector_ran) {
                std::snprintf(buffer, sizeof buffer,
                              ", \"detect_images_per_s\": %.2f, \"detect_ms_median\": %.3f, \"detect_runs\": %d, "
                              "\"detector_batch\": %d, \"objects\": %zu",
                              r.detect_ips, r.detect_ms, r.detect_runs, r.detector_batch, r.objects);
                row += buffer;
            }
            if (!r.detector_note.empty()) row += ", \"detector_note\": " + q(r.detector_note);
            if (r.frames_ran) {
                std::snprintf(buffer, sizeof buffer, ", \"frames_images_per_s\": %.2f, \"frames_ms_median\": %.3f",
                              r.frames_ips, r.frames_ms);
                row += buffer;
            }
            if (r.parsed_ips > 0) {
                std::snprintf(buffer, sizeof buffer,
                              ", \"parsed_images_per_s\": %.2f, \"parsed_ms_median\": %.3f, \"parsed_candidates\": %zu",
                              r.parsed_ips, r.parsed_ms, r.parsed_candidates);
                row += buffer;
            }
            if (!r.frames_note.empty()) row += ", \"frames_note\": " + q(r.frames_note);
        }
        out << row << "}" << (i + 1 < results.size() ? "," : "") << "\n";
    }
    out << "  ]\n}\n";
}

int throughput_main(Options o) {
    const ss::InferConfig base = ss::load_infer_config(o.config);
    // Distinct real frames, one in 20 of the video (up to 32; batches repeat them).
    const int most = *std::max_element(o.batch_sizes.begin(), o.batch_sizes.end());
    const std::vector<cv::Mat> frames = read_frames(o, std::min(most, o.frames.empty() ? 32 : 128), 20, 1);
    std::string note;
    if (o.backend == "opencv") {  // CPU backends: BackendOptions' precision means nothing to them
        if (o.precisions != std::vector<std::string>{"fp32"}) {
            note = o.backend + " runs FP32 on the CPU: --precision ignored";
            std::printf("note: %s\n", note.c_str());
        }
        o.precisions = {"fp32"};
    }
    // Unknown backend names fail here, once, with the registry's list.
    (void)ss::make_inference_backend(o.backend);

    std::string pattern = (fs::temp_directory_path() / "bench-detector-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary folder");
    const fs::path tmp = pattern;

    std::printf("backend %s, GPU %d, model %s at %dx%d, %zu frames of %s (%dx%d), %.1f s per point after %d warm-up runs, "
                "%d CPU threads\n",
                o.backend.c_str(), o.gpu, base.onnx_file.filename().c_str(), base.input_width, base.input_height,
                frames.size(), frames_name(o).c_str(), frames[0].cols, frames[0].rows, o.seconds, o.warmup,
                cv::getNumThreads());
    print_throughput_header();
    std::fflush(stdout);
    std::vector<Throughput> results;
    bool all_ok = true;
    for (const auto& precision : o.precisions) {
        for (int batch : o.batch_sizes) {
            results.push_back(bench_backend(o, base, frames, precision, batch, tmp));
            all_ok = all_ok && results.back().ok;
            print_throughput_row(results.back());
            std::fflush(stdout);
            // After every point, so a run cut short by a time limit keeps what it measured.
            if (!o.json.empty()) write_throughput_json(o.json, o, base, frames, results, note);
        }
    }
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    try {
        if (!o.backend.empty()) return throughput_main(o);
        const ss::InferConfig base = ss::load_infer_config(o.config);
        const int most = *std::max_element(o.batches.begin(), o.batches.end());
        const std::vector<cv::Mat> frames = read_frames(o, most);

        std::string pattern = (fs::temp_directory_path() / "bench-detector-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary folder");
        const fs::path tmp = pattern;

        std::printf("model %s, %s (%dx%d), %d threads, median of %d runs after %d warm-up\n",
                    base.onnx_file.filename().c_str(), frames_name(o).c_str(), frames[0].cols, frames[0].rows,
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
