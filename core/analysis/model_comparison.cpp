#include "moe/model_comparison.hpp"

#include <algorithm>
#include <cmath>

#include "moe/error.hpp"

namespace moe {

namespace {

void check_same_shape(const ProfileModel& a, const ProfileModel& b) {
  if (a.n_expert != b.n_expert || a.moe_layers != b.moe_layers) {
    throw Error("the two models route differently shaped layers (" + std::to_string(a.n_expert) +
                " experts on " + std::to_string(a.moe_layers.size()) + " MoE layers against " +
                std::to_string(b.n_expert) + " on " + std::to_string(b.moe_layers.size()) +
                "): compare checkpoints or models of one shape");
  }
}

// Each expert's share of a layer's routing slots.
std::vector<double> slot_shares(const std::vector<int64_t>& token_counts) {
  double slots = 0;
  for (int64_t count : token_counts) slots += static_cast<double>(count);
  std::vector<double> shares(token_counts.size(), 0);
  for (size_t e = 0; e < token_counts.size() && slots > 0; ++e) {
    shares[e] = static_cast<double>(token_counts[e]) / slots;
  }
  return shares;
}

}  // namespace

CorpusComparison make_corpus_comparison(const ProfileModel& a, const ProfileModel& b) {
  check_same_shape(a, b);
  CorpusComparison comparison;
  comparison.a = make_corpus_profile(a);
  comparison.b = make_corpus_profile(b);
  comparison.saturation.assign(a.moe_layers.size(), {});
  return comparison;
}

CorpusComparison corpus_comparison_of(CorpusProfile a, CorpusProfile b) {
  check_same_shape(a.model, b.model);
  CorpusComparison comparison;
  comparison.a = std::move(a);
  comparison.b = std::move(b);
  return comparison;
}

int64_t compare_document(CorpusComparison& comparison, Session& a, Session& b,
                         std::span<const int32_t> ids, const std::string& domain) {
  const auto window = static_cast<size_t>(std::max(1, std::min(a.n_ctx(), b.n_ctx())));
  const std::vector<int>& layers = comparison.a.model.moe_layers;
  for (size_t start = 0; start < ids.size(); start += window) {
    const std::span<const int32_t> part = ids.subspan(start, std::min(window, ids.size() - start));
    for (Session* session : {&a, &b}) {
      session->clear();
      session->set_tokens(part);
    }
    add_routing(comparison.a, a.trace(), part, domain);
    add_routing(comparison.b, b.trace(), part, domain);
    count_saturation(comparison.saturation, layers, a.trace(), b.trace());
  }
  return static_cast<int64_t>(ids.size());
}

ModelComparison compare_models(const CorpusComparison& comparison, int n_shifts) {
  ModelComparison result;
  LoadComparison& load = result.load;
  load.layers = comparison.a.model.moe_layers;
  load.tokens_a = static_cast<int>(std::min<int64_t>(comparison.a.tokens, INT32_MAX));
  load.tokens_b = static_cast<int>(std::min<int64_t>(comparison.b.tokens, INT32_MAX));
  for (size_t m = 0; m < load.layers.size(); ++m) {
    load.share_a.push_back(slot_shares(comparison.a.layers[m].token_counts));
    load.share_b.push_back(slot_shares(comparison.b.layers[m].token_counts));
    std::vector<double> difference(load.share_a.back().size());
    double variation = 0;
    for (size_t e = 0; e < difference.size(); ++e) {
      difference[e] = load.share_b.back()[e] - load.share_a.back()[e];
      load.max_abs_difference = std::max(load.max_abs_difference, std::abs(difference[e]));
      variation += std::abs(difference[e]);
      result.largest_shifts.push_back({load.layers[m], static_cast<int>(e), load.share_a.back()[e],
                                       load.share_b.back()[e]});
    }
    result.total_variation.push_back(variation / 2);
    load.difference.push_back(std::move(difference));
    if (m < comparison.saturation.size()) {
      result.saturation.push_back(router_saturation(comparison.saturation[m], load.layers[m]));
    }
  }
  std::stable_sort(result.largest_shifts.begin(), result.largest_shifts.end(),
                   [](const ExpertShift& x, const ExpertShift& y) {
                     return std::abs(x.share_b - x.share_a) > std::abs(y.share_b - y.share_a);
                   });
  result.largest_shifts.resize(std::min(result.largest_shifts.size(),
                                        static_cast<size_t>(std::max(n_shifts, 0))));
  return result;
}

}  // namespace moe
