// Routing of one MoE layer's tokens on the GPU (shaders/route.comp), with route_layer's
// semantics: the gating rule and the per-token interventions (disabled experts, top-k, scoring,
// expert bias, temperature). What couples tokens or needs the CPU's noise (capacity, expert
// choice, router noise) and pins keep the CPU path: the logits read back, route_layer.
#include <algorithm>
#include <bit>
#include <cstring>

#include "gl_forward.hpp"

namespace moe {

using gl::floats;

namespace {

constexpr int kMaxGpuGroups = 64;  // route.comp's MAX_GROUPS

bool pins_at(const RoutingInterventions& interventions, int layer, int pos0, unsigned n) {
  return std::any_of(interventions.pins.begin(), interventions.pins.end(), [&](const auto& pin) {
    return pin.layer == layer && pin.position >= pos0 &&
           pin.position < pos0 + static_cast<int>(n);
  });
}

}  // namespace

void GlBackend::Impl::route(const Model& model, int layer_index, unsigned n, int pos0,
                            const RoutingInterventions& interventions,
                            std::vector<RouteDecision>& decisions) {
  if (route_on_gpu(model, layer_index, n, pos0, interventions, decisions)) {
    ++routing_counts.gpu_layers;
    return;
  }
  ++routing_counts.cpu_layers;
  std::vector<float> logits(static_cast<size_t>(n) * static_cast<size_t>(model.config().n_expert));
  scratch.router_logits.download(logits.data(), floats(logits.size()));
  route_layer(model, layer_index, logits.data(), static_cast<int>(n), pos0, interventions,
              decisions);
}

bool GlBackend::Impl::route_on_gpu(const Model& model, int layer_index, unsigned n, int pos0,
                                   const RoutingInterventions& interventions,
                                   std::vector<RouteDecision>& decisions) {
  const ModelConfig& config = model.config();
  const auto n_expert = static_cast<size_t>(config.n_expert);
  if (interventions.rule != RoutingRule::TokenChoice || interventions.noise_scale != 0.0 ||
      pins_at(interventions, layer_index, pos0, n) || n == 0 || n_expert == 0)
    return false;
  std::vector<float> bias_storage;
  const GateRule rule = intervened_rule(model, layer_index, interventions, bias_storage);
  const bool by_groups = group_limited(rule, n_expert);
  if (by_groups && rule.n_groups > kMaxGpuGroups) return false;
  const bool has_bias = rule.selection_bias.size() == n_expert;
  const std::vector<char> enabled_mask = enabled_experts(interventions, layer_index, n_expert);
  const std::vector<uint32_t> enabled(enabled_mask.begin(), enabled_mask.end());
  const auto n_enabled = static_cast<size_t>(std::count(enabled.begin(), enabled.end(), 1u));
  const size_t k = routed_top_k(config, layer_index, interventions, n_enabled);
  const size_t n_groups_used =
      by_groups ? static_cast<size_t>(std::min(rule.n_groups_used, rule.n_groups)) : 0;

  gl::Scratch& s = scratch;
  const auto upload = [](gl::Buffer& buffer, const void* data, size_t bytes) {
    buffer.reserve(std::max<size_t>(bytes, 4));
    buffer.upload(data, bytes);
  };
  if (has_bias) upload(s.route_bias, rule.selection_bias.data(), floats(n_expert));
  upload(s.route_enabled, enabled.data(), n_expert * sizeof(uint32_t));
  s.route_probs.reserve(floats(n * n_expert));
  s.route_experts.reserve(std::max<size_t>(n * k * sizeof(uint32_t), 4));
  s.route_weights.reserve(std::max<size_t>(floats(n * k), 4));
  s.route_groups.reserve(std::max<size_t>(n * n_groups_used * sizeof(uint32_t), 4));

  gl::Program& program = *device->route;
  program.use();
  program.set("u_n_tokens", n);
  program.set("u_n_expert", static_cast<unsigned>(n_expert));
  program.set("u_top_k", static_cast<unsigned>(k));
  program.set("u_softmax", rule.gating == GatingFunction::Softmax ? 1u : 0u);
  program.set("u_has_bias", has_bias ? 1u : 0u);
  program.set("u_normalize", rule.normalize ? 1u : 0u);
  program.set("u_scale", rule.scale);
  const auto temperature = std::bit_cast<uint64_t>(interventions.temperature);
  program.set("u_temperature_lo", static_cast<unsigned>(temperature & 0xffffffffu));
  program.set("u_temperature_hi", static_cast<unsigned>(temperature >> 32));
  program.set("u_n_groups", by_groups ? static_cast<unsigned>(rule.n_groups) : 0u);
  program.set("u_n_groups_used", static_cast<unsigned>(n_groups_used));
  gl::bind(0, s.router_logits);
  gl::bind(1, has_bias ? s.route_bias : device->dummy);
  gl::bind(2, s.route_enabled);
  gl::bind(3, s.route_probs);
  gl::bind(4, s.route_experts);
  gl::bind(5, s.route_weights);
  gl::bind(6, s.route_groups);
  gl::dispatch(gl::ceil_div(n, 64));

  // The decisions, read back in one go per buffer (until the grouping runs on the GPU too).
  std::vector<float> probs(n * n_expert), weights(n * k);
  std::vector<uint32_t> experts(n * k), groups(n * n_groups_used);
  s.route_probs.download(probs.data(), floats(probs.size()));
  s.route_experts.download(experts.data(), experts.size() * sizeof(uint32_t));
  s.route_weights.download(weights.data(), floats(weights.size()));
  if (!groups.empty()) s.route_groups.download(groups.data(), groups.size() * sizeof(uint32_t));
  const RecordedGate gate = recorded_gate(rule, config, interventions);
  decisions.resize(n);
  for (size_t t = 0; t < n; ++t) {
    RouteDecision& decision = decisions[t];
    decision.probs.assign(probs.begin() + t * n_expert, probs.begin() + (t + 1) * n_expert);
    decision.experts.assign(experts.begin() + t * k, experts.begin() + (t + 1) * k);
    decision.weights.assign(weights.begin() + t * k, weights.begin() + (t + 1) * k);
    decision.groups.assign(groups.begin() + t * n_groups_used,
                           groups.begin() + (t + 1) * n_groups_used);
    decision.dropped.clear();
    decision.pinned = false;
    decision.gate = gate;
  }
  return true;
}

}  // namespace moe
