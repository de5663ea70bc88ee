#pragma once
// Real frames as the GPU path hands them to the detector: NV12 in GPU memory
// (ss::DeviceFrame), for the benchmark's and the agreement test's runs of
// InferenceBackend::forward_frames. Needs the CUDA runtime: included where the
// build has CUDA (SS_BENCH_DEVICE_FRAMES, SS_AGREEMENT_HAVE_CUDA).
#include <cuda_runtime_api.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "slipstream/backend.hpp"

namespace ss::bench {

// A BGR frame (even sides) as NV12 on GPU `device`, freed with the DeviceFrame's owner.
inline DeviceFrame upload_nv12(const cv::Mat& bgr, int device) {
    cv::Mat i420;
    cv::cvtColor(bgr, i420, cv::COLOR_BGR2YUV_I420);
    const std::size_t luma = static_cast<std::size_t>(bgr.cols) * bgr.rows, quarter = luma / 4;
    std::vector<unsigned char> nv12(luma + 2 * quarter);
    std::copy(i420.data, i420.data + luma, nv12.begin());
    const unsigned char* u = i420.data + luma;
    const unsigned char* v = u + quarter;
    for (std::size_t i = 0; i < quarter; ++i) {
        nv12[luma + 2 * i] = u[i];
        nv12[luma + 2 * i + 1] = v[i];
    }
    void* memory = nullptr;
    if (cudaSetDevice(device) != cudaSuccess || cudaMalloc(&memory, nv12.size()) != cudaSuccess ||
        cudaMemcpy(memory, nv12.data(), nv12.size(), cudaMemcpyHostToDevice) != cudaSuccess) {
        if (memory) cudaFree(memory);
        throw std::runtime_error("cannot put a frame in the memory of GPU " + std::to_string(device));
    }
    DeviceFrame frame;
    frame.luma = memory;
    frame.chroma = static_cast<unsigned char*>(memory) + luma;
    frame.luma_pitch = frame.chroma_pitch = bgr.cols;
    frame.width = bgr.cols;
    frame.height = bgr.rows;
    frame.device = device;
    frame.owner = std::shared_ptr<void>(memory, [](void* p) { cudaFree(p); });
    return frame;
}

}  // namespace ss::bench
