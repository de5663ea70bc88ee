// Output parsers by name (the config's parse-bbox-func-name). One line per parser.
#include <functional>
#include <map>
#include <sstream>

#include "parsers.hpp"
#include "slipstream/error.hpp"

namespace ss {
namespace {

const std::map<std::string, std::function<std::unique_ptr<OutputParser>()>>& registry() {
    static const std::map<std::string, std::function<std::unique_ptr<OutputParser>()>> parsers = {
        {"nanodet", make_nanodet_parser},
        {"yolo", make_yolo_parser},
        {"ssd", make_ssd_parser},
        {"detectnet_v2", make_detectnet_v2_parser},
    };
    return parsers;
}

}  // namespace

std::unique_ptr<OutputParser> make_output_parser(const std::string& name) {
    auto it = registry().find(name);
    if (it == registry().end()) throw ConfigError("unknown output parser '" + name + "'");
    return it->second();
}

std::vector<std::string> output_parser_names() {
    std::vector<std::string> names;
    for (const auto& [name, factory] : registry()) names.push_back(name);
    return names;
}

std::string shape_to_string(const std::vector<int>& shape) {
    std::ostringstream out;
    out << '[';
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << ']';
    return out.str();
}

std::string shapes_to_string(const std::vector<TensorView>& outputs) {
    std::string shapes;
    for (const auto& t : outputs) shapes += (shapes.empty() ? "" : ", ") + shape_to_string(t.shape);
    return shapes;
}

std::vector<int> squeeze_leading(std::vector<int> shape, std::size_t keep) {
    while (shape.size() > keep && shape.front() == 1) shape.erase(shape.begin());
    return shape;
}

}  // namespace ss
