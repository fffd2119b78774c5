#pragma once
// The routing rules written out plainly, in double precision, for the reference forward: the
// architecture's gate (softmax or sigmoid scores, a selection bias, renormalized or raw weights,
// a scale; ../shared/ARCHITECTURES.md) and the interventions of moe/interventions.hpp (top-k
// overrides, disabled experts, pins, Switch-style capacity, expert choice, and the router knobs:
// temperature, noise from moe::router_noise (the knob's definition), scoring, expert bias). Independent of
// core/routing/router.cpp, which is tested against it.
#include <cstdint>
#include <vector>

#include "moe/interventions.hpp"

namespace moe::testing {

// One layer's gate, as the architecture defines it.
struct ReferenceGate {
  bool sigmoid = false;                  // scores = sigmoid(logits), else softmax(logits)
  bool renormalize = true;               // weights = chosen scores / their sum, else the scores
  double scale = 1;                      // weights times this, after renormalizing
  std::vector<double> selection_bias{};  // added to the scores for choosing only; empty: none
  // Group-limited routing (DeepSeek-V3): experts in n_groups groups of consecutive ids; choose
  // only within the n_groups_used groups whose two best selection values sum highest.
  // n_groups <= 1: no limit.
  int n_groups = 0;
  int n_groups_used = 0;
};

struct ReferenceRouting {
  std::vector<double> logits;     // the router's, unmasked
  std::vector<double> probs;      // the gate's scores; 0 for a disabled expert
  std::vector<double> selection;  // what the choice is made by: probs + selection bias, -inf
                                  // outside the chosen groups under group-limited routing
  std::vector<int32_t> experts;   // highest selection first, ties to the lower id
  std::vector<double> weights;    // final gate weights, same order
  std::vector<int32_t> dropped;   // dropped for capacity
  // The layer's values for the token (reference_forward only), as moe::LayerValues records
  // them: |x| and its first values, |E_i(x)| per chosen expert, |sum w_i E_i(x)|, the shared
  // experts' |output| and |y| = |routed + shared|.
  double input_norm = 0;
  std::vector<double> input_head;
  std::vector<double> expert_norms;
  double routed_norm = 0;
  bool has_shared = false;
  double shared_norm = 0;
  double output_norm = 0;
};

// Routes every token of one MoE layer of a sequence starting at position 0 (one call, as a
// Session computes the whole sequence under a batch rule). `logits[t]` are the router logits
// of token t; `model_top_k` the model's k.
std::vector<ReferenceRouting> reference_route_layer(const std::vector<std::vector<double>>& logits,
                                                    int layer, int model_top_k,
                                                    const ReferenceGate& gate,
                                                    const RoutingInterventions& interventions);

// Whether the k-th and (k+1)-th highest selection values lie within `window` of each other: a
// choice that f32 rounding may make either way, so the fast path cannot be held to it.
bool near_tie(const ReferenceRouting& route, int top_k, double window);

}  // namespace moe::testing
