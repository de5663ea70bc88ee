// NV12 scaling on the GPU: one thread per output pixel (Y) or pixel pair (UV),
// the arithmetic from scale_math.hpp; the result goes through a pitched device
// buffer and a pinned staging buffer to the caller's host memory.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "frame_checks.hpp"
#include "scale_math.hpp"
#include "slipstream/cuda/nv12_scaler.hpp"
#include "slipstream/cuda/stream_wait.hpp"

namespace ss::cuda {
namespace {

template <int C>
__global__ void scale_plane_kernel(const std::uint8_t* source, std::size_t source_pitch,
                                   std::uint8_t* destination, std::size_t destination_pitch,
                                   detail::Axis ax, detail::Axis ay, int width, int height) {
    const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    const int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
    if (x >= width || y >= height) return;
    detail::scale_pixel<C>(source, source_pitch, ax, ay, x, y,
                           destination + static_cast<std::size_t>(y) * destination_pitch +
                               static_cast<std::size_t>(x) * C);
}

void check(cudaError_t status, const char* step) {
    if (status == cudaSuccess) return;
    // Clear the thread's last-error slot so a later, unrelated check does not
    // report this failure again (sticky errors stay regardless).
    (void)cudaGetLastError();
    throw Error(std::string("Nv12Scaler: ") + step + ": " + cudaGetErrorString(status) + " (" +
                cudaGetErrorName(status) + ")");
}

// A host pointer passed as the source would fault inside the kernel, and a
// kernel fault ruins the whole CUDA context (the decoder's too); catch the
// common mistake here instead.
void check_device_pointer(const void* p, const char* what) {
    cudaPointerAttributes attributes{};
    check(cudaPointerGetAttributes(&attributes, p), "looking up the source pointers");
    if (attributes.type == cudaMemoryTypeUnregistered)
        throw Error(std::string("Nv12Scaler: ") + what + " plane is not CUDA memory (a host pointer?)");
}

template <int C>
void launch(const std::uint8_t* source, std::size_t source_pitch, int source_width,
            int source_height, std::uint8_t* destination, std::size_t destination_pitch, int width,
            int height, cudaStream_t stream) {
    // 32 wide: a warp writes one contiguous run of a row.
    const dim3 block(32, 8);
    const dim3 grid(static_cast<unsigned>((width + block.x - 1) / block.x),
                    static_cast<unsigned>((height + block.y - 1) / block.y));
    scale_plane_kernel<C><<<grid, block, 0, stream>>>(
        source, source_pitch, destination, destination_pitch,
        detail::make_axis(source_width, width), detail::make_axis(source_height, height), width,
        height);
}

}  // namespace

struct Nv12Scaler::Buffers {
    cudaStream_t stream = nullptr;
    StreamWait finished;  // every frame waits for its scale: without spinning a core
    // The scaled picture on the device: Y rows, then UV rows, one pitch.
    std::uint8_t* device = nullptr;
    std::size_t device_pitch = 0;
    int device_width = 0;
    int device_rows = 0;
    // Pinned, so the download is a real asynchronous DMA; tightly packed.
    std::uint8_t* staging = nullptr;
    std::size_t staging_bytes = 0;
};

// No CUDA call here: a scaler may be built where there is no GPU.
Nv12Scaler::Nv12Scaler() : buffers_(std::make_unique<Buffers>()) {}

Nv12Scaler::~Nv12Scaler() {
    Buffers& b = *buffers_;
    if (b.stream == nullptr && b.device == nullptr && b.staging == nullptr) return;
    // Errors ignored: nothing to do about them here, and the context may
    // already be gone at shutdown.
    if (b.stream != nullptr) {
        (void)cudaStreamSynchronize(b.stream);
        (void)cudaStreamDestroy(b.stream);
    }
    if (b.device != nullptr) (void)cudaFree(b.device);
    if (b.staging != nullptr) (void)cudaFreeHost(b.staging);
    (void)cudaGetLastError();
}

void Nv12Scaler::scale_to_device(const Nv12Frame& src, const Nv12Frame& dst, bool wait_for_it) {
    detail::check_frames("Nv12Scaler::scale_to_device", src, dst);
    check_device_pointer(src.y, "source Y");
    check_device_pointer(src.uv, "source UV");
    check_device_pointer(dst.y, "destination Y");
    check_device_pointer(dst.uv, "destination UV");
    Buffers& b = *buffers_;
    if (b.stream == nullptr)
        check(cudaStreamCreateWithFlags(&b.stream, cudaStreamNonBlocking), "creating the stream");
    launch<1>(src.y, src.y_pitch, src.width, src.height, dst.y, dst.y_pitch, dst.width, dst.height, b.stream);
    check(cudaGetLastError(), "launching the Y kernel");
    launch<2>(src.uv, src.uv_pitch, src.width / 2, src.height / 2, dst.uv, dst.uv_pitch, dst.width / 2,
              dst.height / 2, b.stream);
    check(cudaGetLastError(), "launching the UV kernel");
    if (wait_for_it) wait();
}

void Nv12Scaler::wait() {
    if (buffers_->stream != nullptr)
        check(buffers_->finished.wait(buffers_->stream), "waiting for the GPU (device-to-device scale)");
}

DeviceNv12Buffer::DeviceNv12Buffer(int width, int height) {
    if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0 || width > detail::kMaxSide ||
        height > detail::kMaxSide)
        throw Error("DeviceNv12Buffer: size " + std::to_string(width) + "x" + std::to_string(height) +
                    " is not an even size within 2.." + std::to_string(detail::kMaxSide));
    void* p = nullptr;
    std::size_t pitch = 0;
    const int rows = height + height / 2;
    check(cudaMallocPitch(&p, &pitch, static_cast<std::size_t>(width), static_cast<std::size_t>(rows)),
          "allocating a device NV12 buffer");
    frame_.y = static_cast<std::uint8_t*>(p);
    frame_.uv = frame_.y + static_cast<std::size_t>(height) * pitch;
    frame_.width = width;
    frame_.height = height;
    frame_.y_pitch = pitch;
    frame_.uv_pitch = pitch;
}

