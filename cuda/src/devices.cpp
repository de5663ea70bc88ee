// Device discovery through the CUDA runtime (linked statically; it loads
// libcuda.so.1 on the first call). Every failure becomes a short phrase.
#include "slipstream/cuda/devices.hpp"

#include <cuda_runtime_api.h>

#include <cstdlib>
#include <string>
#include <utility>

#ifndef SS_CUDA_MIN_ARCH
#define SS_CUDA_MIN_ARCH 0
#endif

namespace ss::cuda {
namespace {

std::string cuda_version_text(int version) {  // 12040 -> "12.4"
    return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string why_no_devices(cudaError_t status) {
    switch (status) {
    case cudaErrorInsufficientDriver: {
        // The runtime reports a missing driver the same way as an old one;
        // the driver version (0 when there is none) tells them apart.
        int driver = 0;
        if (cudaDriverGetVersion(&driver) != cudaSuccess || driver == 0)
            return "no NVIDIA driver (libcuda.so.1 not found)";
        return "NVIDIA driver too old (it supports CUDA " + cuda_version_text(driver) +
               ", this build needs " + cuda_version_text(CUDART_VERSION) + ")";
    }
    case cudaErrorNoDevice: {
        const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
        if (visible != nullptr) return std::string("no NVIDIA GPU visible (CUDA_VISIBLE_DEVICES=") + visible + ")";
        return "no NVIDIA GPU found";
    }
    case cudaErrorSystemDriverMismatch:
        return "NVIDIA driver library and kernel module differ in version";
    default:
        return std::string("CUDA unavailable: ") + cudaGetErrorString(status);
    }
}

Devices find() {
    Devices out;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
        out.why_none = why_no_devices(status);
        return out;
    }
    if (count == 0) {
        out.why_none = "no NVIDIA GPU found";
        return out;
    }
    std::string skipped;
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp p{};
        const cudaError_t e = cudaGetDeviceProperties(&p, i);
        if (e != cudaSuccess) {
            skipped = "GPU " + std::to_string(i) + " cannot be queried: " + cudaGetErrorString(e);
            continue;
        }
        // Our kernels have no code for GPUs older than the oldest built architecture.
        if (SS_CUDA_MIN_ARCH > 0 && p.major * 10 + p.minor < SS_CUDA_MIN_ARCH) {
            skipped = std::string(p.name) + " (compute " + std::to_string(p.major) + "." +
                      std::to_string(p.minor) + ") is older than this build supports (" +
                      std::to_string(SS_CUDA_MIN_ARCH / 10) + "." +
                      std::to_string(SS_CUDA_MIN_ARCH % 10) + ")";
            continue;
        }
        DeviceInfo d;
        d.index = i;
        d.name = p.name;
        d.compute_major = p.major;
        d.compute_minor = p.minor;
        d.memory_bytes = p.totalGlobalMem;
        out.list.push_back(std::move(d));
    }
    if (out.list.empty()) out.why_none = skipped.empty() ? "no usable NVIDIA GPU" : skipped;
    return out;
}

}  // namespace

Devices find_devices() {
    Devices out;
    try {
        out = find();
    } catch (...) {  // only allocation can throw above; keep the promise anyway
        out.list.clear();
        out.why_none = "CUDA device query failed";
    }
    // Failed runtime calls leave their error in the thread's last-error slot,
    // where a later cudaGetLastError() elsewhere would find it.
    (void)cudaGetLastError();
    return out;
}

}  // namespace ss::cuda
