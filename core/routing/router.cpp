#include "moe/router.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace moe {

GateRule gate_rule(const Architecture& arch) {
  GateRule rule;
  rule.gating = arch.gating;
  rule.normalize = arch.renormalize_top_k;
  return rule;
}

GateRule gate_rule(const Model& model, int layer) {
  const ModelConfig& config = model.config();
  GateRule rule;
  rule.gating = config.gating;
  rule.normalize = config.normalize_expert_weights;
  rule.scale = config.expert_weights_scale;
  rule.selection_bias = model.selection_bias(layer);
  rule.n_groups = config.n_expert_groups;
  rule.n_groups_used = config.n_expert_groups_used;
  return rule;
}

void route_token(const Architecture& arch, std::span<const float> logits, int top_k,
                 RouteDecision& decision) {
  route_token(gate_rule(arch), logits, top_k, decision);
}

void set_gate_weights(const Architecture& arch, RouteDecision& decision) {
  set_gate_weights(gate_rule(arch), decision);
}

bool group_limited(const GateRule& rule, size_t n_expert) {
  return rule.n_groups > 1 && rule.n_groups_used > 0 &&
         n_expert % static_cast<size_t>(rule.n_groups) == 0;
}

std::vector<char> enabled_experts(const RoutingInterventions& interventions, int layer,
                                  size_t n_expert) {
  std::vector<char> enabled(n_expert, 1);
  for (size_t e = 0; e < n_expert; ++e)
    enabled[e] = interventions.is_disabled(layer, static_cast<int>(e)) ? 0 : 1;
  return enabled;
}

namespace {

// The best rule.n_groups_used groups by the sum of their two highest selection values (ties to
// the lower group id), best first.
std::vector<int32_t> best_groups(const GateRule& rule, const std::vector<float>& selection) {
  const auto n_groups = static_cast<size_t>(rule.n_groups);
  const size_t per_group = selection.size() / n_groups;
  std::vector<float> score(n_groups);
  for (size_t g = 0; g < n_groups; ++g) {
    float first = -std::numeric_limits<float>::infinity(), second = first;
    for (size_t e = g * per_group; e < (g + 1) * per_group; ++e) {
      if (selection[e] > first) {
        second = first;
        first = selection[e];
      } else if (selection[e] > second) {
        second = selection[e];
      }
    }
    score[g] = per_group > 1 ? first + second : first;
  }
  std::vector<int32_t> order(n_groups);
  std::iota(order.begin(), order.end(), 0);
  const size_t used = std::min(static_cast<size_t>(rule.n_groups_used), n_groups);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)];
  });
  order.resize(used);
  return order;
}

bool in_chosen_group(const GateRule& rule, const RouteDecision& decision, int32_t expert) {
  if (decision.groups.empty()) return true;
  const auto per_group = static_cast<int32_t>(decision.probs.size()) / rule.n_groups;
  const int32_t group = expert / per_group;
  return std::find(decision.groups.begin(), decision.groups.end(), group) != decision.groups.end();
}

// What top-k chooses by: the score, plus the layer's selection bias where it has one; -inf
// outside the groups the token's choice is limited to.
float selection_value(const GateRule& rule, const RouteDecision& decision, int32_t expert) {
  if (!in_chosen_group(rule, decision, expert)) return -std::numeric_limits<float>::infinity();
  const auto e = static_cast<size_t>(expert);
  return decision.probs[e] + (rule.selection_bias.empty() ? 0.0f : rule.selection_bias[e]);
}

// Highest selection value first, ties to the lower expert id (the order route_token gives).
void sort_by_score(const GateRule& rule, RouteDecision& decision) {
  std::sort(decision.experts.begin(), decision.experts.end(), [&](int32_t a, int32_t b) {
    const float pa = selection_value(rule, decision, a);
    const float pb = selection_value(rule, decision, b);
    return pa > pb || (pa == pb && a < b);
  });
}

bool contains(const std::vector<int32_t>& experts, int32_t expert) {
  return std::find(experts.begin(), experts.end(), expert) != experts.end();
}

