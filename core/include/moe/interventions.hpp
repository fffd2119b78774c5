#pragma once
// Changes to the router for experiments ("what if this expert were gone?"): top-k overrides,
// disabled experts, pinned experts and teaching routing rules. A backend applies them through
// route_layer (moe/router.hpp) on every MoE layer; a Session carries them (and the
// RoutingTrace records which were active), so no view shows a modified model without saying so.
//
// Exact rules, per MoE layer of one forward call (n tokens at positions pos0 .. pos0 + n - 1):
// - k: top_k_by_layer[layer] if present, else top_k if > 0, else the model's n_expert_used;
//   never more than the number of enabled experts at that layer.
// - Disabled experts get a router logit of -inf before the gating function: their score is 0,
//   they are never chosen, and (softmax) the remaining experts' scores sum to 1 again.
//   The record keeps the raw logits the router produced; its probs are the masked scores.
// - Pins: the pinned experts of (position, layer) are always in the chosen set; the other slots
//   go to the best-scoring enabled experts, so the set still has k experts (more only when more
//   experts than k are pinned there). Gate weights then follow the architecture's rule over the
//   chosen set (renormalized to sum 1 where the architecture renormalizes, else the raw scores).
//   A pinned expert that the model would have chosen anyway changes nothing. The record is
//   flagged `pinned`.
// - TokenChoice: the model's own rule (each token takes its top-k experts).
// - Capacity (Switch Transformer): each expert accepts at most
//   C = ceil(capacity_factor * n * k / n_expert) token slots of the call. Tokens are served in
//   position order, each token's choices in rank order; a choice whose expert is full is dropped
//   (listed in the record's `dropped`), the token keeps its other experts with their unchanged
//   gate weights (not renormalized: as in Switch, the dropped share simply skips the FFN and only
//   the residual carries it). Pinned choices are never dropped but count against capacity.
// - ExpertChoice (Zhou et al. 2022): every enabled expert takes the C = ceil(n * k / n_expert)
//   tokens of the call (at most n) with the highest score for it, ties to the earlier position.
//   A token may so get 0 .. n_expert experts. Gate weights follow the architecture's rule over
//   the token's set; pins add their expert on top of that.
// The batch rules (Capacity, ExpertChoice) look at every token of the call, so they are not
// causal: a Session computes the whole sequence in one call when one is on (see session.hpp).
//
// Router knobs, applied to every MoE layer before everything above (disabled experts stay -inf):
// - Noise (noisy top-k, Shazeer et al. 2017): the paper adds StandardNormal() *
//   Softplus((x W_noise)_i) to each logit; no model here has a trained W_noise, so the stand-in
//   adds noise_scale * router_noise(noise_seed, position, layer, expert): a standard normal
//   value that depends only on those four numbers, so a run is reproducible and every backend
//   sees the same noise.
// - Temperature: the (noisy) logits are divided by `temperature` (> 0) before the scoring
//   function: below 1 sharper (-> 0: the top expert takes all the softmax mass), above 1 flatter.
// - Scoring: the model's own gating function, or softmax / sigmoid instead. The weights follow
//   the model's rule (renormalized over the chosen experts where it renormalizes).
// - Expert bias (DeepSeek-V3's balancing without an auxiliary loss): expert_bias[e] is added to
//   expert e's score (on top of the model's own selection bias) for choosing the top-k only; the
//   gate weights come from the unbiased scores, so a bias changes which experts are chosen but
//   not the weight of a chosen one. Expert choice ranks tokens by the unbiased scores.
// The record keeps the raw logits; its probs are the scores after the knobs.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace moe {

struct ModelConfig;

enum class RoutingRule {
  TokenChoice,   // the model's own top-k per token
  Capacity,      // top-k with a per-expert capacity; overflow dropped
  ExpertChoice,  // each expert picks its top tokens
};

// The scoring function applied to the router logits.
enum class Scoring {
  Model,    // the model's own (softmax or sigmoid, as trained)
  Softmax,  // exp(z_e) / sum exp(z)
  Sigmoid,  // 1 / (1 + exp(-z_e)), each expert on its own
};

