#pragma once
// model-engine-file: what planning learned for one model on one GPU — the
// convolution engine cuDNN's autotuning chose for each convolution — so a
// restart skips the tuning. A text file of our own; stale (other model, GPU,
// cuDNN or format) means rebuilt. Never a TensorRT engine: those are refused.
#include <filesystem>
#include <map>
#include <string>

namespace ss::cuda_backend {

struct CacheKey {
    std::string model;      // model file name, size and modification time
    std::string gpu;        // GPU name and compute capability
    std::string cudnn;      // cuDNN runtime version
    std::string precision;  // fp16 | fp32
};

class EngineCache {
public:
    // Reads `file` if it exists and matches `key`; a file that is not ours
    // (e.g. a TensorRT engine) throws ss::ModelError naming it.
    EngineCache(std::filesystem::path file, CacheKey key);

    bool enabled() const { return !file_.empty(); }
    bool loaded() const { return loaded_; }  // matched and read; false = stale or new
    const std::string& stale_reason() const { return stale_reason_; }
    std::string choice(const std::string& conv) const;
    void remember(const std::string& conv, const std::string& choice);
    // Writes the file (atomically: a temporary beside it, renamed) when something changed.
    void save();

private:
    std::filesystem::path file_;
    CacheKey key_;
    std::map<std::string, std::string> choices_;
    bool loaded_ = false, dirty_ = false;
    std::string stale_reason_;
};

CacheKey make_cache_key(const std::filesystem::path& model, const std::string& gpu, const std::string& cudnn,
                        bool fp16);

}  // namespace ss::cuda_backend
