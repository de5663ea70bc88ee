#pragma once
#include <memory>
#include <string>

#include "slipstream/backend.hpp"

namespace ss {

// Loads libslipstream-<name>-backend.so and creates its backend. Looked for in
// $SLIPSTREAM_BACKEND_DIR, next to the executable (../lib/slipstream, as the
// bundle and an install lay it out), in the build tree, then by the loader's
// own search path. Throws ModelError with one line saying what is missing.
std::unique_ptr<InferenceBackend> load_backend_module(const std::string& name);

}  // namespace ss
