#include "decode_path.hpp"

#include <algorithm>
#include <cstring>

#ifdef SS_HAVE_CUDA
#include "slipstream/cuda/devices.hpp"
#endif

namespace slipstream {

namespace {

bool has_factory(const std::string& name) {
    GstElementFactory* factory = gst_element_factory_find(name.c_str());
    if (!factory) return false;
    gst_object_unref(factory);
    return true;
}

// nvcodec names the decoders of GPU 0 nvh264dec, of GPU n nvh264device<n>dec.
std::string nvdec_name(const char* codec, int device) {
    return device == 0 ? std::string("nv") + codec + "dec" : std::string("nv") + codec + "device" + std::to_string(device) + "dec";
}

}  // namespace

std::string DecodePath::gpu_decoder_for(const GstCaps* caps) const {
    if (!gpu || !caps || gst_caps_is_empty(caps) || gst_caps_is_any(caps)) return {};
    const char* name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
    if (!std::strcmp(name, "video/x-h264")) return h264_decoder;
    if (!std::strcmp(name, "video/x-h265")) return h265_decoder;
    return {};
}

bool wants_device_frames(const ss::InferConfig& config) { return config.backend == "cuda"; }

void set_device_frames(DecodePath& path, const ss::InferConfig& config) {
    const bool on = path.gpu && wants_device_frames(config) && config.input_width > 0 && config.input_height > 0;
    path.detect_width = on ? config.input_width : 0;
    path.detect_height = on ? config.input_height : 0;
    path.detect_keep_aspect = on && config.maintain_aspect_ratio;
}

bool is_gpu_decoder(GstElementFactory* factory) {
    const gchar* klass = gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS);
    const gchar* name = gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(factory));
    return klass && strstr(klass, "Decoder") && g_str_has_prefix(name, "nv");
}

DecodePathChoice choose_decode_path(const GpuChoice& choice, std::optional<int> config_gpu_id) {
    DecodePathChoice result;
    DecodePath& path = result.path;
    if (choice.mode == GpuChoice::none) {
        path.summary = "Decoding on the CPU (--gpu none)";
        return result;
    }
    const bool demanded = choice.mode == GpuChoice::device;
    const int device = demanded ? choice.device_id : (!choice.given && config_gpu_id ? *config_gpu_id : 0);
    const std::string gpu = "GPU " + std::to_string(device);
    // Why the GPU path cannot run: an error when demanded, else the CPU path says why.
    auto unusable = [&](const std::string& why) {
        if (demanded) {
            result.error = "--gpu " + std::to_string(device) + ": " + why + "; use --gpu auto or --gpu none to decode on the CPU";
        } else {
            path.summary = "Decoding on the CPU: " + why;
        }
        return result;
    };
#ifndef SS_HAVE_CUDA
    return unusable("this slipstream was built without the CUDA toolkit, so it has no GPU path");
#else
    const ss::cuda::Devices devices = ss::cuda::find_devices();
    if (devices.list.empty()) return unusable(devices.why_none);
    // The list leaves out GPUs this build cannot use: find the device by its number, not its position.
    const auto found = std::find_if(devices.list.begin(), devices.list.end(),
                                    [device](const ss::cuda::DeviceInfo& d) { return d.index == device; });
    if (found == devices.list.end()) {
        std::string usable;
        for (const auto& d : devices.list) usable += (usable.empty() ? "" : ", ") + std::to_string(d.index);
        return unusable(gpu + " is not there or not usable by this build (usable: GPU " + usable + ")");
    }
    path.h264_decoder = nvdec_name("h264", device);
    path.h265_decoder = nvdec_name("h265", device);
    if (!has_factory(path.h264_decoder)) {
        return unusable("GStreamer's nvcodec plugin offers no " + path.h264_decoder +
                        " (NVDEC not usable: the driver's libnvcuvid.so.1 missing, or gstreamer1.0-plugins-bad not installed)");
    }
    if (!has_factory("sscudascale")) return unusable("slipstream's sscudascale element is missing from this build");
    if (!has_factory(path.h265_decoder)) path.h265_decoder.clear();  // H.265 then decodes on the CPU, said per input
    path.gpu = true;
    path.device = device;
    path.summary = "Decoding and scaling on " + gpu + " (" + found->name + ", NVDEC" +
                   (choice.given || config_gpu_id ? "" : ": found automatically; --gpu none for the CPU") + ")";
    return result;
#endif
}

}  // namespace slipstream
