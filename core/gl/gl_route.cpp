// Routing of one MoE layer's tokens on the GPU (shaders/route.comp), with route_layer's
// semantics: the gating rule and the per-token interventions (disabled experts, top-k, scoring,
// expert bias, temperature). What couples tokens or needs the CPU's noise (capacity, expert
// choice, router noise), pins, layers of more than kMaxGpuGroupedExperts experts and a top-k
// above kMaxGpuTopK keep the CPU path: the logits read back, route_layer. Either way the slots
// are then grouped by expert (gl_groups.cpp) for the FFN, which is the same after.
#include <algorithm>
#include <bit>
#include <cstring>

#include "gl_forward.hpp"

namespace moe {

using gl::floats;

namespace {

constexpr int kMaxGpuGroups = 64;  // route.comp's MAX_GROUPS
constexpr size_t kMaxGpuTopK = 64;  // route.comp's MAX_TOP_K

bool pins_at(const RoutingInterventions& interventions, int layer, int pos0, unsigned n) {
  return std::any_of(interventions.pins.begin(), interventions.pins.end(), [&](const auto& pin) {
    return pin.layer == layer && pin.position >= pos0 &&
           pin.position < pos0 + static_cast<int>(n);
  });
}

}  // namespace

gl::RoutedLayer GlBackend::Impl::route(const Model& model, const gl::LayerBuffers& layer,
                                       int layer_index, unsigned n, int pos0,
                                       const RoutingInterventions& interventions) {
  const ModelConfig& config = model.config();
  plan_grouped_commands(layer, config);
  gl::RoutedLayer routed;
  if (route_on_gpu(model, layer_index, n, pos0, interventions, routed)) {
    ++routing_counts.gpu_layers;
    group_on_gpu(config, n, routed);
    return routed;
  }
  ++routing_counts.cpu_layers;
  routed.logits.resize(static_cast<size_t>(n) * static_cast<size_t>(config.n_expert));
  download(scratch.router_logits, routed.logits.data(), floats(routed.logits.size()));
  route_layer(model, layer_index, routed.logits.data(), static_cast<int>(n), pos0, interventions,
              routed.decisions);
  group_on_host(config, n, routed);
  return routed;
}

bool GlBackend::Impl::route_on_gpu(const Model& model, int layer_index, unsigned n, int pos0,
                                   const RoutingInterventions& interventions,
                                   gl::RoutedLayer& routed) {
  const ModelConfig& config = model.config();
  const auto n_expert = static_cast<size_t>(config.n_expert);
  if (interventions.rule != RoutingRule::TokenChoice || interventions.noise_scale != 0.0 ||
      pins_at(interventions, layer_index, pos0, n) || n == 0 || n_expert == 0 ||
      n_expert > gl::kMaxGpuGroupedExperts)
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
  if (k > kMaxGpuTopK) return false;
  const size_t n_groups_used =
      by_groups ? static_cast<size_t>(std::min(rule.n_groups_used, rule.n_groups)) : 0;

  gl::Scratch& s = scratch;
  if (s.route_inputs.size() < static_cast<size_t>(config.n_layer))
    s.route_inputs.resize(static_cast<size_t>(config.n_layer));
  gl::Scratch::RouteInputs& inputs = s.route_inputs[static_cast<size_t>(layer_index)];
  const auto upload_changed = [](gl::Buffer& buffer, auto& uploaded, const auto& values) {
    if (buffer.id() != 0 && std::equal(values.begin(), values.end(), uploaded.begin(),
                                       uploaded.end()))
      return;
    uploaded.assign(values.begin(), values.end());
    gl::upload_values(buffer, values);
  };
  if (has_bias) upload_changed(inputs.bias, inputs.bias_values, rule.selection_bias);
  upload_changed(inputs.enabled, inputs.enabled_values, enabled);
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
  gl::bind(1, has_bias ? inputs.bias : device->dummy);
  gl::bind(2, inputs.enabled);
  gl::bind(3, s.route_probs);
  gl::bind(4, s.route_experts);
  gl::bind(5, s.route_weights);
  gl::bind(6, s.route_groups);
  gl::dispatch(n);  // a workgroup per token

  // The decisions stay on the GPU: grouped there, copied into the trace when one is taken.
  routed.on_gpu = true;
  routed.top_k = k;
  routed.n_groups_used = n_groups_used;
  routed.gate = recorded_gate(rule, config, interventions);
  routed.n_slots = n * k;
  return true;
}

}  // namespace moe
