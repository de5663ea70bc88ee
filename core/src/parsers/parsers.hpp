#pragma once
// Factories of the output parsers, one per file; registry.cpp maps names to them.
#include "slipstream/output_parser.hpp"

namespace ss {

std::unique_ptr<OutputParser> make_nanodet_parser();
std::unique_ptr<OutputParser> make_yolo_parser();
std::unique_ptr<OutputParser> make_ssd_parser();
std::unique_ptr<OutputParser> make_detectnet_v2_parser();

// Drops leading dimensions of size 1 so [1, A, C] and [A, C] read alike.
std::vector<int> squeeze_leading(std::vector<int> shape, std::size_t keep);

}  // namespace ss
