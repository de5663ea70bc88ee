#include "engine_cache.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include "slipstream/error.hpp"

namespace ss::cuda_backend {
namespace {

constexpr const char* magic = "slipstream-engine-cache 1";

}  // namespace

CacheKey make_cache_key(const std::filesystem::path& model, const std::string& gpu, const std::string& cudnn,
                        bool fp16) {
    std::error_code error;
    const auto size = std::filesystem::file_size(model, error);
    const auto time = std::filesystem::last_write_time(model, error);
    std::ostringstream m;
    m << model.filename().string() << ' ' << size << ' ' << time.time_since_epoch().count();
    return {m.str(), gpu, cudnn, fp16 ? "fp16" : "fp32"};
}

EngineCache::EngineCache(std::filesystem::path file, CacheKey key) : file_(std::move(file)), key_(std::move(key)) {
    if (file_.empty()) return;
    std::ifstream in(file_, std::ios::binary);
    if (!in) {
        stale_reason_ = "not built yet";
        return;
    }
    std::string first;
    std::getline(in, first);
    if (first != magic) {
        throw ModelError("model-engine-file " + file_.string() +
                         " is not a slipstream engine cache (a TensorRT engine?): the cuda backend plans the "
                         "onnx-file itself; point model-engine-file at a new file or remove the key");
    }
    std::map<std::string, std::string> header;
    std::map<std::string, std::string> choices;
    std::string line;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab == std::string::npos) continue;
        const std::string name = line.substr(0, tab), value = line.substr(tab + 1);
        if (name.rfind("conv ", 0) == 0) {
            choices[name.substr(5)] = value;
        } else {
            header[name] = value;
        }
    }
    for (const auto& [name, want] : {std::pair{"model", key_.model}, {"gpu", key_.gpu}, {"cudnn", key_.cudnn},
                                      {"precision", key_.precision}}) {
        if (header[name] != want) {
            stale_reason_ = std::string(name) + " changed (" + header[name] + " -> " + want + ")";
            return;
        }
    }
    choices_ = std::move(choices);
    loaded_ = true;
}

std::string EngineCache::choice(const std::string& conv) const {
    auto it = choices_.find(conv);
    return it == choices_.end() ? std::string() : it->second;
}

void EngineCache::remember(const std::string& conv, const std::string& choice) {
    auto& slot = choices_[conv];
    if (slot != choice) {
        slot = choice;
        dirty_ = true;
    }
}

void EngineCache::save() {
    if (file_.empty() || !dirty_) return;
    const auto temporary = file_.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << magic << '\n'
            << "model\t" << key_.model << '\n'
            << "gpu\t" << key_.gpu << '\n'
            << "cudnn\t" << key_.cudnn << '\n'
            << "precision\t" << key_.precision << '\n';
        for (const auto& [conv, choice] : choices_) out << "conv " << conv << '\t' << choice << '\n';
        if (!out) throw ModelError("model-engine-file " + file_.string() + ": cannot write " + temporary);
    }
    std::error_code error;
    std::filesystem::rename(temporary, file_, error);
    if (error) throw ModelError("model-engine-file " + file_.string() + ": " + error.message());
    dirty_ = false;
}

}  // namespace ss::cuda_backend
