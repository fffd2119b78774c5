#pragma once
// The routing rule applied to one token's router logits: scores (softmax or sigmoid), top-k
// with ties to the lower expert id, gate weights (renormalized where the architecture says).
// Backend-neutral, so every backend routes exactly alike.
#include <cstdint>
#include <span>
#include <vector>

#include "moe/arch.hpp"
#include "moe/interventions.hpp"
#include "moe/model.hpp"
#include "moe/routing.hpp"

namespace moe {

struct RouteDecision {
  std::vector<float> probs;      // scores over all experts
  std::vector<int32_t> experts;  // top-k, highest score first
  std::vector<float> weights;    // gate weight per chosen expert
  std::vector<int32_t> dropped;  // chosen, then dropped by a capacity rule (route_layer only)
  bool pinned = false;           // an intervention pin forced an expert in (route_layer only)
  // Group-limited routing only: the groups the choice was limited to, best first (else empty).
  std::vector<int32_t> groups;
  RecordedGate gate;  // the rule route_layer applied (route_layer only)
};

// How one MoE layer's router turns logits into a choice and gate weights.
struct GateRule {
  GatingFunction gating = GatingFunction::Softmax;  // logits -> scores
  bool normalize = true;                            // chosen weights divided by their sum
  float scale = 1;  // then multiplied by this (deepseek2 expert_weights_scale)
  // Empty, or one value per expert added to the scores to choose the top-k (DeepSeek-V3
  // exp_probs_b); the weights stay the unbiased scores. Points into the Model.
  std::span<const float> selection_bias;
  // Group-limited routing (DeepSeek-V3 expert_group_count / expert_group_used_count, as
  // llama.cpp's build_moe_ffn applies it): experts form n_groups groups of consecutive ids; a
  // group's score is the sum of its two highest selection values; top-k chooses only within the
  // best n_groups_used groups. n_groups <= 1: no limit.
  int n_groups = 0;
  int n_groups_used = 0;
};
// The rule of `layer` of `model` (its config and exp_probs_b).
GateRule gate_rule(const Model& model, int layer);
// The architecture's default rule (no selection bias, no scale).
GateRule gate_rule(const Architecture& arch);

void route_token(const GateRule& rule, std::span<const float> logits, int top_k,
                 RouteDecision& decision);
void route_token(const Architecture& arch, std::span<const float> logits, int top_k,
                 RouteDecision& decision);

// The gate weights of decision.experts from decision.probs by the rule (the last step of
// route_token), for expert sets chosen otherwise (pins, expert-choice).
void set_gate_weights(const GateRule& rule, RouteDecision& decision);
void set_gate_weights(const Architecture& arch, RouteDecision& decision);

// The rule route_layer applies at `layer`: the layer's, with the scoring override and the
// user's expert bias (kept in bias_storage, which must outlive the rule).
GateRule intervened_rule(const Model& model, int layer, const RoutingInterventions& interventions,
                         std::vector<float>& bias_storage);
// What the trace keeps of that rule.
RecordedGate recorded_gate(const GateRule& rule, const ModelConfig& config,
                           const RoutingInterventions& interventions);
// The experts each token chooses at `layer` when n_enabled are enabled.
// Whether the rule limits the choice to the best groups (n_groups > 1 dividing the experts).
bool group_limited(const GateRule& rule, size_t n_expert);
// Per expert 1 unless the interventions disable it at `layer`.
std::vector<char> enabled_experts(const RoutingInterventions& interventions, int layer,
                                  size_t n_expert);
size_t routed_top_k(const ModelConfig& config, int layer, const RoutingInterventions& interventions,
                    size_t n_enabled);

// Routes the n_tokens tokens (positions pos0 ..) of one forward call at MoE layer `layer`:
// `logits` holds their router logits, n_tokens x n_expert, row-major. Applies `interventions`
// exactly as moe/interventions.hpp describes (with none, each decision equals route_token's).
// Every backend calls this once per MoE layer per forward call. `decisions` gets one per token.
void route_layer(const Model& model, int layer, const float* logits, int n_tokens, int pos0,
                 const RoutingInterventions& interventions, std::vector<RouteDecision>& decisions);

// What the trace keeps of one token's decision at a layer: its router logits and the decision
// (moved in). Both backends record through this.
RoutingRecord routing_record(std::span<const float> logits, RouteDecision&& decision);

}  // namespace moe
