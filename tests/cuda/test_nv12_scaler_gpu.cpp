// Nv12Scaler on a real GPU against the CPU reference, bit for bit. Each test
// skips with the reason where find_devices() finds no usable GPU.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gpu_test.hpp"
#include "nv12_test_util.hpp"
#include "slipstream/cuda/devices.hpp"
#include "slipstream/cuda/nv12_scaler.hpp"

namespace ss::cuda::test {
namespace {

// An NV12 picture in pitched device memory (as NVDEC leaves it).
struct DeviceNv12 {
    std::uint8_t* y = nullptr;
    std::uint8_t* uv = nullptr;
    std::size_t y_pitch = 0, uv_pitch = 0;
    int width = 0, height = 0;

    ~DeviceNv12() {
        if (y != nullptr) (void)cudaFree(y);
        if (uv != nullptr) (void)cudaFree(uv);
    }
    Nv12Frame frame() const { return {y, uv, width, height, y_pitch, uv_pitch}; }
};

// Uploads `host` (padding included, so the padding is garbage on the device too).
void upload(HostNv12& host, DeviceNv12& dev) {
    dev.width = host.width;
    dev.height = host.height;
    void* p = nullptr;
    // Wider than needed, then filled whole: bytes past the width are not zero.
    ASSERT_CUDA(cudaMallocPitch(&p, &dev.y_pitch, host.y_pitch, host.height));
    dev.y = static_cast<std::uint8_t*>(p);
    ASSERT_CUDA(cudaMallocPitch(&p, &dev.uv_pitch, host.uv_pitch, host.height / 2));
    dev.uv = static_cast<std::uint8_t*>(p);
    ASSERT_CUDA(cudaMemset2D(dev.y, dev.y_pitch, 0xFF, dev.y_pitch, host.height));
    ASSERT_CUDA(cudaMemset2D(dev.uv, dev.uv_pitch, 0xFF, dev.uv_pitch, host.height / 2));
    ASSERT_CUDA(cudaMemcpy2D(dev.y, dev.y_pitch, host.y.data(), host.y_pitch, host.y_pitch, host.height,
                             cudaMemcpyHostToDevice));
    ASSERT_CUDA(cudaMemcpy2D(dev.uv, dev.uv_pitch, host.uv.data(), host.uv_pitch, host.uv_pitch,
                             host.height / 2, cudaMemcpyHostToDevice));
}

class Nv12ScalerGpu : public ::testing::Test {
protected:
    void SetUp() override {
        SELECT_GPU_OR_SKIP();
    }

    // Scales a random picture with `scaler` and with the reference; both
    // results must agree in every byte and leave the destination padding alone.
    void expect_matches_reference(Nv12Scaler& scaler, int sw, int sh, int dw, int dh, unsigned seed) {
        SCOPED_TRACE(std::to_string(sw) + "x" + std::to_string(sh) + " -> " + std::to_string(dw) + "x" +
                     std::to_string(dh));
        HostNv12 src(sw, sh, 24, 0xFF);
        src.fill_random(seed);
        DeviceNv12 dev;
        upload(src, dev);
        if (HasFatalFailure()) return;

        HostNv12 expected(dw, dh, 5, 0xAB);
        scale_nv12_reference(src.frame(), expected.frame());
        HostNv12 got(dw, dh, 11, 0xCD);
        ASSERT_NO_THROW(scaler.scale(dev.frame(), got.frame()));
        EXPECT_EQ(count_differences(expected, got), 0u);
        EXPECT_TRUE(got.padding_is(0xCD));
        if (sw == dw && sh == dh) {
            EXPECT_EQ(count_differences(src, got), 0u);
        }
    }
};

struct Case {
    int sw, sh, dw, dh;
};

TEST_F(Nv12ScalerGpu, MatchesTheReferenceBitForBit) {
    const Case cases[] = {
        {1920, 1080, 740, 416}, {1920, 1080, 150, 84}, {1280, 720, 1280, 720}, {640, 360, 1280, 720},
        {3840, 2160, 640, 360}, {1920, 1080, 1920, 540}, {640, 720, 1280, 360}, {2, 2, 64, 64},
        {1280, 720, 2, 2},
    };
    unsigned seed = 10;
    for (const Case& c : cases) {
        Nv12Scaler scaler;  // a fresh one each time: first use allocates
        expect_matches_reference(scaler, c.sw, c.sh, c.dw, c.dh, seed++);
    }
}

// The element keeps one scaler for several outputs and caps changes: its
// buffers grow, shrink in use and grow again, and every result still matches.
TEST_F(Nv12ScalerGpu, OneScalerReusedAcrossSizesStillMatches) {
    const Case cases[] = {
        {1920, 1080, 150, 84}, {1920, 1080, 740, 416}, {1280, 720, 200, 112},  {640, 360, 1280, 720},
        {1920, 1080, 150, 84}, {3840, 2160, 640, 360}, {1280, 720, 1280, 720}, {1920, 1080, 740, 416},
    };
    Nv12Scaler scaler;
    unsigned seed = 100;
    for (const Case& c : cases) expect_matches_reference(scaler, c.sw, c.sh, c.dw, c.dh, seed++);
}

TEST_F(Nv12ScalerGpu, HostMemoryAsTheSourceIsAnError) {
    HostNv12 src(64, 48), dst(32, 24);
    src.fill_random(7);
    Nv12Scaler scaler;
    try {
        scaler.scale(src.frame(), dst.frame());
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("not CUDA memory"), std::string::npos) << e.what();
    }
    // Nothing reached the kernel, so the context is fine and the scaler works.
    expect_matches_reference(scaler, 64, 48, 32, 24, 8);
}

// Run in a child process: scales from a source whose rows lie far beyond any
// mapping and reports how scale() ended, on stderr and in the exit code.
void scale_with_faulting_source() {
    void* p = nullptr;
    if (cudaMalloc(&p, 1 << 20) != cudaSuccess) {
        std::fprintf(stderr, "cudaMalloc failed\n");
        std::_Exit(2);
    }
    HostNv12 dst(640, 360);
    const std::size_t pitch = std::size_t{1} << 48;
    Nv12Frame src{static_cast<std::uint8_t*>(p), static_cast<std::uint8_t*>(p), 3840, 2160, pitch, pitch};
    try {
        Nv12Scaler scaler;
        scaler.scale(src, dst.frame());
    } catch (const Error& e) {
        std::fprintf(stderr, "Error: %s\n", e.what());
        std::_Exit(0);
    }
    std::fprintf(stderr, "no error\n");
    std::_Exit(1);
}

// A fault inside the kernel must come back as an Error from scale(), not a
// crash. It spoils the CUDA context for good, hence the child process (gtest
// re-runs this test there).
TEST_F(Nv12ScalerGpu, KernelFaultIsAnErrorNotACrash) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(scale_with_faulting_source(), ::testing::ExitedWithCode(0), "Error: Nv12Scaler: .*illegal");
}

}  // namespace
}  // namespace ss::cuda::test
