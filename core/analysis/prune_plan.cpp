#include "moe/prune_plan.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "moe/atomic_file.hpp"
#include "moe/error.hpp"
#include "moe/json_fields.hpp"
#include "moe/text_file.hpp"

namespace moe {

namespace {

constexpr int kPrunePlanVersion = 1;

// splitmix64: a fixed, documented generator, so a seed gives the same plan on every machine and
// standard library (std::shuffle's algorithm is not specified).
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Experts ordered best first: by score, ties to the lower id.
std::vector<int> ranked(const std::vector<double>& score) {
  std::vector<int> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)];
  });
  return order;
}

std::vector<int> shuffled(int n_expert, uint64_t& state) {
  std::vector<int> order(static_cast<size_t>(n_expert));
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[static_cast<size_t>(next_random(state) % i)]);
  }
  return order;
}

std::vector<double> scores_of(const ProfileLayer& layer, PruneCriterion criterion) {
  if (criterion == PruneCriterion::Reap) return reap_saliency(layer.reap);
  if (criterion == PruneCriterion::Frequency) {
    return std::vector<double>(layer.token_counts.begin(), layer.token_counts.end());
  }
  return {};
}

}  // namespace

PruneCriterion parse_prune_criterion(const std::string& text) {
  if (text == "reap") return PruneCriterion::Reap;
  if (text == "frequency") return PruneCriterion::Frequency;
  if (text == "random") return PruneCriterion::Random;
  throw Error("unknown pruning criterion \"" + text + "\" (reap, frequency or random)");
}

std::string prune_criterion_name(PruneCriterion criterion) {
  switch (criterion) {
    case PruneCriterion::Reap: return "reap";
    case PruneCriterion::Frequency: return "frequency";
    case PruneCriterion::Random: return "random";
  }
  return "frequency";
}

PrunePlan make_prune_plan(const CorpusProfile& profile, double keep_share, PruneCriterion criterion,
                          uint64_t seed) {
  if (!(keep_share > 0 && keep_share <= 1)) {
    throw Error("the share of experts to keep must be in (0, 1], not " + std::to_string(keep_share));
  }
  const int n_expert = profile.model.n_expert;
  if (criterion == PruneCriterion::Reap) {
    int64_t measured = 0;
    for (const ProfileLayer& layer : profile.layers) {
      measured += std::accumulate(layer.reap.tokens.begin(), layer.reap.tokens.end(), int64_t{0});
    }
    if (measured == 0) {
      throw Error("the profile holds no expert output norms, which REAP needs (profile with the CPU "
                  "backend), or rank by frequency");
    }
  }
  PrunePlan plan;
  plan.model = profile.model;
  plan.keep_share = keep_share;
  plan.criterion = criterion;
  plan.seed = seed;
  const int n_keep = std::clamp(static_cast<int>(std::lround(keep_share * n_expert)),
                                std::min(profile.model.top_k, n_expert), n_expert);
  uint64_t state = seed;
  for (const ProfileLayer& layer : profile.layers) {
    PrunedLayer pruned;
    pruned.layer = layer.layer;
    pruned.score = scores_of(layer, criterion);
    const std::vector<int> order =
        criterion == PruneCriterion::Random ? shuffled(n_expert, state) : ranked(pruned.score);
    pruned.kept.assign(order.begin(), order.begin() + n_keep);
    pruned.pruned.assign(order.begin() + n_keep, order.end());
    std::sort(pruned.kept.begin(), pruned.kept.end());
    std::sort(pruned.pruned.begin(), pruned.pruned.end());
    plan.layers.push_back(std::move(pruned));
  }
  return plan;
}

RoutingInterventions prune_interventions(const PrunePlan& plan) {
  RoutingInterventions interventions;
  for (const PrunedLayer& layer : plan.layers) {
    for (int expert : layer.pruned) interventions.disabled.push_back({layer.layer, expert});
  }
  return interventions;
}

void check_plan_fits(const PrunePlan& plan, int n_expert, const std::vector<int>& moe_layers) {
  if (plan.model.n_expert != n_expert || plan.model.moe_layers != moe_layers) {
    throw Error("the prune plan was made for a model with " + std::to_string(plan.model.n_expert) +
                " experts on " + std::to_string(plan.model.moe_layers.size()) +
                " MoE layers, this one has " + std::to_string(n_expert) + " on " +
                std::to_string(moe_layers.size()));
  }
}

