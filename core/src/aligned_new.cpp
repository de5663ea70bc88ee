// Replaces the global operator new/delete of an executable so that every
// allocation of 4 KiB or more starts on a 64-byte cache line.
//
// Why: OpenCV DNN takes its convolution weights and per-call scratch buffers
// from operator new[], which glibc aligns to 16 bytes only. Whether such a
// buffer happens to sit on a cache line depends on the heap's history, and
// with it the speed of the whole forward: NanoDet at 416 took 55-60 ms of CPU
// in some processes and 40 ms in others on the same machine (AVX-512, Debian's
// OpenCV 4.6), the same process keeping its speed for its whole life. Aligned,
// it takes 40 ms in every process.
//
// Linked into executables only (an object library, never slipstream_core):
// a replacement in the executable interposes on every shared library it
// loads, OpenCV included; one inside a dlopen()ed plugin would not.
#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t cache_line = 64;
constexpr std::size_t aligned_from = 4096;  // small objects keep malloc's cheaper path

void* allocate(std::size_t size) {
    if (size == 0) size = 1;
    for (;;) {
        void* p = size >= aligned_from ? std::aligned_alloc(cache_line, (size + cache_line - 1) & ~(cache_line - 1))
                                       : std::malloc(size);
        if (p) return p;
        std::new_handler handler = std::get_new_handler();
        if (!handler) throw std::bad_alloc();
        handler();
    }
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
// glibc's free() takes aligned_alloc's and malloc's blocks alike.
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
