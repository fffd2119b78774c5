#pragma once
// The routing-intervention flags shared by route, generate and ppl (--top-k, --top-k-at,
// --disable-expert, --pin, --routing and the router knobs --router-temperature, --router-noise,
// --noise-seed, --scoring, --expert-bias, --prune-plan), and how their effect is printed beside the unchanged
// model (text and JSON).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "moe/intervention_effects.hpp"
#include "moe/interventions.hpp"

namespace moescope::cli {

struct InterventionOptions {
  int top_k = 0;
  std::vector<std::string> top_k_at;  // LAYER:K
  std::vector<std::string> disabled;  // LAYER:EXPERT, LAYER a number or "all"
  std::vector<std::string> pins;      // TOKEN:LAYER:EXPERT
  std::string routing = "topk";       // topk | capacity:FACTOR | expert-choice
  double temperature = 1.0;           // router temperature
  double noise = 0.0;                 // noisy top-k: scale of the logit noise
  uint64_t noise_seed = 0;
  std::string scoring = "model";         // model | softmax | sigmoid
  std::vector<std::string> expert_bias;  // EXPERT:VALUE
  std::string prune_plan;                // a prune plan (moescope-cli prune-plan): its experts disabled
};

void add_intervention_options(CLI::App& command, InterventionOptions& options);

// Parses and validates the flags against the model; throws moe::Error naming the bad value.
moe::RoutingInterventions make_interventions(const InterventionOptions& options,
                                             const moe::ModelConfig& config);

// The effect as readable text: the interventions, the most likely next tokens of both models,
// KL(unchanged || changed), perplexity of both and load balance per layer of both.
void write_intervention_effect(std::ostream& out, const LoadedModel& loaded,
                               const moe::InterventionEffect& effect, int top_tokens = 5);
// The same as JSON: interventions, kl {next_token, mean, top1_changed_share},
// perplexity {unchanged, changed}, next_tokens {unchanged, changed}: [{id, text, prob}],
// balance[] {layer, unchanged {cv, max_over_mean, unused_share}, changed {..., dropped}}.
nlohmann::json intervention_effect_json(const LoadedModel& loaded,
                                        const moe::InterventionEffect& effect, int top_tokens = 5);

// Balance of one layer from per-expert slot counts: coefficient of variation and max/mean.
struct BalanceFigures {
  double cv = 0, max_over_mean = 0, unused_share = 0;
};
BalanceFigures balance_of(const std::vector<int64_t>& token_counts);

}  // namespace moescope::cli
