#include "intervention_options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "moe/error.hpp"
#include "moe/prune_plan.hpp"
#include "moe/routing_data.hpp"
#include "moe/routing_stats.hpp"

namespace moescope::cli {

namespace {

// Token ids of the `count` most likely tokens, most likely first.
std::vector<int32_t> most_likely(const std::vector<float>& probs, int count) {
  std::vector<int32_t> ids(probs.size());
  std::iota(ids.begin(), ids.end(), 0);
  const auto n = std::min(ids.size(), static_cast<size_t>(std::max(count, 0)));
  std::partial_sort(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(n), ids.end(),
                    [&](int32_t a, int32_t b) {
                      return probs[static_cast<size_t>(a)] > probs[static_cast<size_t>(b)];
                    });
  ids.resize(n);
  return ids;
}

std::string shown_piece(const LoadedModel& loaded, int32_t id) {
  return "'" + printable_piece(*loaded.tokenizer, id) + "'";
}

// Pads UTF-8 text with spaces to `columns` characters.
std::string pad(const std::string& text, size_t columns) {
  size_t characters = 0;
  for (unsigned char c : text) characters += (c & 0xC0) != 0x80;
  return characters >= columns ? text : text + std::string(columns - characters, ' ');
}

}  // namespace

void add_intervention_options(CLI::App& command, InterventionOptions& options) {
  const std::string group =
      "Routing interventions (the effect is shown beside the unchanged model)";
  command
      .add_option("--top-k", options.top_k,
                  "Experts per token at every MoE layer (1..n_expert); with --server: the served "
                  "model's top-k")
      ->group(group);
  command
      .add_option("--top-k-at", options.top_k_at,
                  "LAYER:K: experts per token at one layer (repeatable)")
      ->group(group);
  command
      .add_option("--disable-expert", options.disabled,
                  "LAYER:EXPERT, LAYER a number or 'all': knock the expert out; the router "
                  "renormalizes over the rest (repeatable)")
      ->group(group);
  command
      .add_option("--pin", options.pins,
                  "TOKEN:LAYER:EXPERT: force the token at that position (0 = first, BOS "
                  "included) to use the expert at that layer (repeatable)")
      ->group(group);
  command
      .add_option("--routing", options.routing,
                  "topk (the model's own), capacity:FACTOR (Switch-style, overflow dropped) or "
                  "expert-choice (each expert takes its top tokens)")
      ->group(group);
  command
      .add_option("--router-temperature", options.temperature,
                  "Divide the router logits by T before scoring (< 1 sharper, > 1 flatter)")
      ->group(group);
  command
      .add_option("--router-noise", options.noise,
                  "Noisy top-k: add Gaussian noise of this standard deviation to the router "
                  "logits (a seeded stand-in for Shazeer et al.'s learned noise)")
      ->group(group);
  command.add_option("--noise-seed", options.noise_seed, "Seed of the router noise")->group(group);
  command
      .add_option("--scoring", options.scoring,
                  "model (the model's own), softmax or sigmoid: how logits become scores")
      ->group(group);
  command
      .add_option("--expert-bias", options.expert_bias,
                  "EXPERT:VALUE: add VALUE to the expert's score when choosing the top-k, not to "
                  "its weight (DeepSeek-V3 balancing; repeatable)")
      ->group(group);
  command
      .add_option("--prune-plan", options.prune_plan,
                  "FILE: disable the experts a prune plan (moescope-cli prune-plan) removes")
      ->group(group);
}

moe::RoutingInterventions make_interventions(const InterventionOptions& options,
                                             const moe::ModelConfig& config) {
  moe::RoutingInterventions interventions;
  interventions.top_k = options.top_k;
  for (const std::string& text : options.top_k_at) {
    const size_t colon = text.find(':');
    if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos) {
      throw moe::Error("--top-k-at '" + text + "' is not LAYER:K (e.g. 2:1)");
    }
    const auto number = [&](const std::string& part, const char* what) {
      int value = 0;
      const char* end = part.data() + part.size();
      const auto result = std::from_chars(part.data(), end, value);
      if (part.empty() || result.ec != std::errc() || result.ptr != end) {
        throw moe::Error("--top-k-at '" + text + "': " + what + " '" + part +
                         "' is not a whole number (LAYER:K, e.g. 2:1)");
      }
      return value;
    };
    interventions.top_k_by_layer[number(text.substr(0, colon), "layer")] =
        number(text.substr(colon + 1), "k");
  }
  for (const std::string& text : options.disabled)
    interventions.disabled.push_back(moe::parse_disabled_expert(text));
  for (const std::string& text : options.pins)
    interventions.pins.push_back(moe::parse_expert_pin(text));
  moe::parse_routing_rule(options.routing, interventions);
  interventions.temperature = options.temperature;
  interventions.noise_scale = options.noise;
  interventions.noise_seed = options.noise_seed;
  interventions.scoring = moe::parse_scoring(options.scoring);
  for (const std::string& text : options.expert_bias) {
    const auto [expert, bias] = moe::parse_expert_bias(text);
    if (bias != 0) interventions.expert_bias[expert] = bias;
  }
  if (!options.prune_plan.empty()) {
    const moe::PrunePlan plan = moe::read_prune_plan(options.prune_plan);
    moe::check_plan_fits(plan, config.n_expert, config.moe_layers());
    for (const moe::DisabledExpert& disabled : moe::prune_interventions(plan).disabled) {
      interventions.disabled.push_back(disabled);
    }
  }
  interventions.validate(config);
  return interventions;
}

