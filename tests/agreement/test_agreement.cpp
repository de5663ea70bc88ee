// Backend agreement: the same real frames through the OpenCV DNN backend (the
// reference, FP32 on the CPU) and a GPU backend (default "cuda"), for the
// default model and config, at FP32 and at FP16:
//
//   raw outputs   every output tensor has the reference's name and shape, and
//                 max |gpu - cpu| <= tolerance x scale, where scale is the
//                 reference tensor's range (max - min) but at least 1 (class
//                 scores are probabilities, mostly near 0 on real frames, so
//                 their range alone can be tiny): FP32 1e-3, FP16 2e-2
//                 (SS_AGREEMENT_FP32_TOL and SS_AGREEMENT_FP16_TOL override
//                 them). Checked at batch 1 and with all frames in one batch.
//   detections    ss::Detector with copies of the config (backend=opencv and
//                 backend=cuda, network-mode=0 or 2, batch-size=all frames):
//                 per frame the same number of objects, each matched one to
//                 one with an object of the same class at IoU >= 0.9, and
//                 confidences within the tolerance of the raw outputs. Objects
//                 whose confidence lies within that tolerance of their class's
//                 pre-cluster-threshold may be found by one backend only
//                 (rounding may put them on either side); they are listed.
//   parsed on the GPU  (builds with CUDA) the frames as NV12 in GPU memory:
//                 the backend's own parse of the outputs (parse-on-gpu) gives
//                 the candidates the CPU parser gives from the outputs of a
//                 second run of the same batch (copied back), in the same
//                 order, boxes within 1e-3 pixels.
//
// Frames: raw 8-bit BGR frames (bench/detector/raw_frames.hpp) from
// SS_AGREEMENT_FRAMES (size from SS_AGREEMENT_FRAME_SIZE=WxH or the file name),
// else SS_AGREEMENT_DEFAULT_FRAMES (CTest writes it from the vtest sample with
// bench/detector/write_frames.sh). The binary needs no OpenCV videoio, so the
// portable bundle carries it to GPU servers (bin/slipstream-agreement-tests).
//
// Skips, with the reason, where the backend is not built in (the registry does
// not know it) or no NVIDIA GPU is present; SS_AGREEMENT_REQUIRE=1 turns those
// skips into failures (the GPU machine's script sets it).
// SS_AGREEMENT_BACKEND=opencv compares the reference with itself: a check of
// this harness that runs anywhere.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#ifdef SS_AGREEMENT_HAVE_CUDA
#include "device_frames.hpp"
#endif

#include "raw_frames.hpp"
#include "slipstream/backend.hpp"
#include "slipstream/config.hpp"
#include "slipstream/detection.hpp"
#include "slipstream/detector.hpp"
#include "slipstream/preprocess.hpp"

namespace fs = std::filesystem;

namespace {

std::string env(const char* name, const std::string& fallback = "") {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

double tolerance(bool fp16) {
    const std::string v = env(fp16 ? "SS_AGREEMENT_FP16_TOL" : "SS_AGREEMENT_FP32_TOL");
    return v.empty() ? (fp16 ? 2e-2 : 1e-3) : std::atof(v.c_str());
}

const char* precision_name(bool fp16) { return fp16 ? "FP16" : "FP32"; }

bool nvidia_gpu_present() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/dev", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > 6 && name.rfind("nvidia", 0) == 0 && std::isdigit(static_cast<unsigned char>(name[6]))) return true;
    }
    return false;
}

// A copy of the config with [property] keys replaced; model and labels absolute.
fs::path config_copy(const fs::path& original, const ss::InferConfig& loaded,
                     const std::vector<std::pair<std::string, std::string>>& keys, const fs::path& file) {
    std::ifstream in(original);
    std::ostringstream out;
    std::string line, section;
    std::vector<std::pair<std::string, std::string>> all = keys;
    all.emplace_back("onnx-file", loaded.onnx_file.string());
    all.emplace_back("labelfile-path", loaded.labelfile_path.string());
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] == '[') section = line;
        const std::string key = line.substr(0, line.find('='));
        const bool replaced = std::any_of(all.begin(), all.end(), [&](const auto& kv) { return kv.first == key; });
        if (section == "[property]" && replaced) continue;
        out << line << '\n';
        if (line == "[property]") {
            for (const auto& [k, v] : all) out << k << '=' << v << '\n';
        }
    }
    std::ofstream(file) << out.str();
    return file;
}

struct Stats {
    double max_abs = 0, mean_abs = 0, range = 0;
    std::size_t worst = 0;
};

