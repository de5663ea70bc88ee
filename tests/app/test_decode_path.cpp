// Where inputs decode: --gpu none|auto|N against what this machine has. On a
// machine without an NVIDIA GPU (CI) auto falls back to the CPU with a reason
// and a demanded GPU is a one-line error; on the GPU machine auto takes GPU 0.
#include <gst/gst.h>

#include <gtest/gtest.h>

#include "decode_path.hpp"
#ifdef SS_HAVE_CUDA
#include "slipstream/cuda/devices.hpp"
#endif

using slipstream::choose_decode_path;
using slipstream::DecodePath;
using slipstream::GpuChoice;

namespace {

bool machine_has_gpu() {
#ifdef SS_HAVE_CUDA
    GstElementFactory* nvdec = gst_element_factory_find("nvh264dec");
    if (nvdec) gst_object_unref(nvdec);
    return nvdec && !ss::cuda::find_devices().list.empty();
#else
    return false;
#endif
}

GstCaps* caps(const char* text) { return gst_caps_from_string(text); }

}  // namespace

TEST(DecodePath, NoneDecodesOnTheCpuAndSaysSo) {
    const auto choice = choose_decode_path({GpuChoice::none, 0, true}, 0);
    EXPECT_TRUE(choice.error.empty());
    EXPECT_FALSE(choice.path.gpu);
    EXPECT_EQ(choice.path.summary, "Decoding on the CPU (--gpu none)");
}

TEST(DecodePath, AutoTakesGpuZeroWhenUsableElseSaysWhyNot) {
    const auto choice = choose_decode_path({}, std::nullopt);
    EXPECT_TRUE(choice.error.empty()) << "auto never fails: " << choice.error;
    if (machine_has_gpu()) {
        EXPECT_TRUE(choice.path.gpu);
        EXPECT_EQ(choice.path.device, 0);
        EXPECT_EQ(choice.path.h264_decoder, "nvh264dec");
        EXPECT_EQ(choice.path.summary.rfind("Decoding and scaling on GPU 0 (", 0), 0u) << choice.path.summary;
    } else {
        EXPECT_FALSE(choice.path.gpu);
        EXPECT_EQ(choice.path.summary.rfind("Decoding on the CPU: ", 0), 0u) << choice.path.summary;
        EXPECT_GT(choice.path.summary.size(), std::string("Decoding on the CPU: ").size() + 5) << "the reason is missing";
    }
}

TEST(DecodePath, ADemandedGpuThatIsNotThereIsAOneLineError) {
    // GPU 63 exists nowhere.
    const auto choice = choose_decode_path({GpuChoice::device, 63, true}, std::nullopt);
    EXPECT_FALSE(choice.path.gpu);
    ASSERT_FALSE(choice.error.empty());
    EXPECT_EQ(choice.error.rfind("--gpu 63: ", 0), 0u) << choice.error;
    EXPECT_NE(choice.error.find("--gpu none"), std::string::npos) << "says what to do: " << choice.error;
    EXPECT_EQ(choice.error.find('\n'), std::string::npos);
}

TEST(DecodePath, TheConfigsGpuIdPicksTheDeviceOnlyWhenTheCommandLineDidNot) {
    // gpu-id=63 from the config, no --gpu: auto looks at GPU 63, which is never usable.
    const auto from_config = choose_decode_path({}, 63);
    EXPECT_TRUE(from_config.error.empty());
    EXPECT_FALSE(from_config.path.gpu);
    // --gpu none wins over the config.
    const auto none = choose_decode_path({GpuChoice::none, 0, true}, 63);
    EXPECT_EQ(none.path.summary, "Decoding on the CPU (--gpu none)");
    if (machine_has_gpu()) {
        EXPECT_NE(from_config.path.summary.find("GPU 63 is not there"), std::string::npos) << from_config.path.summary;
        // --gpu auto given: GPU 0, whatever the config says.
        EXPECT_TRUE(choose_decode_path({GpuChoice::automatic, 0, true}, 63).path.gpu);
    }
}

TEST(DecodePath, NvdecTakesH264AndH265Only) {
    DecodePath path;
    path.gpu = true;
    path.h264_decoder = "nvh264device1dec";
    path.h265_decoder = "nvh265device1dec";
    GstCaps* h264 = caps("video/x-h264, stream-format=byte-stream");
    GstCaps* h265 = caps("video/x-h265");
    GstCaps* jpeg = caps("image/jpeg");
    EXPECT_EQ(path.gpu_decoder_for(h264), "nvh264device1dec");
    EXPECT_EQ(path.gpu_decoder_for(h265), "nvh265device1dec");
    EXPECT_EQ(path.gpu_decoder_for(jpeg), "") << "other codecs decode on the CPU";
    path.h265_decoder.clear();  // this GPU's NVDEC has no H.265
    EXPECT_EQ(path.gpu_decoder_for(h265), "");
    path.gpu = false;
    EXPECT_EQ(path.gpu_decoder_for(h264), "") << "the CPU path never picks NVDEC";
    for (GstCaps* c : {h264, h265, jpeg}) gst_caps_unref(c);
}
