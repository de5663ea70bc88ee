// The pre-processing kernel on a real GPU against the CPU reference: a batch
// of 3 sources of different sizes (one odd, pitched memory with garbage past
// the width) in every resize mode, colour order, layout and type; both ways of
// passing the descriptors. Also Nv12Scaler::scale_to_device. Each test skips
// with the reason where find_devices() finds no usable GPU.
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gpu_test.hpp"
#include "nv12_test_util.hpp"
#include "slipstream/cuda/devices.hpp"
#include "slipstream/cuda/nv12_scaler.hpp"
#include "slipstream/cuda/preprocess.hpp"

namespace ss::cuda::test {
namespace {

// Device memory freed at scope end.
struct DeviceMemory {
    void* p = nullptr;
    ~DeviceMemory() {
        if (p != nullptr) (void)cudaFree(p);
    }
};

// A host NV12 picture copied to pitched device memory whose bytes past the
// width are 0xFF, so reading them would show.
struct DeviceCopy {
    DeviceMemory y, uv;
    std::size_t y_pitch = 0, uv_pitch = 0;
};

void upload(const HostNv12& host, DeviceCopy& dev) {
    const std::size_t uv_rows = static_cast<std::size_t>((host.height + 1) / 2);
    ASSERT_CUDA(cudaMallocPitch(&dev.y.p, &dev.y_pitch, host.y_pitch, static_cast<std::size_t>(host.height)));
    ASSERT_CUDA(cudaMallocPitch(&dev.uv.p, &dev.uv_pitch, host.uv_pitch, uv_rows));
    ASSERT_CUDA(cudaMemset2D(dev.y.p, dev.y_pitch, 0xFF, dev.y_pitch, static_cast<std::size_t>(host.height)));
    ASSERT_CUDA(cudaMemset2D(dev.uv.p, dev.uv_pitch, 0xFF, dev.uv_pitch, uv_rows));
    ASSERT_CUDA(cudaMemcpy2D(dev.y.p, dev.y_pitch, host.y.data(), host.y_pitch, host.y_pitch,
                             static_cast<std::size_t>(host.height), cudaMemcpyHostToDevice));
    ASSERT_CUDA(cudaMemcpy2D(dev.uv.p, dev.uv_pitch, host.uv.data(), host.uv_pitch, host.uv_pitch, uv_rows,
                             cudaMemcpyHostToDevice));
}

// HostNv12 sized for odd pictures too: (h+1)/2 chroma rows of (w+1)/2 pairs.
struct OddNv12 : HostNv12 {
    OddNv12(int w, int h, std::size_t padding) : HostNv12(w + (w & 1), h + (h & 1), padding, 0x77) {
        width = w;
        height = h;
    }
};

class PreprocessGpu : public ::testing::Test {
protected:
    void SetUp() override {
        SELECT_GPU_OR_SKIP();
        ASSERT_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    }
    void TearDown() override {
        if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
    }
    cudaStream_t stream_ = nullptr;
};

float to_float(const void* tensor, TensorType type, std::size_t i) {
    if (type == TensorType::f16) return __half2float(static_cast<const __half*>(tensor)[i]);
    return static_cast<const float*>(tensor)[i];
}

TEST_F(PreprocessGpu, BatchOfThreeMatchesTheReference) {
    // Sizes differ; 333x251 is odd both ways (GStreamer's NV12 allows it).
    std::vector<OddNv12> hosts;
    hosts.emplace_back(1280, 720, 40);
    hosts.emplace_back(640, 480, 0);
    hosts.emplace_back(333, 251, 13);
    unsigned seed = 1;
    for (auto& h : hosts) {
        // Smooth picture plus noise: interpolation errors would show as large differences.
        std::mt19937 rng(seed++);
        std::uniform_int_distribution<int> noise(-20, 20);
        h.fill([&](int x, int y) { return static_cast<std::uint8_t>(std::clamp((x * 3 + y * 2) % 220 + 16 + noise(rng), 0, 255)); },
               [&](int x, int y, int c) { return static_cast<std::uint8_t>(std::clamp(c ? x % 200 + 28 : y % 180 + 40, 0, 255)); });
    }
    std::vector<DeviceCopy> devs(hosts.size());
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        upload(hosts[i], devs[i]);
        if (HasFatalFailure()) return;
    }