inline constexpr int kAllLayers = -1;

struct DisabledExpert {
  int layer = kAllLayers;  // a MoE layer, or kAllLayers
  int expert = 0;
  bool operator==(const DisabledExpert&) const = default;
};

struct ExpertPin {
  int position = 0;  // token position in the sequence (0 = first token, BOS included)
  int layer = 0;     // a MoE layer
  int expert = 0;
  bool operator==(const ExpertPin&) const = default;
};

struct RoutingInterventions {
  int top_k = 0;                      // 0: the model's own
  std::map<int, int> top_k_by_layer;  // layer -> k, overrides top_k there
  std::vector<DisabledExpert> disabled;
  std::vector<ExpertPin> pins;
  RoutingRule rule = RoutingRule::TokenChoice;
  double capacity_factor = 1.0;  // used by RoutingRule::Capacity
  // Router knobs (see above); the defaults change nothing.
  double temperature = 1.0;      // logits divided by this, > 0
  double noise_scale = 0.0;      // standard deviation of the logit noise, >= 0
  uint64_t noise_seed = 0;       // which noise: same seed, same noise
  Scoring scoring = Scoring::Model;
  std::map<int, double> expert_bias;  // expert -> bias added to its score for the choice only

  // True when nothing differs from the model's own routing.
  bool empty() const;
  // True for the rules that route the tokens of a call jointly (Capacity, ExpertChoice).
  bool batch_rule() const { return rule != RoutingRule::TokenChoice; }

  // k at `layer` (see above), before capping to the enabled experts.
  int top_k_at(int layer, int model_top_k) const;
  bool is_disabled(int layer, int expert) const;

  // One line for people, e.g. "top-k 1 at all layers; expert 3 disabled at layer 2; token 5
  // pinned to expert 0 at layer 1; capacity factor 1.25"; "none" when empty().
  std::string describe() const;

  // Throws moe::Error naming the offending value: k outside 1..n_expert, a layer that is not a
  // MoE layer, an expert outside 0..n_expert-1, every expert of a layer disabled, a pinned
  // expert that is disabled, a negative pin position, a capacity factor <= 0, a temperature
  // <= 0, a negative noise scale, a bias that is not finite or names no expert.
  void validate(const ModelConfig& config) const;

  bool operator==(const RoutingInterventions&) const = default;
};

// Parsers for the command-line / text forms (errors are moe::Error naming the text):
// "LAYER:EXPERT" with LAYER a number or "all"; "TOKEN:LAYER:EXPERT"; "topk", "capacity:FACTOR"
// (FACTOR > 0, e.g. 1.25) or "expert-choice". Ranges are checked later by validate().
DisabledExpert parse_disabled_expert(const std::string& text);
ExpertPin parse_expert_pin(const std::string& text);
void parse_routing_rule(const std::string& text, RoutingInterventions& interventions);
// "topk", "capacity:1.25", "expert-choice": the inverse of parse_routing_rule.
std::string routing_rule_name(const RoutingInterventions& interventions);

// The noise of the noisy top-k knob: a standard normal value (Box-Muller on a hash of the four
// numbers), the same on every machine and backend for the same (seed, position, layer, expert).
double router_noise(uint64_t seed, int position, int layer, int expert);

// "softmax", "sigmoid" or "model" (the model's own); throws moe::Error on anything else.
Scoring parse_scoring(const std::string& text);
std::string scoring_name(Scoring scoring);
// "EXPERT:VALUE", e.g. "3:0.05" or "3:-0.1"; the expert's range is checked by validate().
std::pair<int, double> parse_expert_bias(const std::string& text);
// One knob as text, for scripts: "temperature:T", "noise:SCALE" or "noise:SCALE:SEED",
// "scoring:softmax|sigmoid|model", "bias:EXPERT:VALUE" (VALUE 0 removes it). Returns false
// (and changes nothing) when `text` is not a knob; throws moe::Error on a bad value.
bool parse_router_knob(const std::string& text, RoutingInterventions& interventions);

}  // namespace moe
