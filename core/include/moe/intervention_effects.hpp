#pragma once
// What an intervention does, measured: the same tokens through the unchanged model and through
// the model with routing interventions, side by side — next-token distributions and their KL
// divergence, the prompt's perplexity, load balance, and optionally two continuations.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "moe/backend.hpp"
#include "moe/interventions.hpp"
#include "moe/model.hpp"
#include "moe/routing.hpp"
#include "moe/routing_stats.hpp"
#include "moe/sampling.hpp"

namespace moe {

struct InterventionEffectOptions {
  int continuation_tokens = 0;  // > 0: also generate this many tokens with each model
  SamplingOptions sampling;     // for both continuations (the same seed: only routing differs)
  int stop_token = -1;          // a continuation ends at this token (e.g. EOS); -1: none
  int prefill_chunk = 256;      // tokens per backend call under token-choice routing
};

// One side (unchanged or changed) of the comparison.
struct ModelRun {
  std::vector<float> next_probs;  // P(next token) after the last token, softmax of its logits
  std::vector<float> token_nll;   // -log p(tokens[i + 1] | tokens[..i]), tokens.size() - 1 values
  double mean_nll = 0;            // nats per scored token (0 when fewer than 2 tokens)
  double perplexity = 1;          // exp(mean_nll)
  RoutingTrace trace;
  RoutingStats stats;                 // of the whole trace
  std::vector<int32_t> continuation;  // generated tokens (continuation_tokens > 0)
};

struct InterventionEffect {
  RoutingInterventions interventions;
  ModelRun base;     // the model's own routing
  ModelRun changed;  // with the interventions
  // KL(base || changed) of the next-token distribution after the last token, nats.
  double next_token_kl = 0;
  // KL(base || changed) at every position (tokens.size() values) and their mean, nats.
  std::vector<double> position_kl;
  double mean_kl = 0;
  // Share of positions whose most likely next token differs between the two.
  double top1_changed_share = 0;
};

// Runs `tokens` (at least one) through both. Throws moe::Error for invalid interventions,
// empty tokens or ids outside the vocabulary. Under a batch rule the whole sequence is one
// backend call (see moe/interventions.hpp).
InterventionEffect measure_intervention_effect(std::shared_ptr<const Model> model,
                                               std::shared_ptr<Backend> backend,
                                               std::span<const int32_t> tokens,
                                               const RoutingInterventions& interventions,
                                               const InterventionEffectOptions& options = {});

// Softmax of logits, in double then rounded (max-subtracted).
std::vector<float> softmax_probabilities(std::span<const float> logits);
// KL(p || q) in nats for two probability vectors of the same length; terms with p = 0 add
// nothing, q = 0 where p > 0 gives +infinity.
double kl_divergence(std::span<const float> p, std::span<const float> q);

}  // namespace moe
