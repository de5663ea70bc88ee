// The detector's device-frame path without a GPU: a test backend records the
// DeviceFrame lists it is handed and returns canned YOLO tensors, so these
// tests check the plumbing (batching, the InputSpec, boxes mapped back to the
// report size, the fall-back to the CPU pictures), not any GPU code. The
// backend exists only here.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "slipstream/async_detector.hpp"
#include "slipstream/detector.hpp"
#include "slipstream/error.hpp"
#include "test_util.hpp"

namespace {

// One box per image, YOLOv5 rows (cx, cy, w, h, objectness, class score) in
// network pixels; a second row below every threshold.
struct Recorder {
    std::mutex mutex;
    std::vector<std::vector<ss::DeviceFrame>> frame_calls;
    std::vector<ss::InputSpec> specs;
    int cpu_calls = 0;
    float cx = 320, cy = 320, w = 64, h = 64;
};

class RecordingBackend : public ss::InferenceBackend {
public:
    RecordingBackend(std::shared_ptr<Recorder> recorder, bool device, bool fail = false)
        : recorder_(std::move(recorder)), device_(device), fail_(fail) {}

    void load(const std::filesystem::path&, const std::vector<std::string>&) override {}

    std::vector<ss::OutputTensor> forward(const ss::InputTensor& input) override {
        std::lock_guard lock(recorder_->mutex);
        ++recorder_->cpu_calls;
        return canned(input.shape.at(0));
    }

    bool accepts_device_frames() const override { return device_; }

    std::vector<ss::OutputTensor> forward_frames(const std::vector<ss::DeviceFrame>& frames, const ss::InputSpec& spec) override {
        if (fail_) throw ss::Error("the test backend's GPU is on fire");
        std::lock_guard lock(recorder_->mutex);
        recorder_->frame_calls.push_back(frames);
        recorder_->specs.push_back(spec);
        return canned(static_cast<int>(frames.size()));
    }

private:
    std::vector<ss::OutputTensor> canned(int n) const {
        auto data = std::make_shared<std::vector<float>>();
        for (int i = 0; i < n; ++i) {
            const float rows[12] = {recorder_->cx, recorder_->cy, recorder_->w, recorder_->h, 0.9f, 1.f, 10, 10, 5, 5, 0.f, 0.f};
            data->insert(data->end(), rows, rows + 12);
        }
        ss::OutputTensor out;
        out.name = "output";
        out.shape = {n, 2, 6};
        out.data = data->data();
        out.owner = data;
        return {out};
    }