Stats compare(const ss::OutputTensor& ref, const ss::OutputTensor& got, std::size_t n) {
    Stats s;
    float lo = ref.data[0], hi = ref.data[0];
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        lo = std::min(lo, ref.data[i]);
        hi = std::max(hi, ref.data[i]);
        const double d = std::fabs(static_cast<double>(ref.data[i]) - got.data[i]);
        if (!(d <= s.max_abs)) s.max_abs = std::isnan(d) ? INFINITY : d, s.worst = i;
        sum += d;
    }
    s.mean_abs = sum / static_cast<double>(n);
    s.range = static_cast<double>(hi) - lo;
    return s;
}

std::string shape_text(const std::vector<int>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string describe(const ss::Detection& d) {
    char b[160];
    std::snprintf(b, sizeof b, "class %d conf %.3f box (%.1f, %.1f, %.1f x %.1f)", d.class_id, d.confidence, d.box.left,
                  d.box.top, d.box.width, d.box.height);
    return b;
}

class Agreement : public ::testing::TestWithParam<bool> {  // the parameter: fp16
protected:
    static void SetUpTestSuite() {
        backend_ = env("SS_AGREEMENT_BACKEND", "cuda");
        const bool require = env("SS_AGREEMENT_REQUIRE") == "1";
        try {
            (void)ss::make_inference_backend(backend_);
        } catch (const std::exception& e) {
            skip_ = "backend '" + backend_ + "' is not available in this build: " + e.what();
        }
        if (skip_.empty() && backend_ != "opencv" && !nvidia_gpu_present()) {
            skip_ = "no NVIDIA GPU here (no /dev/nvidiaN)";
        }
        if (!skip_.empty() && require) {
            failure_ = skip_ + " (SS_AGREEMENT_REQUIRE=1)";
            skip_.clear();
        }
        if (!skip_.empty() || !failure_.empty()) return;
        try {
            config_file_ = ss::default_config_path();
            config_ = ss::load_infer_config(config_file_);
            fs::path frames = env("SS_AGREEMENT_FRAMES");
#ifdef SS_AGREEMENT_DEFAULT_FRAMES
            if (frames.empty()) frames = SS_AGREEMENT_DEFAULT_FRAMES;
#endif
            if (frames.empty()) throw std::runtime_error("no frames: set SS_AGREEMENT_FRAMES to a raw BGR file");
            frames_ = ss::bench::read_raw_frames(frames, ss::bench::parse_frame_size(env("SS_AGREEMENT_FRAME_SIZE")),
                                                 static_cast<std::size_t>(std::atoi(env("SS_AGREEMENT_MAX_FRAMES", "8").c_str())));
            std::printf("[ agreement] %s against opencv, %zu frames of %s (%dx%d), model %s\n", backend_.c_str(),
                        frames_.size(), frames.filename().c_str(), frames_[0].cols, frames_[0].rows,
                        config_.onnx_file.filename().c_str());
            std::string pattern = (fs::temp_directory_path() / "ss-agreement-XXXXXX").string();
            if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary folder");
            tmp_ = pattern;
        } catch (const std::exception& e) {
            failure_ = e.what();
        }
    }

    static void TearDownTestSuite() {
        std::error_code ec;
        if (!tmp_.empty()) fs::remove_all(tmp_, ec);
    }

    void SetUp() override {
        if (!skip_.empty()) GTEST_SKIP() << skip_;
        ASSERT_TRUE(failure_.empty()) << failure_;
    }

    // One forward of `count` frames through a freshly configured backend.
    static std::vector<ss::OutputTensor> forward(const std::string& name, bool fp16, std::size_t count,
                                                 std::vector<float>& input) {
        auto backend = ss::make_inference_backend(name);
        ss::BackendOptions options;
        options.gpu_id = std::atoi(env("SS_AGREEMENT_GPU", "0").c_str());
        options.fp16 = fp16;
        options.max_batch = static_cast<int>(count);
        options.sizes_between = false;
        backend->configure(options);
        backend->load(config_.onnx_file, config_.output_blob_names);
        const ss::Preprocessor preprocessor(config_);
        const std::size_t per_image = preprocessor.floats_per_image();
        input.assign(per_image * count, 0.f);
        for (std::size_t i = 0; i < count; ++i) preprocessor.run(frames_[i], input.data() + i * per_image);
        const int n = static_cast<int>(count);
        const bool nchw = config_.network_input_order == ss::InputOrder::nchw;
        const std::vector<int> shape = nchw ? std::vector<int>{n, config_.input_channels, config_.input_height, config_.input_width}
                                            : std::vector<int>{n, config_.input_height, config_.input_width, config_.input_channels};
        return backend->forward({input.data(), shape});
    }

    void expect_outputs_agree(std::size_t count) {
        const bool fp16 = GetParam();
        const double tol = tolerance(fp16);
        std::vector<float> ref_input, got_input;
        const auto ref = forward("opencv", false, count, ref_input);
        const auto got = forward(backend_, fp16, count, got_input);
        ASSERT_EQ(ref_input, got_input);
        ASSERT_EQ(got.size(), ref.size()) << "number of outputs";
        // Matched by name: OpenCV lists a model's outputs in its own order.
        for (std::size_t k = 0; k < ref.size(); ++k) {
            const auto match = std::find_if(got.begin(), got.end(), [&](const auto& t) { return t.name == ref[k].name; });
            ASSERT_NE(match, got.end()) << "output " << ref[k].name << " missing from " << backend_;
            const auto& g = *match;
            ASSERT_EQ(g.shape, ref[k].shape) << "output " << ref[k].name;
            std::size_t n = 1;
            for (int d : ref[k].shape) n *= static_cast<std::size_t>(d);
            ASSERT_GT(n, 0u);
            const Stats s = compare(ref[k], g, n);
            const double scale = std::max(s.range, 1.0);
            const double allowed = tol * scale;
            std::printf("[ agreement] %s batch %zu %-8s %-14s range %8.4f  max |diff| %.3g (%.2g of scale, allowed %.2g)  "
                        "mean %.3g\n",
                        precision_name(fp16), count, ref[k].name.c_str(), shape_text(ref[k].shape).c_str(), s.range,
                        s.max_abs, s.max_abs / scale, tol, s.mean_abs);
            EXPECT_LE(s.max_abs, allowed)
                << ref[k].name << " (" << precision_name(fp16) << ", batch " << count << "): worst element " << s.worst
                << " is " << g.data[s.worst] << ", opencv has " << ref[k].data[s.worst];
        }
    }

    static std::string backend_, skip_, failure_;
    static fs::path config_file_, tmp_;
    static ss::InferConfig config_;
    static std::vector<cv::Mat> frames_;
};

std::string Agreement::backend_, Agreement::skip_, Agreement::failure_;
fs::path Agreement::config_file_, Agreement::tmp_;
ss::InferConfig Agreement::config_;
std::vector<cv::Mat> Agreement::frames_;

TEST_P(Agreement, RawOutputsOneFrame) {
    expect_outputs_agree(1);
}

TEST_P(Agreement, RawOutputsWholeBatch) {
    expect_outputs_agree(frames_.size());
}

TEST_P(Agreement, Detections) {
    const bool fp16 = GetParam();
    const double tol = tolerance(fp16);
    const std::string batch = std::to_string(std::min<std::size_t>(frames_.size(), 64));
    auto detector_for = [&](const std::string& name, bool half) {
        const fs::path file = tmp_ / ("config-" + name + (half ? "-fp16" : "-fp32") + ".txt");
        config_copy(config_file_, config_,
                    {{"backend", name}, {"network-mode", half ? "2" : "0"}, {"batch-size", batch},
                     {"gpu-id", env("SS_AGREEMENT_GPU", "0")}},
                    file);
        return ss::Detector(ss::load_infer_config(file));
    };
    ss::Detector reference = detector_for("opencv", false);
    ss::Detector tested = detector_for(backend_, fp16);
    const auto want = reference.detect(frames_);
    const auto got = tested.detect(frames_);
    ASSERT_EQ(got.size(), want.size());
    std::size_t matched = 0, borderline = 0, total_want = 0, total_got = 0;
    double worst_iou = 1, worst_conf = 0;
    for (std::size_t f = 0; f < want.size(); ++f) {
        total_want += want[f].size();
        total_got += got[f].size();
        // Greedy one-to-one matching, best IoU first, same class only.
        struct Pair {
            float iou;
            std::size_t a, b;
        };
        std::vector<Pair> pairs;
        for (std::size_t a = 0; a < want[f].size(); ++a) {
            for (std::size_t b = 0; b < got[f].size(); ++b) {
                if (want[f][a].class_id != got[f][b].class_id) continue;
                const float iou = ss::intersection_over_union(want[f][a].box, got[f][b].box);
                if (iou > 0) pairs.push_back({iou, a, b});
            }
        }
        std::sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.iou > y.iou; });
        std::vector<bool> used_a(want[f].size()), used_b(got[f].size());
        for (const Pair& p : pairs) {
            if (used_a[p.a] || used_b[p.b] || p.iou < 0.9f) continue;
            used_a[p.a] = used_b[p.b] = true;
            ++matched;
            worst_iou = std::min(worst_iou, static_cast<double>(p.iou));
            const double dc = std::fabs(want[f][p.a].confidence - got[f][p.b].confidence);
            worst_conf = std::max(worst_conf, dc);
            EXPECT_LE(dc, tol) << "frame " << f << ": " << describe(want[f][p.a]) << " vs " << describe(got[f][p.b]);
        }
        // Unmatched objects: allowed only next to the threshold.
        auto check_unmatched = [&](const ss::Detections& list, const std::vector<bool>& used, const char* who) {
            for (std::size_t i = 0; i < list.size(); ++i) {
                if (used[i]) continue;
                const double threshold = config_.attributes(list[i].class_id).pre_cluster_threshold;
                if (std::fabs(list[i].confidence - threshold) <= tol) {
                    ++borderline;
                    std::printf("[ agreement] frame %zu: only %s found %s (at the threshold %.2f)\n", f, who,
                                describe(list[i]).c_str(), threshold);
                } else {
                    ADD_FAILURE() << precision_name(fp16) << " frame " << f << ": only " << who << " found "
                                  << describe(list[i]) << " (no object of that class at IoU >= 0.9 in the other)";
                }
            }
        };
        check_unmatched(want[f], used_a, "opencv");
        check_unmatched(got[f], used_b, backend_.c_str());
    }
    std::printf("[ agreement] %s detections: opencv %zu, %s %zu, matched %zu (IoU >= %.3f, confidence within %.2g), "
                "%zu at the threshold\n",
                precision_name(fp16), total_want, backend_.c_str(), total_got, matched, matched ? worst_iou : 0.0,
                worst_conf, borderline);
    EXPECT_GT(total_want, 0u) << "the reference found nothing in these frames: not a useful comparison";
}

