#include "moe/expert_insights.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "moe/compute_estimate.hpp"
#include "moe/error.hpp"

namespace moe {

namespace {

void check_layer_and_expert(const RoutingTrace& trace, int layer, int expert) {
  if (!trace.is_moe_layer(layer)) {
    std::string list;
    for (size_t i = 0; i < trace.moe_layers().size(); ++i)
      list += (i ? ", " : "") + std::to_string(trace.moe_layers()[i]);
    throw Error("layer " + std::to_string(layer) + " is not a MoE layer (MoE layers: " + list +
                ")");
  }
  if (expert < 0 || expert >= trace.n_expert()) {
    throw Error("expert " + std::to_string(expert) + " is out of range (0.." +
                std::to_string(trace.n_expert() - 1) + ")");
  }
}

}  // namespace

std::optional<RoutedText> route_text(Session& session, std::string domain,
                                     std::vector<int32_t> tokens, int first_token) {
  if (static_cast<int>(tokens.size()) > session.n_ctx())
    tokens.resize(static_cast<size_t>(session.n_ctx()));
  if (static_cast<int>(tokens.size()) <= first_token) return std::nullopt;
  session.set_tokens(tokens);
  return RoutedText{std::move(domain), std::move(tokens), session.trace(), first_token};
}

ExpertVocabulary expert_vocabulary(const std::vector<RoutedText>& texts, int layer, int expert,
                                   int max_tokens, int max_examples) {
  if (texts.empty()) throw Error("expert vocabulary: no texts");
  for (const RoutedText& text : texts) check_layer_and_expert(text.trace, layer, expert);
  ExpertVocabulary vocabulary;
  vocabulary.layer = layer;
  vocabulary.expert = expert;
  std::map<int32_t, ExpertToken> by_id;
  for (size_t i = 0; i < texts.size(); ++i) {
    const RoutedText& text = texts[i];
    auto domain = std::find_if(vocabulary.domains.begin(), vocabulary.domains.end(),
                               [&](const DomainShare& d) { return d.domain == text.domain; });
    if (domain == vocabulary.domains.end()) {
      vocabulary.domains.push_back({text.domain});
      domain = vocabulary.domains.end() - 1;
    }
    const int end = std::min(text.trace.n_tokens(), static_cast<int>(text.tokens.size()));
    for (int t = std::max(text.first_token, 0); t < end; ++t) {
      if (!text.trace.has(t, layer)) continue;
      const RoutingRecord& record = text.trace.at(t, layer);
      const int32_t id = text.tokens[static_cast<size_t>(t)];
      ExpertToken& token = by_id[id];
      token.id = id;
      ++token.occurrences;
      ++vocabulary.tokens;
      ++domain->tokens;
      const auto chosen = std::find(record.experts.begin(), record.experts.end(), expert);
      if (chosen == record.experts.end()) continue;
      const auto rank = static_cast<int>(chosen - record.experts.begin());
      ++token.routed;
      ++vocabulary.routed;
      ++domain->routed;
      if (rank == 0) ++domain->top1;
      const float weight = record.weights[static_cast<size_t>(rank)];
      token.weight_sum += weight;
      if (static_cast<int>(token.examples.size()) < max_examples)
        token.examples.push_back({static_cast<int>(i), t, rank, weight});
    }
  }
  for (auto& [id, token] : by_id)
    if (token.routed > 0) vocabulary.top_tokens.push_back(std::move(token));
  std::sort(
      vocabulary.top_tokens.begin(), vocabulary.top_tokens.end(),
      [](const ExpertToken& a, const ExpertToken& b) {
        if (a.routed != b.routed) return a.routed > b.routed;
        // Same count: the token routed here more consistently first.
        const double share_a = static_cast<double>(a.routed) / static_cast<double>(a.occurrences);
        const double share_b = static_cast<double>(b.routed) / static_cast<double>(b.occurrences);
        return share_a != share_b ? share_a > share_b : a.id < b.id;
      });
  if (static_cast<int>(vocabulary.top_tokens.size()) > max_tokens)
    vocabulary.top_tokens.resize(static_cast<size_t>(std::max(max_tokens, 0)));
  return vocabulary;
}

std::string context_snippet(const Tokenizer& tokenizer, const std::vector<RoutedText>& texts,
                            const TokenOccurrence& occurrence, int before, int after) {
  const std::vector<int32_t>& tokens = texts.at(static_cast<size_t>(occurrence.text)).tokens;
  const int n = static_cast<int>(tokens.size());
  const int position = occurrence.position;
  const int first = std::max(std::max(texts[static_cast<size_t>(occurrence.text)].first_token, 0),
                             position - before);
  const int last = std::min(n, position + after + 1);
  const auto piece = [&](int from, int to) {
    if (from >= to) return std::string();
    return tokenizer.decode(
        std::span(tokens).subspan(static_cast<size_t>(from), static_cast<size_t>(to - from)));
  };
  std::string text = piece(first, position) + "[" + piece(position, position + 1) + "]" +
                     piece(position + 1, last);
  std::string shown;
  for (char c : text) shown += c == '\n' ? std::string("\\n") : std::string(1, c);
  return shown;
}

LoadComparison compare_load(const RoutingTrace& a, const RoutingTrace& b, int first_token_a,
                            int first_token_b) {
  if (a.n_expert() != b.n_expert() || a.moe_layers() != b.moe_layers())
    throw Error("compare: the two traces come from models of different shapes");
  LoadComparison comparison;
  comparison.layers = a.moe_layers();
  comparison.tokens_a = std::max(0, a.n_tokens() - first_token_a);
  comparison.tokens_b = std::max(0, b.n_tokens() - first_token_b);
  const auto n_expert = static_cast<size_t>(a.n_expert());
  const auto shares = [&](const RoutingTrace& trace, int first_token, int layer) {
    std::vector<double> share(n_expert, 0);
    double slots = 0;
    for (int t = std::max(first_token, 0); t < trace.n_tokens(); ++t) {
      if (!trace.has(t, layer)) continue;
      for (int32_t e : trace.at(t, layer).experts) {
        share[static_cast<size_t>(e)] += 1;
        slots += 1;
      }
    }
    if (slots > 0)
      for (double& value : share) value /= slots;
    return share;
  };
  for (int layer : comparison.layers) {
    comparison.share_a.push_back(shares(a, first_token_a, layer));
    comparison.share_b.push_back(shares(b, first_token_b, layer));
    std::vector<double> difference(n_expert);
    for (size_t e = 0; e < n_expert; ++e) {
      difference[e] = comparison.share_b.back()[e] - comparison.share_a.back()[e];
      comparison.max_abs_difference =
          std::max(comparison.max_abs_difference, std::abs(difference[e]));
    }
    comparison.difference.push_back(std::move(difference));
  }
  return comparison;
}

ComputeCount count_compute(const Model& model, const RoutingTrace& trace, int first_token) {
  const ModelConfig& config = model.config();
  const ParameterCounts counts = model.parameter_counts();
  ComputeCount count;
  count.total_parameters = counts.total;
  const int first = std::clamp(first_token, 0, trace.n_tokens());
  count.tokens = trace.n_tokens() - first;
  const auto n_moe = static_cast<uint64_t>(trace.moe_layers().size());
  if (n_moe > 0 && config.n_expert > 0)
    count.parameters_per_expert = counts.experts / (n_moe * static_cast<uint64_t>(config.n_expert));

  double expert_uses = 0;
  for (int t = first; t < trace.n_tokens(); ++t) {
    for (int layer : trace.moe_layers())
      if (trace.has(t, layer))
        expert_uses += static_cast<double>(trace.at(t, layer).experts.size());
  }
  const double tokens = std::max(count.tokens, 1);
  count.mean_active_experts = n_moe > 0 ? expert_uses / (tokens * static_cast<double>(n_moe)) : 0;
  // Everything but the routed experts is used by every token.
  const double always_active = static_cast<double>(counts.active_per_token - counts.active_experts);
  const double per_expert = static_cast<double>(count.parameters_per_expert);
  count.active_parameters_per_token = always_active + per_expert * expert_uses / tokens;

  // Matrix products per token from the model-card estimate (context 1), attention per position.
  const ComputeEstimate one = estimate_compute(config, counts, 1);
  const double fixed_matmul = static_cast<double>(one.moe_matmul_params - counts.active_experts);
  const double attention_per_position = one.attention_flops;  // over a context of 1
  for (int t = first; t < trace.n_tokens(); ++t)
    count.attention_flops += attention_per_position * static_cast<double>(t + 1);
  count.moe_flops =
      2.0 * (fixed_matmul * count.tokens + per_expert * expert_uses) + count.attention_flops;
  count.dense_flops =
      2.0 * static_cast<double>(one.dense_matmul_params) * count.tokens + count.attention_flops;
  return count;
}

}  // namespace moe