// The best `count` experts by selection value among the enabled ones, `forced` always included.
void choose_with(const GateRule& rule, RouteDecision& decision, const std::vector<char>& enabled,
                 const std::vector<int32_t>& forced, size_t count) {
  std::vector<int32_t> order(decision.probs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return selection_value(rule, decision, a) > selection_value(rule, decision, b);
  });
  decision.experts = forced;
  for (int32_t expert : order) {
    if (decision.experts.size() >= std::max(count, forced.size())) break;
    if (enabled[static_cast<size_t>(expert)] && !contains(decision.experts, expert))
      decision.experts.push_back(expert);
  }
  sort_by_score(rule, decision);
}

}  // namespace

void route_token(const GateRule& rule, std::span<const float> logits, int top_k,
                 RouteDecision& decision) {
  const size_t n_expert = logits.size();
  decision.probs.resize(n_expert);
  switch (rule.gating) {
    case GatingFunction::Softmax: {
      const float max_logit = *std::max_element(logits.begin(), logits.end());
      double sum = 0;
      for (size_t e = 0; e < n_expert; ++e) {
        decision.probs[e] = std::exp(logits[e] - max_logit);
        sum += decision.probs[e];
      }
      for (float& p : decision.probs) p = static_cast<float>(p / sum);
      break;
    }
    case GatingFunction::Sigmoid:
      for (size_t e = 0; e < n_expert; ++e)
        decision.probs[e] = 1.0f / (1.0f + std::exp(-logits[e]));
      break;
  }

  std::vector<int32_t> order(n_expert);
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min(static_cast<size_t>(std::max(top_k, 0)), n_expert);
  // Choose by score, or by score + selection bias where the layer has one, and only within the
  // best groups where the rule limits the groups.
  std::vector<float> biased;
  if (rule.selection_bias.size() == n_expert) {
    biased.resize(n_expert);
    for (size_t e = 0; e < n_expert; ++e) biased[e] = decision.probs[e] + rule.selection_bias[e];
  }
  decision.groups.clear();
  if (group_limited(rule, n_expert)) {
    if (biased.empty()) biased = decision.probs;
    decision.groups = best_groups(rule, biased);
    for (size_t e = 0; e < n_expert; ++e) {
      if (!in_chosen_group(rule, decision, static_cast<int32_t>(e)))
        biased[e] = -std::numeric_limits<float>::infinity();
    }
  }
  const std::vector<float>& probs = biased.empty() ? decision.probs : biased;
  const auto higher = [&](int32_t a, int32_t b) {
    return probs[a] > probs[b] || (probs[a] == probs[b] && a < b);  // ties: lower id first
  };
  std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(k), order.end(), higher);
  decision.experts.assign(order.begin(), order.begin() + static_cast<ptrdiff_t>(k));

  set_gate_weights(rule, decision);
}

void set_gate_weights(const GateRule& rule, RouteDecision& decision) {
  const size_t k = decision.experts.size();
  decision.weights.resize(k);
  double chosen_sum = 0;
  for (size_t j = 0; j < k; ++j) {
    decision.weights[j] = decision.probs[static_cast<size_t>(decision.experts[j])];
    chosen_sum += decision.weights[j];
  }
  if (rule.normalize && chosen_sum > 0) {
    for (float& weight : decision.weights) weight = static_cast<float>(weight / chosen_sum);
  }
  if (rule.scale != 1) {
    for (float& weight : decision.weights) weight *= rule.scale;
  }
}

GateRule intervened_rule(const Model& model, int layer, const RoutingInterventions& interventions,
                         std::vector<float>& bias_storage) {
  GateRule rule = gate_rule(model, layer);
  const auto n_expert = static_cast<size_t>(model.config().n_expert);
  if (interventions.scoring == Scoring::Softmax) rule.gating = GatingFunction::Softmax;
  if (interventions.scoring == Scoring::Sigmoid) rule.gating = GatingFunction::Sigmoid;
  if (!interventions.expert_bias.empty()) {
    bias_storage.assign(n_expert, 0.0f);
    for (size_t e = 0; e < n_expert && e < rule.selection_bias.size(); ++e)
      bias_storage[e] = rule.selection_bias[e];
    for (const auto& [expert, bias] : interventions.expert_bias) {
      if (expert >= 0 && static_cast<size_t>(expert) < n_expert)
        bias_storage[static_cast<size_t>(expert)] += static_cast<float>(bias);
    }
    rule.selection_bias = bias_storage;
  }
  return rule;
}

