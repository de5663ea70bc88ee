#pragma once
// cuDNN's entry points, resolved from libcudnn.so.9 at run time (dlopen), so
// that nothing linking slipstream_cudnn needs cuDNN to start. Only the few
// functions the graph API needs.
#include <cudnn_graph.h>

#include <string>

namespace ss::cudnn::detail {

struct Api {
    decltype(&::cudnnGetVersion) GetVersion = nullptr;
    decltype(&::cudnnGetErrorString) GetErrorString = nullptr;
    decltype(&::cudnnGetLastErrorString) GetLastErrorString = nullptr;  // may stay null
    decltype(&::cudnnCreate) Create = nullptr;
    decltype(&::cudnnDestroy) Destroy = nullptr;
    decltype(&::cudnnSetStream) SetStream = nullptr;
    decltype(&::cudnnBackendCreateDescriptor) BackendCreateDescriptor = nullptr;
    decltype(&::cudnnBackendDestroyDescriptor) BackendDestroyDescriptor = nullptr;
    decltype(&::cudnnBackendSetAttribute) BackendSetAttribute = nullptr;
    decltype(&::cudnnBackendGetAttribute) BackendGetAttribute = nullptr;
    decltype(&::cudnnBackendFinalize) BackendFinalize = nullptr;
    decltype(&::cudnnBackendExecute) BackendExecute = nullptr;
};

// Loads cuDNN once per process. Null, with `why` set, when it cannot.
const Api* api(std::string* why = nullptr);
// Loads cuDNN or throws std::runtime_error("cuDNN: <context>: <why>").
const Api& api_or_throw(const std::string& context);

// "CUDNN_STATUS_NOT_SUPPORTED", plus cuDNN's last error message when it has one.
std::string status_text(cudnnStatus_t status);

}  // namespace ss::cudnn::detail