    for (Resize resize : {Resize::stretch, Resize::letterbox, Resize::letterbox_centered})
        for (ColorOrder color : {ColorOrder::rgb, ColorOrder::bgr, ColorOrder::gray})
            for (TensorLayout layout : {TensorLayout::nchw, TensorLayout::nhwc})
                for (TensorType type : {TensorType::f32, TensorType::f16}) {
                    PreprocessParams p;
                    p.width = 320;
                    p.height = 256;
                    p.channels = color == ColorOrder::gray ? 1 : 3;
                    p.color = color;
                    p.resize = resize;
                    p.net_scale_factor = 1.f / 255;
                    p.offsets = {10, 20, 30};
                    p.layout = layout;
                    p.type = type;
                    SCOPED_TRACE("resize " + std::to_string(static_cast<int>(resize)) + " color " +
                                 std::to_string(static_cast<int>(color)) + " layout " +
                                 std::to_string(static_cast<int>(layout)) + " type " +
                                 std::to_string(static_cast<int>(type)));
                    const int n = static_cast<int>(hosts.size());
                    std::vector<PreprocessSource> host_described, device_described;
                    for (std::size_t i = 0; i < hosts.size(); ++i) {
                        host_described.push_back(describe_source(hosts[i].y.data(), hosts[i].y_pitch, hosts[i].uv.data(),
                                                                 hosts[i].uv_pitch, hosts[i].width, hosts[i].height, p));
                        device_described.push_back(describe_source(
                            static_cast<const std::uint8_t*>(devs[i].y.p), devs[i].y_pitch,
                            static_cast<const std::uint8_t*>(devs[i].uv.p), devs[i].uv_pitch, hosts[i].width,
                            hosts[i].height, p));
                    }
                    const std::size_t bytes = tensor_bytes(p, n);
                    std::vector<unsigned char> expected(bytes);
                    preprocess_nv12_reference(host_described.data(), n, p, expected.data());

                    // A guard past the tensor must stay untouched.
                    constexpr std::size_t guard = 4096;
                    DeviceMemory tensor, descriptors;
                    ASSERT_CUDA(cudaMalloc(&tensor.p, bytes + guard));
                    ASSERT_CUDA(cudaMalloc(&descriptors.p, sizeof(PreprocessSource) * hosts.size()));
                    for (int way = 0; way < 2; ++way) {
                        SCOPED_TRACE(way == 0 ? "descriptors in device memory" : "descriptors inline");
                        ASSERT_CUDA(cudaMemset(tensor.p, 0xAB, bytes + guard));
                        if (way == 0) {
                            ASSERT_CUDA(cudaMemcpyAsync(descriptors.p, device_described.data(),
                                                        sizeof(PreprocessSource) * hosts.size(), cudaMemcpyHostToDevice,
                                                        stream_));
                            ASSERT_NO_THROW(preprocess_nv12(static_cast<const PreprocessSource*>(descriptors.p), n, p,
                                                            tensor.p, stream_));
                        } else {
                            ASSERT_NO_THROW(preprocess_nv12_inline(device_described.data(), n, p, tensor.p, stream_));
                        }
                        ASSERT_CUDA(cudaStreamSynchronize(stream_));
                        std::vector<unsigned char> got(bytes + guard);
                        ASSERT_CUDA(cudaMemcpy(got.data(), tensor.p, bytes + guard, cudaMemcpyDeviceToHost));
                        for (std::size_t i = bytes; i < bytes + guard; ++i) ASSERT_EQ(got[i], 0xAB) << "written past the end at " << i;
                        const std::size_t elements = bytes / (type == TensorType::f16 ? 2 : 4);
                        std::size_t bad = 0;
                        double worst = 0;
                        for (std::size_t i = 0; i < elements; ++i) {
                            const float e = to_float(expected.data(), type, i), g = to_float(got.data(), type, i);
                            // f32: contraction only (well under 1/100 of a grey level);
                            // f16: half an ulp of values up to 1 plus that.
                            const float tolerance = type == TensorType::f16 ? 1e-3f + std::fabs(e) * 1e-3f : 4e-5f;
                            const double d = std::fabs(static_cast<double>(e) - g);
                            worst = std::max(worst, d);
                            if (!(d <= tolerance)) ++bad;
                        }
                        EXPECT_EQ(bad, 0u) << "of " << elements << " elements; worst difference " << worst;
                    }
                }
}

TEST_F(PreprocessGpu, BatchLargerThanOneInlineLaunch) {
    OddNv12 host(64, 48, 8);
    host.fill_random(3);
    DeviceCopy dev;
    upload(host, dev);
    if (HasFatalFailure()) return;
    PreprocessParams p;
    p.width = 40;
    p.height = 40;
    p.resize = Resize::letterbox_centered;
    const int n = kInlineSources + 5;
    std::vector<PreprocessSource> sources(static_cast<std::size_t>(n),
                                          describe_source(static_cast<const std::uint8_t*>(dev.y.p), dev.y_pitch,
                                                          static_cast<const std::uint8_t*>(dev.uv.p), dev.uv_pitch, 64, 48, p));
    const PreprocessSource h = describe_source(host.y.data(), host.y_pitch, host.uv.data(), host.uv_pitch, 64, 48, p);
    std::vector<float> one(tensor_bytes(p, 1) / 4);
    preprocess_nv12_reference(&h, 1, p, one.data());
    DeviceMemory tensor;
    ASSERT_CUDA(cudaMalloc(&tensor.p, tensor_bytes(p, n)));
    ASSERT_CUDA(cudaMemset(tensor.p, 0xAB, tensor_bytes(p, n)));
    ASSERT_NO_THROW(preprocess_nv12_inline(sources.data(), n, p, tensor.p, stream_));
    ASSERT_CUDA(cudaStreamSynchronize(stream_));
    std::vector<float> got(tensor_bytes(p, n) / 4);
    ASSERT_CUDA(cudaMemcpy(got.data(), tensor.p, tensor_bytes(p, n), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; ++i)
        for (std::size_t k = 0; k < one.size(); ++k)
            // Relative: the GPU may contract multiply-adds the host rounds twice.
            ASSERT_NEAR(got[static_cast<std::size_t>(i) * one.size() + k], one[k], 4e-5f + 1e-6f * std::fabs(one[k]))
                << "image " << i;
}

TEST_F(PreprocessGpu, ScaleToDeviceMatchesTheReference) {
    HostNv12 src(1920, 1080, 64, 0xFF);
    src.fill_random(11);
    DeviceCopy dev;
    upload(src, dev);
    if (HasFatalFailure()) return;
    HostNv12 expected(640, 360);
    scale_nv12_reference(src.frame(), expected.frame());
    Nv12Scaler scaler;
    DeviceNv12Buffer target(640, 360);
    const Nv12Frame source{static_cast<std::uint8_t*>(dev.y.p), static_cast<std::uint8_t*>(dev.uv.p), 1920, 1080,
                           dev.y_pitch, dev.uv_pitch};
    ASSERT_NO_THROW(scaler.scale_to_device(source, target.frame()));
    HostNv12 got(640, 360);
    const Nv12Frame& t = target.frame();
    ASSERT_CUDA(cudaMemcpy2D(got.y.data(), got.y_pitch, t.y, t.y_pitch, 640, 360, cudaMemcpyDeviceToHost));
    ASSERT_CUDA(cudaMemcpy2D(got.uv.data(), got.uv_pitch, t.uv, t.uv_pitch, 640, 180, cudaMemcpyDeviceToHost));
    EXPECT_EQ(count_differences(expected, got), 0u);
    // A host destination is refused before any kernel runs.
    HostNv12 host_target(640, 360);
    EXPECT_THROW(scaler.scale_to_device(source, host_target.frame()), Error);
}

}  // namespace
}  // namespace ss::cuda::test