DeviceNv12Buffer::~DeviceNv12Buffer() {
    // Errors ignored: nothing to do about them here.
    if (frame_.y != nullptr) (void)cudaFree(frame_.y);
    (void)cudaGetLastError();
}

void Nv12Scaler::scale(const Nv12Frame& src, const Nv12Frame& dst) {
    detail::check_frames("Nv12Scaler::scale", src, dst);
    check_device_pointer(src.y, "source Y");
    check_device_pointer(src.uv, "source UV");
    Buffers& b = *buffers_;

    // Created on first use so it belongs to the context the caller pushed.
    if (b.stream == nullptr)
        check(cudaStreamCreateWithFlags(&b.stream, cudaStreamNonBlocking), "creating the stream");

    const int width = dst.width;
    const int height = dst.height;
    const int rows = height + height / 2;
    if (width > b.device_width || rows > b.device_rows) {
        // Grow only, so that alternating sizes do not reallocate every frame.
        const int new_width = std::max(width, b.device_width);
        const int new_rows = std::max(rows, b.device_rows);
        check(cudaStreamSynchronize(b.stream), "waiting before reallocating");
        if (b.device != nullptr) {
            check(cudaFree(b.device), "freeing the device buffer");
            b.device = nullptr;
            b.device_width = b.device_rows = 0;
        }
        void* p = nullptr;
        check(cudaMallocPitch(&p, &b.device_pitch, static_cast<std::size_t>(new_width),
                              static_cast<std::size_t>(new_rows)),
              "allocating the device buffer");
        b.device = static_cast<std::uint8_t*>(p);
        b.device_width = new_width;
        b.device_rows = new_rows;
    }
    const std::size_t packed_bytes = static_cast<std::size_t>(width) * rows;
    if (packed_bytes > b.staging_bytes) {
        check(cudaStreamSynchronize(b.stream), "waiting before reallocating");
        if (b.staging != nullptr) {
            check(cudaFreeHost(b.staging), "freeing the staging buffer");
            b.staging = nullptr;
            b.staging_bytes = 0;
        }
        void* p = nullptr;
        check(cudaMallocHost(&p, packed_bytes), "allocating the pinned staging buffer");
        b.staging = static_cast<std::uint8_t*>(p);
        b.staging_bytes = packed_bytes;
    }

    std::uint8_t* device_uv = b.device + static_cast<std::size_t>(height) * b.device_pitch;
    launch<1>(src.y, src.y_pitch, src.width, src.height, b.device, b.device_pitch, width, height,
              b.stream);
    check(cudaGetLastError(), "launching the Y kernel");
    launch<2>(src.uv, src.uv_pitch, src.width / 2, src.height / 2, device_uv, b.device_pitch,
              width / 2, height / 2, b.stream);
    check(cudaGetLastError(), "launching the UV kernel");
    // Y and UV rows are contiguous in the device buffer: one copy for both.
    check(cudaMemcpy2DAsync(b.staging, static_cast<std::size_t>(width), b.device, b.device_pitch,
                            static_cast<std::size_t>(width), static_cast<std::size_t>(rows),
                            cudaMemcpyDeviceToHost, b.stream),
          "copying the result to the host");
    check(b.finished.wait(b.stream), "waiting for the GPU (kernels and copy)");

    const auto row_bytes = static_cast<std::size_t>(width);
    for (int y = 0; y < height; ++y)
        std::memcpy(dst.y + static_cast<std::size_t>(y) * dst.y_pitch,
                    b.staging + static_cast<std::size_t>(y) * row_bytes, row_bytes);
    const std::uint8_t* staged_uv = b.staging + static_cast<std::size_t>(height) * row_bytes;
    for (int y = 0; y < height / 2; ++y)
        std::memcpy(dst.uv + static_cast<std::size_t>(y) * dst.uv_pitch,
                    staged_uv + static_cast<std::size_t>(y) * row_bytes, row_bytes);
}

}  // namespace ss::cuda
