#include "assignment.hpp"

#include <algorithm>
#include <limits>

namespace ss {
namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

// Hungarian method for rows <= cols. Rows are added one at a time; each grows a
// tree of tight edges (reduced cost 0) from the new row with Dijkstra-like
// steps, moving the dual potentials by the smallest slack until it reaches a
// free column, then flips the matching along that path. Returns each row's column.
std::vector<std::size_t> assign_rows(const std::vector<double>& cost, std::size_t rows, std::size_t cols) {
    // 1-based rows and columns: column 0 is a virtual start for the path search.
    std::vector<double> row_potential(rows + 1, 0.0), col_potential(cols + 1, 0.0);
    std::vector<std::size_t> row_of_col(cols + 1, 0);  // 0: column free
    std::vector<std::size_t> previous_col(cols + 1, 0);
    std::vector<double> min_slack(cols + 1);
    std::vector<char> in_tree(cols + 1);

    for (std::size_t row = 1; row <= rows; ++row) {
        row_of_col[0] = row;
        std::size_t col = 0;
        std::fill(min_slack.begin(), min_slack.end(), infinity);
        std::fill(in_tree.begin(), in_tree.end(), 0);
        do {
            in_tree[col] = 1;
            const std::size_t tree_row = row_of_col[col];
            double delta = infinity;
            std::size_t next_col = 0;
            for (std::size_t j = 1; j <= cols; ++j) {
                if (in_tree[j]) continue;
                const double entry = cost[(tree_row - 1) * cols + (j - 1)];
                const double reduced = entry - row_potential[tree_row] - col_potential[j];
                if (reduced < min_slack[j]) {
                    min_slack[j] = reduced;
                    previous_col[j] = col;
                }
                if (min_slack[j] < delta) {
                    delta = min_slack[j];
                    next_col = j;
                }
            }
            for (std::size_t j = 0; j <= cols; ++j) {
                if (in_tree[j]) {
                    row_potential[row_of_col[j]] += delta;
                    col_potential[j] -= delta;
                } else {
                    min_slack[j] -= delta;
                }
            }
            col = next_col;
        } while (row_of_col[col] != 0);
        // Augment: shift each row on the path to the column after it.
        while (col != 0) {
            const std::size_t prior = previous_col[col];
            row_of_col[col] = row_of_col[prior];
            col = prior;
        }
    }

    std::vector<std::size_t> col_of_row(rows);
    for (std::size_t j = 1; j <= cols; ++j) {
        if (row_of_col[j] != 0) col_of_row[row_of_col[j] - 1] = j - 1;
    }
    return col_of_row;
}

}  // namespace

IndexPairs solve_assignment(const std::vector<double>& cost, std::size_t rows, std::size_t cols) {
    IndexPairs pairs;
    if (rows == 0 || cols == 0) return pairs;
    if (rows <= cols) {
        const auto col_of_row = assign_rows(cost, rows, cols);
        for (std::size_t r = 0; r < rows; ++r) pairs.emplace_back(r, col_of_row[r]);
        return pairs;
    }
    // The solver wants rows <= cols: solve the transpose.
    std::vector<double> transposed(cost.size());
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) transposed[c * rows + r] = cost[r * cols + c];
    }
    const auto row_of_col = assign_rows(transposed, cols, rows);
    for (std::size_t c = 0; c < cols; ++c) pairs.emplace_back(row_of_col[c], c);
    std::sort(pairs.begin(), pairs.end());
    return pairs;
}

IndexPairs match_by_iou(const std::vector<BoxOfClass>& tracks, const std::vector<BoxOfClass>& detections,
                        float min_iou) {
    // Cost 0 for a pair that may not match: the same as leaving both unpaired,
    // which a full assignment can then do freely. Allowed pairs cost -(IoU - gate).
    const std::size_t cols = detections.size();
    std::vector<double> cost(tracks.size() * cols, 0.0);
    std::vector<char> allowed(cost.size(), 0);
    for (std::size_t t = 0; t < tracks.size(); ++t) {
        for (std::size_t d = 0; d < cols; ++d) {
            if (tracks[t].class_id != detections[d].class_id) continue;
            const float iou = intersection_over_union(tracks[t].box, detections[d].box);
            // iou > 0 too: a gate of 0 must still not pair boxes that do not touch.
            // Written so a NaN (boxes too large for float areas) fails as well.
            if (!(iou >= min_iou && iou > 0.f)) continue;
            cost[t * cols + d] = -(double(iou) - min_iou);
            allowed[t * cols + d] = 1;
        }
    }
    IndexPairs pairs;
    for (const auto& [t, d] : solve_assignment(cost, tracks.size(), cols)) {
        if (allowed[t * cols + d]) pairs.emplace_back(t, d);
    }
    return pairs;
}

IndexPairs match_remaining_by_iou(const std::vector<BoxOfClass>& tracks, std::vector<std::size_t>& track_indices,
                                  const std::vector<BoxOfClass>& detections,
                                  std::vector<std::size_t>& detection_indices, float min_iou) {
    IndexPairs pairs;
    if (track_indices.empty() || detection_indices.empty()) return pairs;
    std::vector<BoxOfClass> track_subset, detection_subset;
    for (std::size_t t : track_indices) track_subset.push_back(tracks[t]);
    for (std::size_t d : detection_indices) detection_subset.push_back(detections[d]);

    std::vector<char> track_matched(track_indices.size(), 0), detection_matched(detection_indices.size(), 0);
    for (const auto& [t, d] : match_by_iou(track_subset, detection_subset, min_iou)) {
        pairs.emplace_back(track_indices[t], detection_indices[d]);
        track_matched[t] = detection_matched[d] = 1;
    }
    auto keep_unmatched = [](std::vector<std::size_t>& indices, const std::vector<char>& matched) {
        std::size_t kept = 0;
        for (std::size_t k = 0; k < indices.size(); ++k) {
            if (!matched[k]) indices[kept++] = indices[k];
        }
        indices.resize(kept);
    };
    keep_unmatched(track_indices, track_matched);
    keep_unmatched(detection_indices, detection_matched);
    return pairs;
}

}  // namespace ss
