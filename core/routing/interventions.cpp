#include "moe/interventions.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "moe/error.hpp"
#include "moe/model.hpp"

namespace moe {

namespace {

std::string layer_text(int layer) {
  return layer == kAllLayers ? std::string("all layers") : "layer " + std::to_string(layer);
}

// The text between ':' separators.
std::vector<std::string> split_colons(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) return parts;
    start = colon + 1;
  }
}

int parse_int(const std::string& text, const std::string& what, const std::string& whole) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end) {
    throw Error("'" + whole + "': " + what + " '" + text + "' is not a whole number");
  }
  return value;
}

double parse_double(const std::string& text, const std::string& what, const std::string& whole) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end || !std::isfinite(value))
    throw Error("'" + whole + "': " + what + " '" + text + "' is not a number");
  return value;
}

// SplitMix64's finalizer: every input bit changes about half of the output bits.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string format_factor(double factor) {
  std::ostringstream out;
  out << factor;
  return out.str();
}

}  // namespace

bool RoutingInterventions::empty() const {
  return top_k == 0 && top_k_by_layer.empty() && disabled.empty() && pins.empty() &&
         rule == RoutingRule::TokenChoice && temperature == 1.0 && noise_scale == 0.0 &&
         scoring == Scoring::Model && expert_bias.empty();
}

int RoutingInterventions::top_k_at(int layer, int model_top_k) const {
  const auto found = top_k_by_layer.find(layer);
  if (found != top_k_by_layer.end()) return found->second;
  return top_k > 0 ? top_k : model_top_k;
}

bool RoutingInterventions::is_disabled(int layer, int expert) const {
  return std::any_of(disabled.begin(), disabled.end(), [&](const DisabledExpert& d) {
    return d.expert == expert && (d.layer == kAllLayers || d.layer == layer);
  });
}

std::string RoutingInterventions::describe() const {
  if (empty()) return "none";
  std::vector<std::string> parts;
  if (top_k > 0) parts.push_back("top-k " + std::to_string(top_k) + " at all layers");
  for (const auto& [layer, k] : top_k_by_layer)
    parts.push_back("top-k " + std::to_string(k) + " at layer " + std::to_string(layer));
  // One part per layer ("experts 0, 1 and 5 disabled at layer 2"), layers in first-seen order,
  // so a pruning plan reads as one short line per layer rather than one per expert.
  std::vector<int> layers;
  for (const DisabledExpert& d : disabled)
    if (std::find(layers.begin(), layers.end(), d.layer) == layers.end()) layers.push_back(d.layer);
  for (int layer : layers) {
    std::vector<std::string> experts;
    for (const DisabledExpert& d : disabled)
      if (d.layer == layer) experts.push_back(std::to_string(d.expert));
    std::string list = experts.front();
    for (size_t i = 1; i < experts.size(); ++i)
      list += (i + 1 == experts.size() ? " and " : ", ") + experts[i];
    parts.push_back((experts.size() == 1 ? "expert " : "experts ") + list + " disabled at " +
                    layer_text(layer));
  }
  for (const ExpertPin& pin : pins) {
    parts.push_back("token " + std::to_string(pin.position) + " pinned to expert " +
                    std::to_string(pin.expert) + " at layer " + std::to_string(pin.layer));
  }
  if (rule == RoutingRule::Capacity)
    parts.push_back("capacity routing, factor " + format_factor(capacity_factor));
  if (rule == RoutingRule::ExpertChoice) parts.push_back("expert-choice routing");
  if (temperature != 1.0) parts.push_back("router temperature " + format_factor(temperature));
  if (noise_scale != 0.0) {
    parts.push_back("noisy top-k, noise " + format_factor(noise_scale) + " (seed " +
                    std::to_string(noise_seed) + ")");
  }
  if (scoring != Scoring::Model) parts.push_back(scoring_name(scoring) + " scoring");
  for (const auto& [expert, bias] : expert_bias) {
    parts.push_back("expert " + std::to_string(expert) + " selection bias " +
                    (bias > 0 ? "+" : "") + format_factor(bias));
  }
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? "; " : "") + parts[i];
  return text;
}

