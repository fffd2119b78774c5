#pragma once
// Figures of a corpus profile's metrics (moe/corpus_profile_metrics.hpp), for
// `moescope-cli plot --profile P --kind cache|repetition`.
#include "moe/corpus_profile_metrics.hpp"
#include "moe/plot/figure.hpp"

namespace moe::plot {

// Expert-cache hit rate against the cache size (1..E experts) at one MoE layer: LRU and
// Belady's optimal policy. Lines: [LRU, Belady].
Figure expert_cache_figure(const ProfileLayerMetrics& layer, int top_k);

// Consecutive-token repetition per MoE layer: bars for P(same top-1) and P(top-k sets meet), each
// with its random baseline as a dashed line. Bars: two per layer, in layer order.
Figure repetition_figure(const ProfileMetrics& metrics);

}  // namespace moe::plot