RecordedGate recorded_gate(const GateRule& rule, const ModelConfig& config,
                           const RoutingInterventions& interventions) {
  RecordedGate gate;
  gate.gating = rule.gating;
  gate.normalized = rule.normalize;
  gate.scale = rule.scale;
  gate.weights_on_input = config.expert_input_weighted;
  gate.temperature = static_cast<float>(interventions.temperature);
  gate.noise_scale = static_cast<float>(interventions.noise_scale);
  gate.selection_bias.assign(rule.selection_bias.begin(), rule.selection_bias.end());
  gate.n_groups = rule.n_groups;
  gate.n_groups_used = rule.n_groups_used;
  return gate;
}

size_t routed_top_k(const ModelConfig& config, int layer, const RoutingInterventions& interventions,
                    size_t n_enabled) {
  // validate() keeps at least one expert enabled; never choose more than there are.
  return std::min(
      static_cast<size_t>(std::max(interventions.top_k_at(layer, config.n_expert_used), 1)),
      std::max<size_t>(n_enabled, 1));
}

void route_layer(const Model& model, int layer, const float* logits, int n_tokens, int pos0,
                 const RoutingInterventions& interventions, std::vector<RouteDecision>& decisions) {
  const ModelConfig& config = model.config();
  const auto n_expert = static_cast<size_t>(config.n_expert);
  decisions.resize(static_cast<size_t>(std::max(n_tokens, 0)));
  if (n_tokens <= 0 || n_expert == 0) return;
  // The layer's own rule (gating, normalization, scale, selection bias), with the scoring and
  // expert-bias knobs applied, and what the trace keeps of it.
  std::vector<float> selection_bias;
  const GateRule rule = intervened_rule(model, layer, interventions, selection_bias);
  const RecordedGate gate = recorded_gate(rule, config, interventions);
  const bool knobs = interventions.temperature != 1.0 || interventions.noise_scale != 0.0;

  const std::vector<char> enabled = enabled_experts(interventions, layer, n_expert);
  const auto n_enabled = static_cast<size_t>(std::count(enabled.begin(), enabled.end(), 1));
  const size_t k = routed_top_k(config, layer, interventions, n_enabled);

  // Token choice: noise and temperature on the logits, disabled experts get -inf, before the
  // gating function.
  std::vector<float> masked(n_expert);
  for (int t = 0; t < n_tokens; ++t) {
    std::span<const float> row(logits + static_cast<size_t>(t) * n_expert, n_expert);
    if (n_enabled < n_expert || knobs) {
      for (size_t e = 0; e < n_expert; ++e) {
        double z = row[e];
        if (interventions.noise_scale != 0.0) {
          z += interventions.noise_scale * router_noise(interventions.noise_seed, pos0 + t, layer,
                                                        static_cast<int>(e));
        }
        masked[e] = enabled[e] ? static_cast<float>(z / interventions.temperature)
                               : -std::numeric_limits<float>::infinity();
      }
      row = masked;
    }
    RouteDecision& decision = decisions[static_cast<size_t>(t)];
    decision.dropped.clear();
    decision.pinned = false;
    decision.gate = gate;
    route_token(rule, row, static_cast<int>(k), decision);
    // Whatever the selection rule, a disabled expert is never chosen.
    if (n_enabled < n_expert &&
        std::any_of(decision.experts.begin(), decision.experts.end(),
                    [&](int32_t e) { return !enabled[static_cast<size_t>(e)]; })) {
      choose_with(rule, decision, enabled, {}, k);
      set_gate_weights(rule, decision);
    }
  }

  if (interventions.rule == RoutingRule::ExpertChoice) {
    // Every enabled expert takes its C best tokens of the call.
    const size_t capacity = std::min(
        static_cast<size_t>(n_tokens),
        static_cast<size_t>(std::ceil(static_cast<double>(n_tokens) * static_cast<double>(k) /
                                      static_cast<double>(n_expert))));
    for (RouteDecision& decision : decisions) decision.experts.clear();
    std::vector<int> order(static_cast<size_t>(n_tokens));
    for (size_t e = 0; e < n_expert; ++e) {
      if (!enabled[e]) continue;
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return decisions[static_cast<size_t>(a)].probs[e] >
               decisions[static_cast<size_t>(b)].probs[e];
      });
      for (size_t i = 0; i < capacity; ++i)
        decisions[static_cast<size_t>(order[i])].experts.push_back(static_cast<int32_t>(e));
    }
    for (RouteDecision& decision : decisions) {
      sort_by_score(rule, decision);
      set_gate_weights(rule, decision);
    }
  }

  // Pins: the pinned experts join the token's set (in place of its weakest choices under the
  // top-k rules, on top of it under expert choice).
  std::vector<std::vector<int32_t>> pinned(static_cast<size_t>(n_tokens));
  for (const ExpertPin& pin : interventions.pins) {
    const int t = pin.position - pos0;
    if (pin.layer != layer || t < 0 || t >= n_tokens) continue;
    if (pin.expert < 0 || static_cast<size_t>(pin.expert) >= n_expert) continue;
    std::vector<int32_t>& forced = pinned[static_cast<size_t>(t)];
    if (!contains(forced, pin.expert)) forced.push_back(pin.expert);
  }
  for (int t = 0; t < n_tokens; ++t) {
    const std::vector<int32_t>& forced = pinned[static_cast<size_t>(t)];
    if (forced.empty()) continue;
    RouteDecision& decision = decisions[static_cast<size_t>(t)];
    decision.pinned = true;
    const bool all_in = std::all_of(forced.begin(), forced.end(),
                                    [&](int32_t e) { return contains(decision.experts, e); });
    if (all_in) continue;
    if (interventions.rule == RoutingRule::ExpertChoice) {
      for (int32_t e : forced)
        if (!contains(decision.experts, e)) decision.experts.push_back(e);
      sort_by_score(rule, decision);
    } else {
      choose_with(rule, decision, enabled, forced, k);
    }
    set_gate_weights(rule, decision);
  }

  if (interventions.rule == RoutingRule::Capacity) {
    // Switch-style: token slots served in position order, then rank order, until full.
    // (The small subtraction keeps an exact product such as 2.0000000001 from rounding up.)
    const auto capacity = static_cast<size_t>(
        std::max(1.0, std::ceil(interventions.capacity_factor * static_cast<double>(n_tokens) *
                                    static_cast<double>(k) / static_cast<double>(n_expert) -
                                1e-9)));
    std::vector<size_t> used(n_expert, 0);
    for (int t = 0; t < n_tokens; ++t) {
      RouteDecision& decision = decisions[static_cast<size_t>(t)];
      const std::vector<int32_t>& forced = pinned[static_cast<size_t>(t)];
      std::vector<int32_t> kept_experts;
      std::vector<float> kept_weights;
      for (size_t j = 0; j < decision.experts.size(); ++j) {
        const int32_t e = decision.experts[j];
        if (used[static_cast<size_t>(e)] < capacity || contains(forced, e)) {
          ++used[static_cast<size_t>(e)];
          kept_experts.push_back(e);
          kept_weights.push_back(decision.weights[j]);
        } else {
          decision.dropped.push_back(e);
        }
      }
      decision.experts = std::move(kept_experts);
      decision.weights = std::move(kept_weights);
    }
  }
}

RoutingRecord routing_record(std::span<const float> logits, RouteDecision&& decision) {
  RoutingRecord record;
  record.logits.assign(logits.begin(), logits.end());
  record.probs = std::move(decision.probs);
  record.experts = std::move(decision.experts);
  record.weights = std::move(decision.weights);
  record.dropped = std::move(decision.dropped);
  record.pinned = decision.pinned;
  record.groups = std::move(decision.groups);
  record.gate = std::move(decision.gate);
  return record;
}

}  // namespace moe