void RoutingInterventions::validate(const ModelConfig& config) const {
  const int n_expert = config.n_expert;
  const std::vector<int> moe_layers = config.moe_layers();
  if (n_expert <= 0 || moe_layers.empty()) {
    if (!empty()) throw Error("routing interventions need a model with experts; this one is dense");
    return;
  }
  const auto is_moe = [&](int layer) {
    return std::find(moe_layers.begin(), moe_layers.end(), layer) != moe_layers.end();
  };
  const auto check_layer = [&](int layer, const std::string& what) {
    if (!is_moe(layer)) {
      std::string list;
      for (size_t i = 0; i < moe_layers.size(); ++i)
        list += (i ? ", " : "") + std::to_string(moe_layers[i]);
      throw Error(what + ": layer " + std::to_string(layer) +
                  " is not a MoE layer of this model (MoE layers: " + list + ")");
    }
  };
  const auto check_expert = [&](int expert, const std::string& what) {
    if (expert < 0 || expert >= n_expert) {
      throw Error(what + ": expert " + std::to_string(expert) + " is out of range (the model has " +
                  std::to_string(n_expert) + " experts, 0.." + std::to_string(n_expert - 1) + ")");
    }
  };
  const auto check_k = [&](int k, const std::string& what) {
    if (k < 1 || k > n_expert) {
      throw Error(what + ": top-k " + std::to_string(k) + " is out of range (1.." +
                  std::to_string(n_expert) + ")");
    }
  };
  if (top_k != 0) check_k(top_k, "--top-k");
  for (const auto& [layer, k] : top_k_by_layer) {
    check_layer(layer, "top-k override");
    check_k(k, "top-k override at layer " + std::to_string(layer));
  }
  for (const DisabledExpert& d : disabled) {
    const std::string what =
        "disabled expert " + std::to_string(d.expert) + " at " + layer_text(d.layer);
    if (d.layer != kAllLayers) check_layer(d.layer, what);
    check_expert(d.expert, what);
  }
  for (int layer : moe_layers) {
    int enabled = 0;
    for (int e = 0; e < n_expert; ++e) enabled += is_disabled(layer, e) ? 0 : 1;
    if (enabled == 0) {
      throw Error("every expert is disabled at layer " + std::to_string(layer) +
                  ": at least one must stay enabled");
    }
  }
  for (const ExpertPin& pin : pins) {
    const std::string what = "pin " + std::to_string(pin.position) + ":" +
                             std::to_string(pin.layer) + ":" + std::to_string(pin.expert);
    if (pin.position < 0) throw Error(what + ": the token position must be 0 or more");
    check_layer(pin.layer, what);
    check_expert(pin.expert, what);
    if (is_disabled(pin.layer, pin.expert)) {
      throw Error(what + ": expert " + std::to_string(pin.expert) + " is disabled at layer " +
                  std::to_string(pin.layer) + ", it cannot also be pinned there");
    }
  }
  if (rule == RoutingRule::Capacity && !(capacity_factor > 0 && std::isfinite(capacity_factor))) {
    throw Error("capacity factor must be a positive number, got " + format_factor(capacity_factor));
  }
  if (!(temperature > 0 && std::isfinite(temperature))) {
    throw Error("router temperature must be a positive number, got " + format_factor(temperature));
  }
  if (!(noise_scale >= 0 && std::isfinite(noise_scale))) {
    throw Error("router noise must be 0 or a positive number, got " + format_factor(noise_scale));
  }
  for (const auto& [expert, bias] : expert_bias) {
    const std::string what = "expert bias " + std::to_string(expert) + ":" + format_factor(bias);
    check_expert(expert, what);
    if (!std::isfinite(bias)) throw Error(what + ": the bias must be a finite number");
  }
}

DisabledExpert parse_disabled_expert(const std::string& text) {
  const std::vector<std::string> parts = split_colons(text);
  if (parts.size() != 2) {
    throw Error("'" + text + "' is not LAYER:EXPERT (LAYER a number or 'all', e.g. 2:5 or all:5)");
  }
  DisabledExpert disabled;
  disabled.layer = parts[0] == "all" ? kAllLayers : parse_int(parts[0], "layer", text);
  if (disabled.layer < 0 && parts[0] != "all") {
    throw Error("'" + text + "': layer " + parts[0] + " is negative (use 'all' for every layer)");
  }
  disabled.expert = parse_int(parts[1], "expert", text);
  return disabled;
}

ExpertPin parse_expert_pin(const std::string& text) {
  const std::vector<std::string> parts = split_colons(text);
  if (parts.size() != 3) throw Error("'" + text + "' is not TOKEN:LAYER:EXPERT (e.g. 3:1:5)");
  return {parse_int(parts[0], "token position", text), parse_int(parts[1], "layer", text),
          parse_int(parts[2], "expert", text)};
}

