#pragma once
// Figures shown side by side (prompt A beside prompt B) must be read on one scale, or a
// taller bar or a brighter cell in one of them means nothing. These put figures of the same
// kind on the widest of their scales.
#include <vector>

#include "moe/plot/figure.hpp"

namespace moe::plot {

// Gives every figure the value axis (y) of the one reaching highest, when their y axes are
// value axes (not categories read downwards), and the colour scale reaching highest, with
// every heatmap cell recoloured from its value. Figures without a y value axis or without a
// colour scale keep theirs. Null pointers are skipped.
void share_scales(const std::vector<Figure*>& figures);

}  // namespace moe::plot
