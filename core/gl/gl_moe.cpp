// The FFN block of one layer on the GPU, as the CPU backend computes it: the norm, then a dense
// FFN or the routed experts (with shared experts, grok-2's dense FFN beside them), grok's norm
// of the output, the residual add.
//
// Routing: route.comp routes every token on the GPU with route_layer's semantics (gl_route.cpp;
// the interventions it does not do read the logits back for route_layer); the decisions are
// grouped by expert on the CPU; then each chosen expert runs once over the
// tokens that chose it (one dispatch per matrix for all experts: workgroup z is the expert), and
// the outputs are mixed by gate weight.
#include <algorithm>
#include <bit>
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
  norm(model.architecture().norm, s.x, 0, n, layer.ffn_norm, layer.ffn_norm_bias, n_embd,
       config.rms_eps, {&s.normed, n_embd});
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
  const unsigned n_ff = down.cols;
  s.gate_up.reserve(floats(static_cast<size_t>(n) * 2 * n_ff));
  s.hidden.reserve(floats(static_cast<size_t>(n) * n_ff));
  matmul_fused(gate_up, s.normed, n, s.gate_up);
  glu(activation, s.gate_up, n, n_ff, nullptr, s.hidden);
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
  const auto end_step = [&](const char* name) {
    if (!gl::profiling()) return;
    const auto now = std::chrono::steady_clock::now();
    gl::profile_host_step(name, std::chrono::duration<double>(now - step_start).count());
    step_start = now;
  };
  std::vector<RouteDecision> decisions;
  route(model, layer_index, n, pos0, interventions, decisions);
  end_step("(host) routing");

  struct Choice {
    unsigned token;
    size_t rank;  // in the token's chosen experts
  };
  std::vector<std::vector<Choice>> tokens_of_expert(n_expert);
  for (unsigned t = 0; t < n; ++t) {
    const RouteDecision& decision = decisions[t];
    for (size_t j = 0; j < decision.experts.size(); ++j) {
      tokens_of_expert[static_cast<size_t>(decision.experts[j])].push_back({t, j});
    }
  }

  // Slots: (expert, token) pairs grouped by expert in id order, each with its expert and its
  // gate weight.
  std::vector<uint32_t> groups, slot_rows, slot_experts;
  std::vector<float> slot_weights;
  std::vector<std::vector<uint32_t>> slot_of_rank(n);  // per token, the slot of each choice
  unsigned max_slots = 0;
  for (unsigned e = 0; e < n_expert; ++e) {
    const auto& chosen = tokens_of_expert[e];
    if (chosen.empty()) continue;
    groups.insert(groups.end(), {e, static_cast<uint32_t>(slot_rows.size()),
                                 static_cast<uint32_t>(chosen.size())});
    max_slots = std::max(max_slots, static_cast<unsigned>(chosen.size()));
    for (const Choice& choice : chosen) {
      std::vector<uint32_t>& ranks = slot_of_rank[choice.token];
      if (ranks.size() <= choice.rank) ranks.resize(choice.rank + 1);
      ranks[choice.rank] = static_cast<uint32_t>(slot_rows.size());
      slot_rows.push_back(choice.token);
      slot_experts.push_back(e);
      slot_weights.push_back(decisions[choice.token].weights[choice.rank]);
    }
  }
  // Per token, its slots in rank order, so the mix adds the experts in the CPU backend's order;
  // llama4's weights were applied to the experts' inputs: its outputs are added as they are.
  const bool input_weighted = config.expert_input_weighted;
  std::vector<uint32_t> token_ranges, choices;
  for (unsigned t = 0; t < n; ++t) {
    token_ranges.push_back(static_cast<uint32_t>(choices.size() / 2));
    token_ranges.push_back(static_cast<uint32_t>(slot_of_rank[t].size()));
    for (size_t rank = 0; rank < slot_of_rank[t].size(); ++rank) {
      choices.push_back(slot_of_rank[t][rank]);
      const float weight = input_weighted ? 1.0f : decisions[t].weights[rank];
      choices.push_back(std::bit_cast<uint32_t>(weight));
    }
  }
  const size_t n_slots = slot_rows.size();
  const unsigned n_groups = static_cast<unsigned>(groups.size() / 3);
  const auto upload = [](gl::Buffer& buffer, const auto& values) {
    const size_t bytes = values.size() * sizeof(values[0]);
    buffer.reserve(std::max<size_t>(bytes, 4));
    buffer.upload(values.data(), bytes);
  };
  upload(s.groups, groups);
  upload(s.slot_rows, slot_rows);
  upload(s.token_ranges, token_ranges);
  upload(s.choices, choices);
  const bool expert_biases = layer.gate_up_bias.size > 0 || layer.down_bias.size > 0;
  if (expert_biases) upload(s.slot_experts, slot_experts);
  if (input_weighted) upload(s.slot_weights, slot_weights);
  end_step("(host) grouping + uploads");

  const unsigned n_ff = layer.down.cols;
  const size_t slots = std::max<size_t>(n_slots, 1);
  s.gate_up.reserve(floats(slots * 2 * n_ff));
  s.hidden.reserve(floats(slots * n_ff));
  s.expert_out.reserve(floats(slots * n_embd));
  if (n_groups > 0) {
    const unsigned n_slot_rows = static_cast<unsigned>(n_slots);
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
      matmul_fused_grouped(layer.gate_up, s.expert_in, false, n_groups, max_slots, s.gate_up);
    } else {
      matmul_fused_grouped(layer.gate_up, s.normed, true, n_groups, max_slots, s.gate_up);
    }
    glu(config.expert_activation, s.gate_up, n_slot_rows, n_ff, &layer.gate_up_bias, s.hidden);
    matmul_grouped(layer.down, s.hidden, false, n_groups, max_slots, {&s.expert_out, n_embd});
    add(s.expert_out, nullptr, &layer.down_bias, n_slot_rows * n_embd, n_embd, 0,
        &s.slot_experts);
  }
  // The shared experts run on every token (the routed experts' scratch is free again).
  const bool has_shared = !layer.shared_gate_up.parts.empty();
  if (has_shared) {
    const unsigned n_ff_shared = layer.shared_down.cols;
    s.gate_up.reserve(floats(static_cast<size_t>(n) * 2 * n_ff_shared));
    s.hidden.reserve(floats(static_cast<size_t>(n) * n_ff_shared));
    s.shared_out.reserve(floats(static_cast<size_t>(n) * n_embd));
    matmul_fused(layer.shared_gate_up, s.normed, n, s.gate_up);
    glu(ExpertActivation::SwiGlu, s.gate_up, n, n_ff_shared, nullptr, s.hidden);
    matmul(layer.shared_down, s.hidden, n, {&s.shared_out, n_embd});
  }
  if (trace != nullptr) {
    std::vector<float> logits(static_cast<size_t>(n) * n_expert);
    s.router_logits.download(logits.data(), floats(logits.size()));
    record_layer(model, layer_index, n, pos0, logits, std::move(decisions), slot_of_rank,
                 n_slots, has_shared, *trace);
  }
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

