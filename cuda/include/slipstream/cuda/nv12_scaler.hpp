#pragma once
// Scales NV12 frames on the GPU and copies the result down to host memory:
// NVDEC leaves full-size frames in device memory and the CPU only needs small
// ones (the tile, the detector's input).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace ss::cuda {

// A CUDA call failed; the message names the step and CUDA's error text.
struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One NV12 picture: the Y plane, then the interleaved U/V plane at half the
// width and height. Width and height are even. The pointers are device memory
// for a source and host memory for a destination.
struct Nv12Frame {
    std::uint8_t* y = nullptr;
    std::uint8_t* uv = nullptr;
    int width = 0;
    int height = 0;
    std::size_t y_pitch = 0;   // bytes from one row of Y to the next (>= width)
    std::size_t uv_pitch = 0;  // bytes from one row of UV to the next (>= width)
};

// Area average when shrinking (each output pixel is the mean of the source
// pixels it covers, so a 1080p frame shrunk 8x does not alias), bilinear when
// enlarging. Works in the CUDA context current on the calling thread (the
// decoder's, pushed by the caller); keeps its device buffer, pinned staging
// buffer and stream between calls. One instance per thread of use, always
// called (and destroyed) with the same context current: the stream is made in
// the context current at the first scale(). Sides up to 16384 pixels.
class Nv12Scaler {
public:
    Nv12Scaler();
    ~Nv12Scaler();
    Nv12Scaler(const Nv12Scaler&) = delete;
    Nv12Scaler& operator=(const Nv12Scaler&) = delete;

    // Scales `device_source` to the size of `host_destination` and writes it
    // there; returns when the copy is complete. Throws Error.
    void scale(const Nv12Frame& device_source, const Nv12Frame& host_destination);

    // Scales `device_source` into `device_destination` (device memory, e.g. a
    // DeviceNv12Buffer's) on the scaler's stream: the detector's copy stays on
    // the GPU. With wait = false it returns once the kernels are queued; a
    // following scale() on this scaler returns only after they ran too (one
    // stream, in order), else call wait() before the destination is read.
    void scale_to_device(const Nv12Frame& device_source, const Nv12Frame& device_destination, bool wait = true);
    // Returns when everything queued on the scaler's stream has run.
    void wait();

private:
    struct Buffers;
    std::unique_ptr<Buffers> buffers_;
};

// An NV12 picture in device memory: one pitched allocation, Y rows then UV
// rows. Allocated and freed in the CUDA context current on the calling thread
// (the same one both times). Throws Error.
class DeviceNv12Buffer {
public:
    DeviceNv12Buffer(int width, int height);
    ~DeviceNv12Buffer();
    DeviceNv12Buffer(const DeviceNv12Buffer&) = delete;
    DeviceNv12Buffer& operator=(const DeviceNv12Buffer&) = delete;

    const Nv12Frame& frame() const { return frame_; }

private:
    Nv12Frame frame_;
};

// The same arithmetic on the CPU, host memory on both sides: what the kernel
// is tested against, bit for bit.
void scale_nv12_reference(const Nv12Frame& host_source, const Nv12Frame& host_destination);

}  // namespace ss::cuda
