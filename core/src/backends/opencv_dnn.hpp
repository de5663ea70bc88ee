#pragma once
#include <opencv2/dnn.hpp>

#include "slipstream/backend.hpp"

namespace ss {

class OpenCvDnnBackend final : public InferenceBackend {
public:
    void load(const std::filesystem::path& model, const std::vector<std::string>& output_names) override;
    std::vector<OutputTensor> forward(const InputTensor& input) override;

private:
    std::filesystem::path model_;
    cv::dnn::Net net_;
    std::vector<std::string> output_names_;
};

}  // namespace ss
