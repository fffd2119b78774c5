#pragma once
// Two prompts side by side: where their expert load differs, layer by layer.
#include <string>

#include "moe/expert_insights.hpp"
#include "moe/plot/figure.hpp"

namespace moe::plot {

// A diverging blue-white-red scale symmetric around 0 (ColorBrewer RdBu stops), for differences.
ColorScale diverging_scale(double max_abs, std::string label);

// Layer x expert: cell value = B's load share minus A's (percentage points), red where prompt B
// uses the expert more, blue where A does, white where they agree. Cells: row = MoE index,
// column = expert; tooltips give both shares.
Figure load_difference_figure(const LoadComparison& comparison, const std::string& label_a,
                              const std::string& label_b);

}  // namespace moe::plot
