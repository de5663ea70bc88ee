#pragma once
// The NVIDIA GPUs this process can use, found through the CUDA runtime, which
// is linked statically and loads the driver (libcuda.so.1) only when asked: a
// machine without GPU or driver runs slipstream as before and gets a reason.
#include <cstddef>
#include <string>
#include <vector>

namespace ss::cuda {

struct DeviceInfo {
    int index = 0;
    std::string name;         // e.g. "NVIDIA H200"
    int compute_major = 0;    // compute capability, e.g. 9.0
    int compute_minor = 0;
    std::size_t memory_bytes = 0;
};

struct Devices {
    std::vector<DeviceInfo> list;
    std::string why_none;  // set when list is empty: one short phrase, e.g. "no NVIDIA driver (libcuda.so.1 not found)"
};

// Never throws; safe to call on any machine, any number of times.
Devices find_devices();

}  // namespace ss::cuda
