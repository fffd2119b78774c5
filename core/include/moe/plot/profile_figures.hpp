#pragma once
// Figures of a corpus profile's metrics (moe/corpus_profile_metrics.hpp), for
// `moescope-cli plot --profile P --kind ...` and the app's profile views.
#include "moe/corpus_profile_metrics.hpp"
#include "moe/plot/figure.hpp"

namespace moe::plot {

// Expert-cache hit rate against the cache size (1..E experts) at one MoE layer: LRU and
// Belady's optimal policy. Lines: [LRU, Belady].
Figure expert_cache_figure(const ProfileLayerMetrics& layer, int top_k);

// Consecutive-token repetition per MoE layer: bars for P(same top-1) and P(top-k sets meet), each
// with its random baseline as a dashed line. Bars: two per layer, in layer order.
Figure repetition_figure(const ProfileMetrics& metrics);

// Vocabulary specialization per MoE layer, keyed by the input and by the next token, with the
// uniform baseline k/E dashed. Bars: two per layer [by input, by next].
Figure vocabulary_figure(const ProfileMetrics& metrics, int top_k, int n_expert);

// NMI of the top-1 choices between each MoE layer and the next. Bars: one per layer but the last.
Figure consistency_figure(const ProfileMetrics& metrics);

// REAP saliency per expert at one MoE layer. Bars: one per expert.
Figure reap_figure(const ProfileLayerMetrics& layer);

// Size of each MoE layer's ESFT expert set (metrics.esft_share of the gate mass), all E dashed.
// Bars: one per layer.
Figure esft_figure(const ProfileMetrics& metrics, int n_expert);

}  // namespace moe::plot
