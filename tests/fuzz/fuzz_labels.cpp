// Fuzz entry point of ss::load_labels. Any exception other than ss::Error, any
// sanitizer report, and any accepted label that is empty or has line breaks is a bug.
#include <cstdlib>

#include "fuzz_common.hpp"
#include "slipstream/config.hpp"
#include "slipstream/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = fuzz::write_input(data, size, "input-labels.txt");
    try {
        for (const auto& label : ss::load_labels(file)) {
            if (label.empty() || label.find_first_of("\r\n") != std::string::npos) std::abort();
        }
    } catch (const ss::Error& e) {
        fuzz::check_message(e.what());
    }
    return 0;
}
