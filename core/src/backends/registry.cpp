// Inference backends by name (the config's backend= key). Add one line per backend.
#include <functional>
#include <map>

#include "module_loader.hpp"
#include "opencv_dnn.hpp"
#include "slipstream/error.hpp"

namespace ss {
namespace {

using Factory = std::function<std::unique_ptr<InferenceBackend>()>;

const std::map<std::string, Factory>& registry() {
    static const std::map<std::string, Factory> backends = {
        {"opencv", [] { return std::make_unique<OpenCvDnnBackend>(); }},
        {"cuda", [] { return load_backend_module("cuda"); }},
    };
    return backends;
}

}  // namespace

std::unique_ptr<InferenceBackend> make_inference_backend(const std::string& name) {
    auto it = registry().find(name);
    if (it == registry().end()) {
        std::string known;
        for (const auto& [n, f] : registry()) known += (known.empty() ? "" : ", ") + n;
        throw ConfigError("unknown inference backend '" + name + "' (known: " + known + ")");
    }
    return it->second();
}

std::vector<std::string> inference_backend_names() {
    std::vector<std::string> names;
    for (const auto& [n, f] : registry()) names.push_back(n);
    return names;
}

}  // namespace ss