    std::shared_ptr<Recorder> recorder_;
    bool device_, fail_;
};

ss::InferConfig config(bool keep_aspect, bool symmetric, int batch = 4) {
    ss::InferConfig c;
    c.backend = "test";
    c.onnx_file = "test.onnx";
    c.parser = "yolo";
    c.input_width = 640;
    c.input_height = 640;
    c.num_detected_classes = 1;
    c.batch_size = batch;
    c.maintain_aspect_ratio = keep_aspect;
    c.symmetric_padding = symmetric;
    c.net_scale_factor = 1.f / 255;
    c.offsets = {1, 2, 3};
    c.model_color_format = ss::ColorFormat::bgr;
    return c;
}

// A device frame that points nowhere real: the test backend never reads it.
ss::DeviceFrame frame(int width, int height) {
    static std::uint8_t fake[2];
    ss::DeviceFrame f;
    f.luma = fake;
    f.chroma = fake + 1;
    f.luma_pitch = f.chroma_pitch = width;
    f.width = width;
    f.height = height;
    return f;
}

TEST(DetectFrames, LetterboxedBoxesComeBackInReportPixels) {
    auto recorder = std::make_shared<Recorder>();
    ss::Detector detector(config(true, true), std::make_unique<RecordingBackend>(recorder, true));
    ASSERT_TRUE(detector.accepts_device_frames());
    // A 1920x1080 camera: the GPU copy 640x360, the pipeline's picture 1280x720.
    // Network box (288..352, 288..352); centred letterbox puts 140 rows above
    // the picture: device (288..352, 148..212), report x2.
    const auto found = detector.detect_frames({frame(640, 360)}, {cv::Size(1280, 720)});
    ASSERT_EQ(found.size(), 1u);
    ASSERT_EQ(found[0].size(), 1u);
    const ss::Box& b = found[0][0].box;
    EXPECT_NEAR(b.left, 576, 1e-3);
    EXPECT_NEAR(b.top, 296, 1e-3);
    EXPECT_NEAR(b.width, 128, 1e-3);
    EXPECT_NEAR(b.height, 128, 1e-3);

    ASSERT_EQ(recorder->specs.size(), 1u);
    const ss::InputSpec& spec = recorder->specs[0];
    EXPECT_EQ(spec.width, 640);
    EXPECT_EQ(spec.height, 640);
    EXPECT_EQ(spec.channels, 3);
    EXPECT_TRUE(spec.bgr);
    EXPECT_FALSE(spec.gray);
    EXPECT_TRUE(spec.maintain_aspect_ratio);
    EXPECT_TRUE(spec.symmetric_padding);
    EXPECT_FLOAT_EQ(spec.net_scale_factor, 1.f / 255);
    EXPECT_FLOAT_EQ(spec.offsets[2], 3.f);
    EXPECT_EQ(recorder->cpu_calls, 1);  // only the constructor's check
}

TEST(DetectFrames, TopLeftLetterboxAndStretchMapLikeTheCpuPath) {
    {
        auto recorder = std::make_shared<Recorder>();
        ss::Detector detector(config(true, false), std::make_unique<RecordingBackend>(recorder, true));
        // Picture at the top-left: network pixels are device pixels.
        const auto found = detector.detect_frames({frame(640, 360)}, {cv::Size(640, 360)});
        ASSERT_EQ(found[0].size(), 1u);
        EXPECT_NEAR(found[0][0].box.top, 288, 1e-3);
        EXPECT_NEAR(found[0][0].box.bottom(), 352, 1e-3);
    }
    {
        auto recorder = std::make_shared<Recorder>();
        ss::Detector detector(config(false, false), std::make_unique<RecordingBackend>(recorder, true));
        // Stretched: the device frame is the network size; to the 320x360
        // report that is x * 320/640 across and y * 360/640 down.
        const auto found = detector.detect_frames({frame(640, 640)}, {cv::Size(320, 360)});
        ASSERT_EQ(found[0].size(), 1u);
        EXPECT_NEAR(found[0][0].box.left, 144, 1e-3);
        EXPECT_NEAR(found[0][0].box.width, 32, 1e-3);
        EXPECT_NEAR(found[0][0].box.top, 288 * 360.f / 640, 1e-3);
    }
}

TEST(DetectFrames, FramesGoInBatchesOfTheConfigsSize) {
    auto recorder = std::make_shared<Recorder>();
    ss::Detector detector(config(true, true, 2), std::make_unique<RecordingBackend>(recorder, true));
    const auto found = detector.detect_frames({frame(640, 360), frame(480, 640), frame(640, 480)},
                                              {cv::Size(640, 360), cv::Size(480, 640), cv::Size(640, 480)});
    ASSERT_EQ(found.size(), 3u);
    ASSERT_EQ(recorder->frame_calls.size(), 2u);
    EXPECT_EQ(recorder->frame_calls[0].size(), 2u);
    EXPECT_EQ(recorder->frame_calls[1].size(), 1u);
    EXPECT_EQ(recorder->frame_calls[1][0].width, 640);
    EXPECT_EQ(recorder->frame_calls[1][0].height, 480);
    for (const auto& d : found) EXPECT_EQ(d.size(), 1u);
}

TEST(DetectFrames, RefusedByABackendWithoutDeviceFramesAndOnBadArguments) {
    auto recorder = std::make_shared<Recorder>();
    ss::Detector cpu_only(config(true, true), std::make_unique<RecordingBackend>(recorder, false));
    EXPECT_FALSE(cpu_only.accepts_device_frames());
    EXPECT_THROW(cpu_only.detect_frames({frame(640, 360)}, {cv::Size(640, 360)}), ss::ModelError);
    ss::Detector gpu(config(true, true), std::make_unique<RecordingBackend>(recorder, true));
    EXPECT_THROW(gpu.detect_frames({frame(640, 360)}, {}), ss::Error);
    EXPECT_THROW(gpu.detect_frames({frame(640, 360)}, {cv::Size(0, 0)}), ss::Error);
    EXPECT_TRUE(recorder->frame_calls.empty());
}

// Waits for `count` results of an AsyncDetector.
std::vector<ss::DetectionResult> results(ss::AsyncDetector& async, std::size_t count) {
    std::vector<ss::DetectionResult> all;
    // Workers run at background priority (SCHED_IDLE): on a 2-core machine with
    // a busy core and other tests beside, they get CPU only now and then.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(50);  // within ctest's 60 s
    while (all.size() < count && std::chrono::steady_clock::now() < until) {
        for (auto& r : async.take_results()) all.push_back(std::move(r));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return all;
}

std::unique_ptr<ss::AsyncDetector> async_detector(std::shared_ptr<Recorder> recorder, bool device, bool fail = false) {
    std::vector<std::unique_ptr<ss::Detector>> detectors;
    detectors.push_back(std::make_unique<ss::Detector>(config(true, true), std::make_unique<RecordingBackend>(recorder, device, fail)));
    return std::make_unique<ss::AsyncDetector>(std::move(detectors));
}

TEST(AsyncDetectorDeviceFrames, JobsWithDeviceFramesRunOnThemAndReportInImagePixels) {
    auto recorder = std::make_shared<Recorder>();
    auto async = async_detector(recorder, true);
    EXPECT_TRUE(async->accepts_device_frames());
    const cv::Mat picture(720, 1280, CV_8UC3, cv::Scalar::all(0));
    auto device = std::make_shared<const ss::DeviceFrame>(frame(640, 360));
    ASSERT_NE(async->submit({{0, 1, picture, device}}), 0u);
    const auto got = results(*async, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].image_size, cv::Size(1280, 720));
    ASSERT_EQ(got[0].objects.size(), 1u);
    EXPECT_NEAR(got[0].objects[0].box.left, 576, 1e-3);
    EXPECT_EQ(async->stats().device_frames, 1u);
    std::lock_guard lock(recorder->mutex);
    EXPECT_EQ(recorder->frame_calls.size(), 1u);
    EXPECT_EQ(recorder->cpu_calls, 1);  // the constructor's check only
}

TEST(AsyncDetectorDeviceFrames, AJobWithAFrameMissingItsDeviceCopyUsesTheCpuPictures) {
    auto recorder = std::make_shared<Recorder>();
    auto async = async_detector(recorder, true);
    const cv::Mat picture(360, 640, CV_8UC3, cv::Scalar::all(0));
    auto device = std::make_shared<const ss::DeviceFrame>(frame(640, 360));
    ASSERT_NE(async->submit({{0, 1, picture, device}, {1, 1, picture, nullptr}}), 0u);
    ASSERT_EQ(results(*async, 2).size(), 2u);
    EXPECT_EQ(async->stats().device_frames, 0u);
    std::lock_guard lock(recorder->mutex);
    EXPECT_TRUE(recorder->frame_calls.empty());
    EXPECT_EQ(recorder->cpu_calls, 2);
}

TEST(AsyncDetectorDeviceFrames, AFailingDevicePathFallsBackToTheCpuPicturesAndSaysSoOnce) {
    sstest::LogCapture log;
    auto recorder = std::make_shared<Recorder>();
    auto async = async_detector(recorder, true, /*fail=*/true);
    const cv::Mat picture(360, 640, CV_8UC3, cv::Scalar::all(0));
    auto device = std::make_shared<const ss::DeviceFrame>(frame(640, 360));
    for (int i = 1; i <= 2; ++i) {
        ASSERT_NE(async->submit({{0, static_cast<std::uint64_t>(i), picture, device}}), 0u);
        const auto got = results(*async, 1);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0].objects.size(), 1u);  // from the CPU picture
    }
    EXPECT_EQ(async->stats().device_failures, 2u);
    EXPECT_EQ(async->stats().device_frames, 0u);
    async.reset();
    int said = 0;
    for (const auto& m : log.messages) said += m.find("GPU frames failed") != std::string::npos;
    EXPECT_EQ(said, 1);
}

}  // namespace
