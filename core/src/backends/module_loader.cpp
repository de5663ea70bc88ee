#include "module_loader.hpp"

#include <dlfcn.h>

#include <cstdlib>

#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

#include "slipstream/error.hpp"

namespace ss {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> candidate_dirs() {
    std::vector<fs::path> dirs;
    if (const char* dir = std::getenv("SLIPSTREAM_BACKEND_DIR"); dir && *dir) dirs.emplace_back(dir);
    std::error_code error;
    const fs::path exe = fs::read_symlink("/proc/self/exe", error);
    if (!error) dirs.push_back(exe.parent_path().parent_path() / "lib" / "slipstream");
#ifdef SLIPSTREAM_BUILD_MODULE_DIR
    dirs.emplace_back(SLIPSTREAM_BUILD_MODULE_DIR);
#endif
    return dirs;
}

}  // namespace

std::unique_ptr<InferenceBackend> load_backend_module(const std::string& name) {
    // Modules stay loaded for the life of the process: backends they made may
    // outlive any one caller, and their code must not go away under them.
    static std::mutex mutex;
    const std::lock_guard lock(mutex);
    const std::string file = "libslipstream-" + name + "-backend.so";
    std::string tried;
    void* module = nullptr;
    std::string load_error;
    for (const auto& dir : candidate_dirs()) {
        const fs::path path = dir / file;
        std::error_code error;
        if (!fs::exists(path, error)) {
            tried += (tried.empty() ? "" : ", ") + dir.string();
            continue;
        }
        module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!module) load_error = dlerror();
        break;
    }
    if (!module && load_error.empty()) {
        module = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);  // LD_LIBRARY_PATH and the system's paths
        if (!module) {
            throw ModelError("backend=" + name + ": " + file + " is not in " + tried +
                             " or on the library path: this slipstream was built without the " + name +
                             " backend (it needs the CUDA toolkit and cuDNN 9 at build time); use backend=opencv");
        }
    }
    if (!module) {
        throw ModelError("backend=" + name + ": cannot load " + file + ": " + load_error +
                         " (it needs the NVIDIA driver and cuDNN 9: put libcudnn.so.9 on LD_LIBRARY_PATH), or use backend=opencv");
    }
    auto create = reinterpret_cast<CreateBackendFn>(dlsym(module, create_backend_symbol));
    if (!create) throw ModelError("backend=" + name + ": " + file + " does not export " + create_backend_symbol);
    return std::unique_ptr<InferenceBackend>(create());
}

}  // namespace ss