void parse_routing_rule(const std::string& text, RoutingInterventions& interventions) {
  if (text == "topk" || text == "top-k" || text == "token-choice") {
    interventions.rule = RoutingRule::TokenChoice;
  } else if (text == "expert-choice") {
    interventions.rule = RoutingRule::ExpertChoice;
  } else if (text.rfind("capacity:", 0) == 0) {
    const std::string number = text.substr(9);
    double factor = 0;
    const char* end = number.data() + number.size();
    const auto result = std::from_chars(number.data(), end, factor);
    if (number.empty() || result.ec != std::errc() || result.ptr != end || !(factor > 0) ||
        !std::isfinite(factor)) {
      throw Error("'" + text +
                  "': the capacity factor must be a positive number (e.g. capacity:1.25)");
    }
    interventions.rule = RoutingRule::Capacity;
    interventions.capacity_factor = factor;
  } else {
    throw Error("unknown routing rule '" + text +
                "' (use topk, capacity:FACTOR such as capacity:1.25, or expert-choice)");
  }
}

std::string routing_rule_name(const RoutingInterventions& interventions) {
  switch (interventions.rule) {
    case RoutingRule::TokenChoice:
      return "topk";
    case RoutingRule::Capacity:
      return "capacity:" + format_factor(interventions.capacity_factor);
    case RoutingRule::ExpertChoice:
      return "expert-choice";
  }
  return "topk";
}

double router_noise(uint64_t seed, int position, int layer, int expert) {
  uint64_t h = mix(seed);
  h = mix(h ^ static_cast<uint32_t>(position));
  h = mix(h ^ static_cast<uint32_t>(layer));
  h = mix(h ^ static_cast<uint32_t>(expert));
  // Two uniforms from the top 53 bits (u1 in (0, 1], never 0 for the logarithm), Box-Muller.
  const double u1 = (static_cast<double>(h >> 11) + 1.0) * 0x1.0p-53;
  const double u2 = static_cast<double>(mix(h) >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

Scoring parse_scoring(const std::string& text) {
  if (text == "model") return Scoring::Model;
  if (text == "softmax") return Scoring::Softmax;
  if (text == "sigmoid") return Scoring::Sigmoid;
  throw Error("unknown scoring '" + text + "' (use softmax, sigmoid or model)");
}

std::string scoring_name(Scoring scoring) {
  switch (scoring) {
    case Scoring::Softmax:
      return "softmax";
    case Scoring::Sigmoid:
      return "sigmoid";
    case Scoring::Model:
      break;
  }
  return "model";
}

std::pair<int, double> parse_expert_bias(const std::string& text) {
  const std::vector<std::string> parts = split_colons(text);
  if (parts.size() != 2) throw Error("'" + text + "' is not EXPERT:VALUE (e.g. 3:0.05)");
  return {parse_int(parts[0], "expert", text), parse_double(parts[1], "bias", text)};
}

bool parse_router_knob(const std::string& text, RoutingInterventions& interventions) {
  const std::vector<std::string> parts = split_colons(text);
  const std::string& knob = parts[0];
  if (knob != "temperature" && knob != "noise" && knob != "scoring" && knob != "bias")
    return false;
  if (knob == "bias") {
    const auto [expert, bias] = parse_expert_bias(text.substr(5));
    if (bias == 0) interventions.expert_bias.erase(expert);
    else interventions.expert_bias[expert] = bias;
    return true;
  }
  if (knob == "noise" && parts.size() == 3) {
    RoutingInterventions changed = interventions;
    changed.noise_scale = parse_double(parts[1], "noise", text);
    const int seed = parse_int(parts[2], "seed", text);
    if (seed < 0) throw Error("'" + text + "': the seed must be 0 or more");
    changed.noise_seed = static_cast<uint64_t>(seed);
    interventions = changed;
    return true;
  }
  if (parts.size() != 2) {
    throw Error("'" + text + "' is not temperature:T, noise:SCALE[:SEED], " +
                "scoring:softmax|sigmoid|model or bias:EXPERT:VALUE");
  }
  if (knob == "temperature") interventions.temperature = parse_double(parts[1], knob, text);
  else if (knob == "noise") interventions.noise_scale = parse_double(parts[1], knob, text);
  else interventions.scoring = parse_scoring(parts[1]);
  return true;
}

}  // namespace moe
