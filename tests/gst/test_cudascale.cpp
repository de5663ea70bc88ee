// sscudascale's caps, under GstHarness: which size a CUDA frame comes down
// at. No GPU needed: negotiation is CPU-side. (Its kernel is tested against
// the CPU reference in tests/cuda; the whole chain on the GPU machine.)
#include <gst/check/gstharness.h>

#include <gtest/gtest.h>

#include <string>

namespace {

constexpr const char* cuda_1080p = "video/x-raw(memory:CUDAMemory), format=NV12, width=1920, height=1080, framerate=30/1";

struct Negotiated {
    int width = 0, height = 0, par_n = 0, par_d = 0;
    std::string memory;
};

// The caps sscudascale (box width x height) sends for `input`, with `downstream` as the harness sink's caps.
Negotiated negotiate(int width, int height, const char* input, const char* downstream = nullptr) {
    GstElement* scale = gst_element_factory_make("sscudascale", nullptr);
    if (!scale) throw std::runtime_error("sscudascale is not registered");
    g_object_set(scale, "width", width, "height", height, nullptr);
    GstHarness* h = gst_harness_new_with_element(scale, "sink", "src");
    gst_object_unref(scale);
    if (downstream) gst_harness_set_sink_caps_str(h, downstream);
    gst_harness_set_src_caps_str(h, input);
    Negotiated out;
    GstPad* src = gst_element_get_static_pad(h->element, "src");
    if (GstCaps* caps = gst_pad_get_current_caps(src)) {
        const GstStructure* s = gst_caps_get_structure(caps, 0);
        gst_structure_get_int(s, "width", &out.width);
        gst_structure_get_int(s, "height", &out.height);
        gst_structure_get_fraction(s, "pixel-aspect-ratio", &out.par_n, &out.par_d);
        GstCapsFeatures* features = gst_caps_get_features(caps, 0);
        out.memory = gst_caps_features_contains(features, "memory:CUDAMemory") ? "cuda" : "system";
        gst_caps_unref(caps);
    }
    gst_object_unref(src);
    gst_harness_teardown(h);
    return out;
}

}  // namespace

TEST(CudaScale, FitsTheFrameIntoItsBoxKeepingTheAspectRatio) {
    const auto n = negotiate(640, 480, cuda_1080p);
    EXPECT_EQ(n.width, 640);
    EXPECT_EQ(n.height, 360);
    EXPECT_EQ(n.memory, "system") << "frames come down to system memory";
    EXPECT_EQ(n.par_n, 1);
    EXPECT_EQ(n.par_d, 1);
}

TEST(CudaScale, TheSameSizeAsTheBatchMuxsWorkingFrames) {
    // slipstream sets the box to ssbatchmux's frame-width/-height, e.g. max(tile, network input):
    // 1920x1080 into 600x416 fits as 600x338 (ss::fit_size: rounded, then even).
    const auto n = negotiate(600, 416, cuda_1080p);
    EXPECT_EQ(n.width, 600);
    EXPECT_EQ(n.height, 338);
}

TEST(CudaScale, NeverEnlargesAndAZeroBoxKeepsTheSize) {
    auto n = negotiate(3840, 2160, cuda_1080p);
    EXPECT_EQ(n.width, 1920);
    EXPECT_EQ(n.height, 1080);
    n = negotiate(0, 0, cuda_1080p);
    EXPECT_EQ(n.width, 1920);
    EXPECT_EQ(n.height, 1080);
}

TEST(CudaScale, DownstreamsFixedSizeWinsAndThePixelShapeKeepsThePicture) {
    const auto n = negotiate(640, 480, cuda_1080p, "video/x-raw, format=NV12, width=320, height=240");
    EXPECT_EQ(n.width, 320);
    EXPECT_EQ(n.height, 240);
    // 16:9 shown in a 4:3 raster: pixels 4:3 wide.
    EXPECT_EQ(n.par_n * 3, n.par_d * 4) << n.par_n << "/" << n.par_d;
}

TEST(CudaScale, RefusesSystemMemoryInput) {
    GstElement* scale = gst_element_factory_make("sscudascale", nullptr);
    ASSERT_NE(scale, nullptr);
    GstPad* sink = gst_element_get_static_pad(scale, "sink");
    GstCaps* system = gst_caps_from_string("video/x-raw, format=NV12, width=64, height=64");
    EXPECT_FALSE(gst_pad_query_accept_caps(sink, system)) << "NVDEC's CUDA memory only: CPU frames go elsewhere";
    gst_caps_unref(system);
    gst_object_unref(sink);
    gst_object_unref(scale);
}