#ifdef SS_AGREEMENT_HAVE_CUDA
TEST_P(Agreement, ParsedOnTheGpu) {
    if (backend_ == "opencv") GTEST_SKIP() << "the opencv backend reads no GPU frames";
    const bool fp16 = GetParam();
    const int device = std::atoi(env("SS_AGREEMENT_GPU", "0").c_str());
    auto backend = ss::make_inference_backend(backend_);
    ss::BackendOptions options;
    options.gpu_id = device;
    options.fp16 = fp16;
    options.max_batch = static_cast<int>(frames_.size());
    options.sizes_between = false;
    backend->configure(options);
    backend->load(config_.onnx_file, config_.output_blob_names);
    ASSERT_TRUE(backend->parses_on_device());
    std::vector<ss::DeviceFrame> frames;
    for (const auto& f : frames_) frames.push_back(ss::bench::upload_nv12(f, device));
    const ss::InputSpec spec = ss::input_spec_of(config_);
    const ss::ParserContext context = ss::parser_context_of(config_);

    // The CPU parser on the outputs copied back, image by image.
    const auto outputs = backend->forward_frames(frames, spec);
    const auto parser = ss::make_output_parser(config_.parser);
    const ss::DeviceParsePlan plan = parser->device_plan(ss::image_views(outputs, 0), context);
    ASSERT_FALSE(plan.empty()) << "parser " << config_.parser << " has no plan for the GPU";
    const auto parsed = backend->forward_frames_parsed(frames, spec, plan, context);
    ASSERT_EQ(parsed.size(), frames.size());
    std::size_t total = 0;
    double worst = 0;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        std::vector<ss::Candidate> want;
        parser->parse(ss::image_views(outputs, i), context, want);
        ASSERT_EQ(parsed[i].size(), want.size()) << "frame " << i;
        for (std::size_t k = 0; k < want.size(); ++k) {
            const auto& a = want[k];
            const auto& b = parsed[i][k];
            EXPECT_EQ(b.class_id, a.class_id) << "frame " << i << " candidate " << k;
            EXPECT_EQ(b.confidence, a.confidence) << "frame " << i << " candidate " << k;
            for (auto [x, y] : {std::pair{a.x1, b.x1}, {a.y1, b.y1}, {a.x2, b.x2}, {a.y2, b.y2}}) {
                worst = std::max(worst, static_cast<double>(std::fabs(x - y)));
                EXPECT_NEAR(y, x, 1e-3) << "frame " << i << " candidate " << k;
            }
        }
        total += want.size();
    }
    std::printf("[ agreement] %s parsed on the GPU: %zu candidates in %zu frames, as the CPU parser's (worst corner %.2g px)\n",
                precision_name(fp16), total, frames.size(), worst);
    EXPECT_GT(total, 0u) << "no candidate in these frames: not a useful comparison";
}
#endif

INSTANTIATE_TEST_SUITE_P(Precision, Agreement, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "fp16" : "fp32"; });

}  // namespace