BalanceFigures balance_of(const std::vector<int64_t>& token_counts) {
  moe::LayerLoad load;  // the same figures the routing statistics give a layer
  load.token_counts = token_counts;
  moe::finish_balance(load, 1);
  return {load.cv, load.max_over_mean, load.unused_share};
}

void write_intervention_effect(std::ostream& out, const LoadedModel& loaded,
                               const moe::InterventionEffect& effect, int top_tokens) {
  out << "Interventions: " << effect.interventions.describe() << "\n";
  out << "Effect beside the unchanged model, over the " << effect.position_kl.size()
      << " prompt tokens:\n";
  const std::vector<int32_t> base = most_likely(effect.base.next_probs, top_tokens);
  const std::vector<int32_t> changed = most_likely(effect.changed.next_probs, top_tokens);
  out << "  next token:  " << pad("unchanged", 28) << "changed\n";
  for (size_t i = 0; i < base.size() && i < changed.size(); ++i) {
    out << "    " << std::setw(2) << i + 1 << "       "
        << pad(pad(shown_piece(loaded, base[i]), 16) +
                   fixed(effect.base.next_probs[static_cast<size_t>(base[i])], 4),
               28)
        << pad(shown_piece(loaded, changed[i]), 16)
        << fixed(effect.changed.next_probs[static_cast<size_t>(changed[i])], 4) << "\n";
  }
  out << "  KL(unchanged || changed): " << fixed(effect.next_token_kl, 4)
      << " nats for the next token, " << fixed(effect.mean_kl, 4)
      << " nats mean over the prompt; the most likely next token differs at "
      << fixed(100 * effect.top1_changed_share, 1) << "% of positions\n";
  if (!effect.base.token_nll.empty()) {
    out << "  prompt perplexity: " << fixed(effect.base.perplexity, 3) << " unchanged, "
        << fixed(effect.changed.perplexity, 3) << " changed ("
        << (effect.changed.perplexity >= effect.base.perplexity ? "+" : "")
        << fixed(100 * (effect.changed.perplexity / effect.base.perplexity - 1), 1) << "%)\n";
  }
  out << "  load balance per layer, unchanged -> changed (cv of tokens per expert, max/mean, "
         "unused experts, dropped slots):\n";
  for (size_t m = 0; m < effect.base.stats.layers.size(); ++m) {
    const moe::LayerLoad& a = effect.base.stats.layers[m];
    const moe::LayerLoad& b = effect.changed.stats.layers[m];
    out << "    L" << std::setw(2) << std::left << a.layer << std::right << "  cv "
        << fixed(a.cv, 2) << " -> " << fixed(b.cv, 2) << "  max/mean " << fixed(a.max_over_mean, 2)
        << " -> " << fixed(b.max_over_mean, 2) << "  unused " << fixed(100 * a.unused_share, 0)
        << "% -> " << fixed(100 * b.unused_share, 0) << "%  dropped " << b.dropped << "\n";
  }
}

nlohmann::json intervention_effect_json(const LoadedModel& loaded,
                                        const moe::InterventionEffect& effect, int top_tokens) {
  const auto next_tokens = [&](const moe::ModelRun& run) {
    nlohmann::json list = nlohmann::json::array();
    for (int32_t id : most_likely(run.next_probs, top_tokens)) {
      list.push_back({{"id", id},
                      {"text", data_piece(*loaded.tokenizer, id)},
                      {"prob", run.next_probs[static_cast<size_t>(id)]}});
    }
    return list;
  };
  nlohmann::json balance = nlohmann::json::array();
  for (size_t m = 0; m < effect.base.stats.layers.size(); ++m) {
    const moe::LayerLoad& a = effect.base.stats.layers[m];
    const moe::LayerLoad& b = effect.changed.stats.layers[m];
    balance.push_back({{"layer", a.layer},
                       {"unchanged",
                        {{"cv", a.cv},
                         {"max_over_mean", a.max_over_mean},
                         {"unused_share", a.unused_share},
                         {"token_counts", a.token_counts}}},
                       {"changed",
                        {{"cv", b.cv},
                         {"max_over_mean", b.max_over_mean},
                         {"unused_share", b.unused_share},
                         {"token_counts", b.token_counts},
                         {"dropped", b.dropped}}}});
  }
  nlohmann::json json = {
      {"interventions", moe::interventions_to_json(effect.interventions)},
      {"kl",
       {{"next_token", effect.next_token_kl},
        {"mean", effect.mean_kl},
        {"top1_changed_share", effect.top1_changed_share}}},
      {"next_tokens",
       {{"unchanged", next_tokens(effect.base)}, {"changed", next_tokens(effect.changed)}}},
      {"balance", balance}};
  if (!effect.base.token_nll.empty()) {
    json["perplexity"] = {{"unchanged", effect.base.perplexity},
                          {"changed", effect.changed.perplexity}};
  }
  return json;
}

}  // namespace moescope::cli
