// Fuzz entry point of ss::load_infer_config. Any exception other than ss::Error,
// any sanitizer report, and any config accepted in an inconsistent state is a bug.
#include <cstdlib>

#include "fuzz_common.hpp"
#include "slipstream/config.hpp"
#include "slipstream/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = fuzz::write_input(data, size, "config.txt");
    try {
        const ss::InferConfig c = ss::load_infer_config(file);
        // What the detector relies on without checking again.
        const bool consistent =
            c.num_detected_classes >= 1 && static_cast<int>(c.labels.size()) == c.num_detected_classes &&
            static_cast<int>(c.groups.group_of_class.size()) == c.num_detected_classes &&
            (c.input_channels == 1 || c.input_channels == 3) && c.input_height >= 8 && c.input_width >= 8 &&
            c.input_height <= 4096 && c.input_width <= 4096 && c.batch_size >= 1 && c.batch_size <= 64 &&
            (c.input_channels == 1) == (c.model_color_format == ss::ColorFormat::gray);
        if (!consistent) std::abort();
        for (const auto& [id, a] : c.per_class) {
            if (id < 0 || id >= c.num_detected_classes || a.pre_cluster_threshold < 0 || a.pre_cluster_threshold > 1) std::abort();
        }
        for (int g : c.groups.group_of_class) {
            if (g < -1 || g >= static_cast<int>(c.groups.names.size())) std::abort();
        }
    } catch (const ss::Error& e) {
        fuzz::check_message(e.what());
    }
    return 0;
}
