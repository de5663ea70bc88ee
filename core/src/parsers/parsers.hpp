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

// A parser in two steps: read_layout tells from the output shapes which tensor
// is which (throwing ModelError when they fit no layout of the family), decode
// turns those tensors into candidates. check_outputs is read_layout alone, so a
// model that passed the check at load time always parses.
template <typename Layout>
class LayoutParser : public OutputParser {
public:
    void check_outputs(const std::vector<TensorView>& outputs, const ParserContext& context) const final {
        read_layout(outputs, context);
    }

    void parse(const std::vector<TensorView>& outputs, const ParserContext& context,
               std::vector<Candidate>& candidates) const final {
        decode(read_layout(outputs, context), context, candidates);
    }

protected:
    virtual Layout read_layout(const std::vector<TensorView>& outputs, const ParserContext& context) const = 0;
    virtual void decode(const Layout& layout, const ParserContext& context, std::vector<Candidate>& candidates) const = 0;
};

}  // namespace ss
