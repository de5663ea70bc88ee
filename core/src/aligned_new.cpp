// Replaces the global operator new/delete of the program (or plugin) it is
// linked into, so that every allocation of 4 KiB or more starts on a 64-byte
// cache line.
//
// Why: OpenCV DNN takes the buffers its convolutions run over, some anew on
// every call, from operator new; libstdc++'s sits on glibc's malloc, which
// aligns to 16 bytes only. Whether such a buffer happens to sit on a cache
// line depends on the heap's history, and with it the speed of the whole
// forward: NanoDet at 416 took 55-60 ms of CPU in some processes and 40 ms in
// others on the same machine (AVX-512, Debian's OpenCV 4.6), the same process
// keeping its speed for its whole life. Aligned, it takes 40 ms in every
// process.
//
// Linked into the executables and the GStreamer plugin, never into
// slipstream_core. An executable's definition wins over libstdc++'s for every
// library in the process. gst-launch-1.0 opens the plugin with local binding,
// and the plugin comes first in the lookup of the libraries loaded with it, so
// OpenCV binds to the plugin's (LD_DEBUG=bindings shows it; ssinfer in
// gst-launch took 58-60 ms per detection in some heap layouts, 44-47 in all of
// them with it). In a C++ program, libstdc++ is already in the global scope, so
// OpenCV binds to the program's operator new (libstdc++'s unless the program
// replaces it) and the plugin's changes nothing; the same if another plugin
// loaded OpenCV first. That mix is safe because every path, ours and
// libstdc++'s, allocates with malloc or aligned_alloc and frees with free().
#include <cstdlib>
#include <limits>
#include <new>

namespace {

constexpr std::size_t cache_line = 64;
constexpr std::size_t aligned_from = 4096;  // small objects keep malloc's cheaper path

void* allocate(std::size_t size) {
    if (size == 0) size = 1;
    if (size > std::numeric_limits<std::size_t>::max() - cache_line) throw std::bad_alloc();  // rounding up would wrap
    for (;;) {
        void* p = size >= aligned_from ? std::aligned_alloc(cache_line, (size + cache_line - 1) & ~(cache_line - 1))
                                       : std::malloc(size);
        if (p) return p;
        std::new_handler handler = std::get_new_handler();
        if (!handler) throw std::bad_alloc();
        handler();
    }
}

void* allocate_or_null(std::size_t size) noexcept {
    try {
        return allocate(size);
    } catch (...) {
        return nullptr;
    }
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate_or_null(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate_or_null(size); }
// glibc's free() takes aligned_alloc's and malloc's blocks alike.
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