void GlBackend::Impl::record_layer(const Model& model, int layer_index, unsigned n, int pos0,
                                   const std::vector<float>& logits,
                                   std::vector<RouteDecision> decisions,
                                   const std::vector<std::vector<uint32_t>>& slot_of_rank,
                                   size_t n_slots, bool has_shared, RoutingTrace& trace) {
  const ModelConfig& config = model.config();
  const auto n_embd = static_cast<size_t>(config.n_embd);
  const auto n_expert = static_cast<size_t>(config.n_expert);
  std::vector<float> input(n * n_embd), expert_out(n_slots * n_embd), shared;
  scratch.normed.download(input.data(), floats(input.size()));
  if (n_slots > 0) scratch.expert_out.download(expert_out.data(), floats(expert_out.size()));
  std::vector<float> shared_gate;  // qwen2moe's gate vector, for the shared output's weight
  if (has_shared) {
    shared.resize(n * n_embd);
    scratch.shared_out.download(shared.data(), floats(shared.size()));
    const gguf::TensorInfo* gate = model.layer(layer_index).ffn_gate_inp_shexp;
    if (config.shared_experts == SharedExperts::SigmoidGated && gate != nullptr) {
      shared_gate.resize(n_embd);
      dequantize_row(gate->type, gate->data, shared_gate.data(), static_cast<int64_t>(n_embd));
    }
  }
  const auto length = [](const float* v, size_t size) {  // the L2 norm
    double sum = 0;
    for (size_t i = 0; i < size; ++i) sum += static_cast<double>(v[i]) * v[i];
    return static_cast<float>(std::sqrt(sum));
  };
  for (unsigned t = 0; t < n; ++t) {
    RouteDecision& decision = decisions[t];
    LayerValues values;
    values.available = true;
    const float* x = input.data() + t * n_embd;
    values.input_norm = length(x, n_embd);
    values.input_head.assign(x, x + std::min<size_t>(LayerValues::kInputHead, n_embd));
    // The mix in rank order, as the combine shader and the CPU backend add it.
    std::vector<float> routed(n_embd, 0.0f);
    values.expert_norms.assign(decision.experts.size(), 0.0f);
    for (size_t j = 0; j < decision.experts.size(); ++j) {
      const float* row = expert_out.data() + slot_of_rank[t][j] * n_embd;
      values.expert_norms[j] = length(row, n_embd);
      const float weight = config.expert_input_weighted ? 1.0f : decision.weights[j];
      for (size_t i = 0; i < n_embd; ++i) routed[i] += weight * row[i];
    }
    values.routed_norm = values.output_norm = length(routed.data(), n_embd);
    if (has_shared) {  // as the CPU backend records it: |g * shared| and |routed + g * shared|
      float* row = shared.data() + t * n_embd;
      if (!shared_gate.empty()) {
        float logit = 0;
        for (size_t i = 0; i < n_embd; ++i) logit += x[i] * shared_gate[i];
        const float g = 1.0f / (1.0f + std::exp(-logit));
        for (size_t i = 0; i < n_embd; ++i) row[i] *= g;
      }
      values.has_shared = true;
      values.shared_norm = length(row, n_embd);
      for (size_t i = 0; i < n_embd; ++i) routed[i] += row[i];
      values.output_norm = length(routed.data(), n_embd);
    }
    const std::span<const float> row(logits.data() + t * n_expert, n_expert);
    RoutingRecord record = routing_record(row, std::move(decision));
    record.values = std::move(values);
    trace.set(pos0 + static_cast<int>(t), layer_index, std::move(record));
  }
}

}  // namespace moe
