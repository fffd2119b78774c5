// The FFN block of one layer on the GPU, as the CPU backend computes it: the norm, then a dense
// FFN or the routed experts (with shared experts, grok-2's dense FFN beside them), grok's norm
// of the output, the residual add.
//
// Routing: route.comp routes every token on the GPU with route_layer's semantics (gl_route.cpp;
// the interventions it does not do read the logits back for route_layer); the decisions are
// grouped by expert (gl_groups.cpp: on the GPU, or on the CPU after route_layer); then each
// chosen expert runs once over the tokens that chose it (one indirect dispatch per matrix for
// all experts: workgroup z is the group), and the outputs are mixed by gate weight. A trace
// takes the layer's decisions and values into the trace buffer (gl_trace.cpp).
#include <algorithm>
#include <chrono>
#include <cmath>

#include "gl_forward.hpp"

namespace moe {

using gl::ceil_div;
using gl::floats;

void GlBackend::Impl::ffn_block(const Model& model, const gl::LayerBuffers& layer, int il,
                                unsigned n, int pos0, const RoutingInterventions& interventions,
                                RoutingTrace* trace) {
  const ModelConfig& config = model.config();
  gl::Scratch& s = scratch;
  const unsigned n_embd = static_cast<unsigned>(config.n_embd);
  block_norm(model.architecture().norm, s.x, n, layer.ffn_norm, layer.ffn_norm_bias, n_embd,
             config.rms_eps, s.normed);
  // With grok's post norm the output is gathered in ffn_out, normed, then added.
  const bool post_norm = layer.ffn_post_norm.size > 0;
  gl::Destination out{&s.x, n_embd, 0, true, config.residual_scale};
  if (post_norm) {
    s.ffn_out.reserve(floats(static_cast<size_t>(n) * n_embd));
    out = {&s.ffn_out, n_embd};
  }
  if (!config.layer_is_moe[static_cast<size_t>(il)]) {
    dense_ffn(layer.gate_up, layer.down, ExpertActivation::SwiGlu, n, out);
  } else if (layer.dense_gate_up.parts.empty()) {
    moe_ffn(model, layer, il, n, pos0, interventions, trace, out);
  } else {
    // grok-2: a dense FFN beside the experts, the two averaged as (dense + experts) sqrt(2)/2.
    out.alpha *= static_cast<float>(std::sqrt(2.0) / 2);
    moe_ffn(model, layer, il, n, pos0, interventions, trace, out);
    dense_ffn(layer.dense_gate_up, layer.dense_down, config.expert_activation, n,
              {out.buffer, n_embd, 0, true, out.alpha});
  }
  if (post_norm) {
    norm(NormKind::Rms, s.ffn_out, 0, n, layer.ffn_post_norm, gl::Vector(), n_embd,
         config.rms_eps, {&s.x, n_embd, 0, true, config.residual_scale});
  }
}

void GlBackend::Impl::dense_ffn(const gl::FusedMatrix& gate_up, const gl::Matrix& down,
                                ExpertActivation activation, unsigned n, gl::Destination out) {
  gl::Scratch& s = scratch;
  s.hidden.reserve(floats(static_cast<size_t>(n) * down.cols));
  gated_hidden(gate_up, activation, s.normed, {n}, nullptr, s.hidden);
  matmul(down, s.hidden, n, out);
}

void GlBackend::Impl::moe_ffn(const Model& model, const gl::LayerBuffers& layer, int layer_index,
                              unsigned n, int pos0, const RoutingInterventions& interventions,
                              RoutingTrace* trace, gl::Destination out) {
  const ModelConfig& config = model.config();
  const unsigned n_expert = static_cast<unsigned>(config.n_expert);
  const unsigned n_embd = static_cast<unsigned>(config.n_embd);
  gl::Scratch& s = scratch;
  s.router_logits.reserve(floats(static_cast<size_t>(n) * n_expert));
  matmul(layer.router, s.normed, n, {&s.router_logits, n_expert});
  add(s.router_logits, nullptr, &layer.router_bias, n * n_expert, n_expert);  // gpt-oss
  auto step_start = std::chrono::steady_clock::now();
  gl::RoutedLayer routed = route(model, layer, layer_index, n, pos0, interventions);
  if (gl::profiling() && !routed.on_gpu) {
    gl::profile_host_step("(host) routing + grouping",
                          std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                        step_start).count());
  }

