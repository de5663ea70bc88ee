// CPU inference with OpenCV's DNN module (OpenCV 4.6 on Debian 12), which
// imports ONNX directly and uses OpenCV's own thread pool.
#include "opencv_dnn.hpp"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include "slipstream/error.hpp"

namespace ss {

void OpenCvDnnBackend::load(const std::filesystem::path& model, const std::vector<std::string>& output_names) {
    model_ = model;
    // OpenCV prints its own import diagnostics; ours name the file instead.
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    try {
        net_ = cv::dnn::readNetFromONNX(model.string());
    } catch (const cv::Exception& e) {
        std::string reason = e.err.empty() ? e.what() : e.err;
        if (auto nl = reason.find('\n'); nl != std::string::npos) reason.resize(nl);
        throw ModelError(model.string() + ": not an ONNX model OpenCV DNN can load (" + reason + ")");
    }
    if (net_.empty()) throw ModelError(model.string() + ": not an ONNX model OpenCV DNN can load");
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    const auto model_outputs = net_.getUnconnectedOutLayersNames();
    if (output_names.empty()) {
        output_names_ = model_outputs;
    } else {
        output_names_ = output_names;
    }
}

std::vector<OutputTensor> OpenCvDnnBackend::forward(const InputTensor& input) {
    // cv::Mat wraps the caller's buffer: no copy of the input tensor.
    cv::Mat blob(static_cast<int>(input.shape.size()), input.shape.data(), CV_32F, const_cast<float*>(input.data));
    auto results = std::make_shared<std::vector<cv::Mat>>();
    try {
        net_.setInput(blob);
        net_.forward(*results, output_names_);
    } catch (const cv::Exception& e) {
        std::string reason = e.err.empty() ? e.what() : e.err;
        if (auto nl = reason.find('\n'); nl != std::string::npos) reason.resize(nl);
        throw ModelError(model_.string() + ": inference failed (" + reason + ")");
    }
    std::vector<OutputTensor> outputs;
    for (std::size_t i = 0; i < results->size(); ++i) {
        cv::Mat& m = (*results)[i];
        if (m.type() != CV_32F) m.convertTo(m, CV_32F);
        if (!m.isContinuous()) m = m.clone();
        OutputTensor out;
        out.name = output_names_[i];
        out.shape.assign(m.size.p, m.size.p + m.dims);
        out.data = m.ptr<float>();
        out.owner = results;
        outputs.push_back(std::move(out));
    }
    return outputs;
}

}  // namespace ss
