#pragma once
// Two models (or two checkpoints of one) on the same corpus: how much their routing agrees on
// the same tokens (router saturation, moe/router_saturation.hpp), each one's load, and which
// experts' share changed most. From two models run on the same text, or, without saturation
// (it needs both models' choices for each token), from two corpus profiles.
#include <span>
#include <string>
#include <vector>

#include "moe/corpus_profile.hpp"
#include "moe/expert_insights.hpp"
#include "moe/router_saturation.hpp"
#include "moe/session.hpp"

namespace moe {

// Both models' routing of a corpus, counted document by document.
struct CorpusComparison {
  CorpusProfile a, b;                       // each model's counts (load, domains, ...)
  std::vector<SaturationCounts> saturation;  // per MoE layer; empty when made from profiles
};

// Throws moe::Error when the two shapes differ (experts, MoE layers): the comparison is expert
// by expert.
CorpusComparison make_corpus_comparison(const ProfileModel& a, const ProfileModel& b);
// From two finished profiles (no saturation).
CorpusComparison corpus_comparison_of(CorpusProfile a, CorpusProfile b);

// Routes one document (token ids, BOS already in front where wanted) through both sessions, in
// windows of the smaller context as profile_document does, and counts both. Returns the tokens.
int64_t compare_document(CorpusComparison& comparison, Session& a, Session& b,
                         std::span<const int32_t> ids, const std::string& domain);

struct ExpertShift {
  int layer = 0;  // model layer
  int expert = 0;
  double share_a = 0, share_b = 0;  // of the layer's routing slots
};

struct ModelComparison {
  LoadComparison load;                      // shares per layer and expert, b - a
  std::vector<double> total_variation;      // per MoE layer: 1/2 sum |share_b - share_a|
  std::vector<RouterSaturation> saturation;  // per MoE layer; empty without
  std::vector<ExpertShift> largest_shifts;  // by |share_b - share_a|, largest first
};
ModelComparison compare_models(const CorpusComparison& comparison, int n_shifts = 10);

}  // namespace moe