nlohmann::json prune_plan_to_json(const PrunePlan& plan) {
  nlohmann::json layers = nlohmann::json::array();
  for (const PrunedLayer& layer : plan.layers) {
    layers.push_back({{"layer", layer.layer},
                      {"kept", layer.kept},
                      {"pruned", layer.pruned},
                      {"score", layer.score}});
  }
  return {{"format", "moescope-prune-plan"},
          {"version", kPrunePlanVersion},
          {"model",
           {{"name", plan.model.name},
            {"architecture", plan.model.architecture},
            {"n_layer", plan.model.n_layer},
            {"n_expert", plan.model.n_expert},
            {"top_k", plan.model.top_k},
            {"moe_layers", plan.model.moe_layers}}},
          {"keep_share", plan.keep_share},
          {"by", prune_criterion_name(plan.criterion)},
          {"seed", plan.seed},
          {"layers", layers}};
}

PrunePlan prune_plan_from_json(const nlohmann::json& json, const std::string& name) {
  if (!json.is_object() || json.value("format", nlohmann::json()) != "moescope-prune-plan") {
    throw Error(name + ": not a prune plan (no \"format\": \"moescope-prune-plan\")");
  }
  const JsonFields read(name, "prune plan");
  const int64_t version = read.integer(json, "version");
  if (version != kPrunePlanVersion) {
    throw Error(name + ": prune plan version " + std::to_string(version) + ", this moescope reads " +
                "version " + std::to_string(kPrunePlanVersion));
  }
  PrunePlan plan;
  const nlohmann::json& model = read.field(json, "model");
  plan.model.name = read.text(model, "name");
  plan.model.architecture = read.text(model, "architecture");
  plan.model.n_layer = static_cast<int>(read.integer(model, "n_layer"));
  plan.model.n_expert = static_cast<int>(read.integer(model, "n_expert"));
  plan.model.top_k = static_cast<int>(read.integer(model, "top_k"));
  plan.model.moe_layers = read.numbers<int>(model, "moe_layers", JsonFields::kAnySize);
  if (plan.model.n_expert <= 0 || plan.model.n_expert > 65536 || plan.model.top_k <= 0) {
    read.fail("the model's shape is out of range");
  }
  plan.keep_share = read.number(json, "keep_share");
  plan.criterion = parse_prune_criterion(read.text(json, "by"));
  const nlohmann::json& seed = read.field(json, "seed");
  if (!seed.is_number_unsigned()) read.fail("\"seed\" is not an unsigned integer");
  plan.seed = seed.get<uint64_t>();
  const nlohmann::json& layers = read.field(json, "layers");
  if (!layers.is_array() || layers.size() != plan.model.moe_layers.size()) {
    read.fail("\"layers\" does not hold one entry per MoE layer");
  }
  const auto n_expert = static_cast<size_t>(plan.model.n_expert);
  for (size_t m = 0; m < layers.size(); ++m) {
    PrunedLayer layer;
    layer.layer = static_cast<int>(read.integer(layers[m], "layer"));
    if (layer.layer != plan.model.moe_layers[m]) read.fail("layers out of order");
    layer.kept = read.numbers<int>(layers[m], "kept", JsonFields::kAnySize);
    layer.pruned = read.numbers<int>(layers[m], "pruned", JsonFields::kAnySize);
    layer.score = read.numbers<double>(layers[m], "score", JsonFields::kAnySize);
    // Every expert exactly once, in kept or pruned; at least one kept.
    std::vector<int> seen(n_expert, 0);
    for (const std::vector<int>* list : {&layer.kept, &layer.pruned}) {
      for (int expert : *list) {
        if (expert < 0 || static_cast<size_t>(expert) >= n_expert || seen[static_cast<size_t>(expert)]++) {
          read.fail("layer " + std::to_string(layer.layer) + ": expert " + std::to_string(expert) +
                    " is out of range or listed twice");
        }
      }
    }
    if (layer.kept.empty()) read.fail("layer " + std::to_string(layer.layer) + " keeps no expert");
    plan.layers.push_back(std::move(layer));
  }
  return plan;
}

void write_prune_plan(const std::filesystem::path& path, const PrunePlan& plan) {
  write_file_atomically(path, prune_plan_to_json(plan).dump(1) + "\n");
}

PrunePlan read_prune_plan(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    throw Error(path.string() + ": not a prune plan (not JSON: " + error.what() + ")");
  }
  return prune_plan_from_json(json, path.string());
}

}  // namespace moe
