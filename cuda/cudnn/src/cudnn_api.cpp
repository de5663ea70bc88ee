#include "cudnn_api.hpp"

#include <dlfcn.h>

#include <stdexcept>

namespace ss::cudnn::detail {
namespace {

struct Loaded {
    Api api;
    bool ok = false;
    std::string why;
};

template <typename Fn>
bool resolve(void* lib, const char* name, Fn& out, std::string& why) {
    void* sym = dlsym(lib, name);
    if (sym == nullptr) {
        why = std::string("libcudnn.so.9 lacks ") + name;
        return false;
    }
    out = reinterpret_cast<Fn>(sym);
    return true;
}

Loaded load() {
    Loaded l;
    // The loader's search path first (LD_LIBRARY_PATH, rpath, ld.so.cache),
    // then where the build found cuDNN. libcudnn.so.9 finds its sub-libraries
    // (libcudnn_graph.so.9, the engines) next to itself.
    const char* candidates[] = {"libcudnn.so.9",
#ifdef SS_CUDNN_FALLBACK_PATH
                                SS_CUDNN_FALLBACK_PATH
#endif
    };
    void* lib = nullptr;
    std::string first_error;
    for (const char* path : candidates) {
        lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (lib != nullptr) break;
        const char* err = dlerror();
        if (first_error.empty() && err != nullptr) first_error = err;
    }
    if (lib == nullptr) {
        l.why = "libcudnn.so.9 not found: " + first_error;
        return l;
    }
    Api& a = l.api;
    if (!resolve(lib, "cudnnGetVersion", a.GetVersion, l.why) ||
        !resolve(lib, "cudnnGetErrorString", a.GetErrorString, l.why) ||
        !resolve(lib, "cudnnCreate", a.Create, l.why) || !resolve(lib, "cudnnDestroy", a.Destroy, l.why) ||
        !resolve(lib, "cudnnSetStream", a.SetStream, l.why) ||
        !resolve(lib, "cudnnBackendCreateDescriptor", a.BackendCreateDescriptor, l.why) ||
        !resolve(lib, "cudnnBackendDestroyDescriptor", a.BackendDestroyDescriptor, l.why) ||
        !resolve(lib, "cudnnBackendSetAttribute", a.BackendSetAttribute, l.why) ||
        !resolve(lib, "cudnnBackendGetAttribute", a.BackendGetAttribute, l.why) ||
        !resolve(lib, "cudnnBackendFinalize", a.BackendFinalize, l.why) ||
        !resolve(lib, "cudnnBackendExecute", a.BackendExecute, l.why)) {
        return l;  // the library stays loaded; harmless
    }
    std::string ignored;
    (void)resolve(lib, "cudnnGetLastErrorString", a.GetLastErrorString, ignored);
    const std::size_t version = a.GetVersion();
    if (version < 90000 || version >= 100000) {
        l.why = "libcudnn.so.9 reports version " + std::to_string(version) + ", need 9.x";
        return l;
    }
    l.ok = true;
    return l;
}

}  // namespace

const Api* api(std::string* why) {
    static const Loaded loaded = load();  // thread-safe, once
    if (!loaded.ok) {
        if (why != nullptr) *why = loaded.why;
        return nullptr;
    }
    return &loaded.api;
}

const Api& api_or_throw(const std::string& context) {
    std::string why;
    const Api* a = api(&why);
    if (a == nullptr) throw std::runtime_error("cuDNN: " + context + ": " + why);
    return *a;
}

std::string status_text(cudnnStatus_t status) {
    const Api* a = api();
    if (a == nullptr) return "status " + std::to_string(int(status));
    std::string text = a->GetErrorString(status);
    if (a->GetLastErrorString != nullptr) {
        char buf[512] = {0};
        a->GetLastErrorString(buf, sizeof buf);
        if (buf[0] != '\0') text += std::string(" (") + buf + ")";
    }
    return text;
}

}  // namespace ss::cudnn::detail