  const bool input_weighted = config.expert_input_weighted;
  const size_t n_slots = routed.n_slots;
  const unsigned n_ff = layer.down.cols;
  const size_t slots = std::max<size_t>(n_slots, 1);
  s.hidden.reserve(floats(slots * n_ff));
  s.expert_out.reserve(floats(slots * n_embd));
  const bool mix_fused = n_slots > 0 && mix_in_matmul(layer, routed, n);
  if (n_slots > 0) {
    const unsigned n_slot_rows = static_cast<unsigned>(n_slots);
    const gl::InputRows slot_rows{n_slot_rows, true, !input_weighted};
    if (input_weighted) {
      // Each slot's input row, times its gate weight, gathered for the grouped matmul.
      s.expert_in.reserve(floats(slots * n_embd));
      gl::Program& gather = *device->gather_rows;
      gather.use();
      gather.set("u_cols", n_embd);
      gather.set("u_n_rows", n_slot_rows);
      gl::bind(0, s.normed);
      gl::bind(1, s.slot_rows);
      gl::bind(2, s.slot_weights);
      gl::bind(3, s.expert_in);
      gl::dispatch(ceil_div(n_embd, 256), n_slot_rows);
      gated_hidden(layer.gate_up, config.expert_activation, s.expert_in, slot_rows,
                   &layer.gate_up_bias, s.hidden);
    } else {
      gated_hidden(layer.gate_up, config.expert_activation, s.normed, slot_rows,
                   &layer.gate_up_bias, s.hidden);
    }
    if (mix_fused) {
      down_and_mix(layer.down, n, out);  // the mix is in `out` already
    } else {
      matmul_grouped(layer.down, s.hidden, false, {&s.expert_out, n_embd});
      add(s.expert_out, nullptr, &layer.down_bias, n_slot_rows * n_embd, n_embd, 0,
          &s.slot_experts);
    }
  }
  // The shared experts run on every token (the routed experts' scratch is free again).
  const bool has_shared = !layer.shared_gate_up.parts.empty();
  if (has_shared) {
    s.hidden.reserve(floats(static_cast<size_t>(n) * layer.shared_down.cols));
    s.shared_out.reserve(floats(static_cast<size_t>(n) * n_embd));
    gated_hidden(layer.shared_gate_up, ExpertActivation::SwiGlu, s.normed, {n}, nullptr,
                 s.hidden);
    matmul(layer.shared_down, s.hidden, n, {&s.shared_out, n_embd});
  }
  if (trace != nullptr)
    trace_layer(model, layer, layer_index, n, pos0, std::move(routed), has_shared);
  if (!mix_fused) {
    gl::Program& combine = *device->moe_combine;
    combine.use();
    combine.set("u_cols", n_embd);
    combine.set("u_n_tokens", n);
    combine.set("u_alpha", out.alpha);
    combine.set("u_accumulate", out.accumulate ? 1u : 0u);
    gl::bind(0, *out.buffer);
    gl::bind(1, s.expert_out);
    gl::bind(2, s.token_ranges);
    gl::bind(3, s.choices);
    gl::dispatch(ceil_div(n_embd, 256), n);
  }
  if (has_shared) {  // added to the mix
    gl::Program& add_shared = *device->shared_add;
    add_shared.use();
    add_shared.set("u_cols", n_embd);
    add_shared.set("u_gated", layer.shared_gate.size > 0 ? 1u : 0u);
    add_shared.set("u_alpha", out.alpha);
    gl::bind(0, *out.buffer);
    gl::bind(1, s.shared_out);
    gl::bind(2, s.normed);
    gl::bind(3, layer.shared_gate.size > 0 ? layer.shared_gate.buffer : device->dummy);
    gl::dispatch(n);
  }
}

}  // namespace moe
