// The routing trace of a GL forward call, kept on the GPU until the call ends: each traced MoE
// layer appends to one trace buffer its router logits and decisions (GPU-routed layers: copied
// from route.comp's buffers) and its values in norms (trace_values.comp: the FFN input, each
// chosen expert's output, the mix, the shared experts' output). After the last layer the buffer
// is read back once and each token's record made by routing_record, as the CPU backend does;
// CPU-routed layers take their decisions and logits from the host.
#include <algorithm>
#include <bit>
#include <span>

#include "gl_forward.hpp"

namespace moe {

namespace {

constexpr size_t kValueHeader = 4;  // input, routed, shared and output norms
constexpr size_t kInputHead = LayerValues::kInputHead;

// `buffer` with room for `bytes`, its first `keep` bytes kept (copied on the GPU when it grows).
void grow_keeping(gl::Buffer& buffer, size_t bytes, size_t keep) {
  if (buffer.id() != 0 && bytes <= buffer.bytes()) return;
  gl::Buffer bigger;
  bigger.reserve(std::max(bytes, buffer.bytes() * 2));
  gl::copy(buffer, 0, bigger, 0, keep);
  buffer = std::move(bigger);
}

// Copies `words` words of `from` to word `at` of `to`.
void copy_words(const gl::Buffer& from, gl::Buffer& to, size_t at, size_t words) {
  gl::copy(from, 0, to, at * sizeof(float), words * sizeof(float));
}

}  // namespace

void GlBackend::Impl::begin_trace() {
  traced_layers.clear();
  trace_words = 0;
}

void GlBackend::Impl::trace_layer(const Model& model, const gl::LayerBuffers& layer,
                                  int layer_index, unsigned n, int pos0, gl::RoutedLayer routed,
                                  bool has_shared) {
  const ModelConfig& config = model.config();
  const auto n_expert = static_cast<size_t>(config.n_expert);
  gl::TracedLayer traced;
  traced.layer = layer_index;
  traced.n = n;
  traced.pos0 = pos0;
  traced.has_shared = has_shared;
  traced.n_expert = n_expert;
  traced.n_embd = static_cast<size_t>(config.n_embd);
  traced.at = trace_words;
  // The values' room for expert norms: every token's choices (the most of any token when the
  // CPU routed: capacity drops some, expert choice gives tokens any number).
  size_t max_choices = routed.top_k;
  for (const RouteDecision& decision : routed.decisions)
    max_choices = std::max(max_choices, decision.experts.size());
  traced.stride = kValueHeader + kInputHead + max_choices;
  const size_t decision_words =
      routed.on_gpu ? n * (2 * n_expert + 2 * routed.top_k + routed.n_groups_used) : 0;
  traced.values_at = traced.at + decision_words;
  const size_t end = traced.values_at + n * traced.stride;
  gl::Scratch& s = scratch;
  grow_keeping(s.trace, sizeof(float) * end, sizeof(float) * trace_words);
  if (routed.on_gpu) {
    size_t at = traced.at;
    const auto append = [&](const gl::Buffer& from, size_t words) {
      copy_words(from, s.trace, at, words);
      at += words;
    };
    append(s.router_logits, n * n_expert);
    append(s.route_probs, n * n_expert);
    append(s.route_experts, n * routed.top_k);
    append(s.route_weights, n * routed.top_k);
    append(s.route_groups, n * routed.n_groups_used);
  }
  const bool gated = has_shared && layer.shared_gate.size > 0;
  gl::Program& program = *device->trace_values;
  program.use();
  program.set("u_cols", static_cast<unsigned>(config.n_embd));
  program.set("u_has_shared", has_shared ? 1u : 0u);
  program.set("u_gated", gated ? 1u : 0u);
  program.set("u_values_at", static_cast<unsigned>(traced.values_at));
  program.set("u_stride", static_cast<unsigned>(traced.stride));
  gl::bind(0, s.normed);
  gl::bind(1, routed.n_slots > 0 ? s.expert_out : device->dummy);
  gl::bind(2, has_shared ? s.shared_out : device->dummy);
  gl::bind(3, s.token_ranges);
  gl::bind(4, s.choices);
  gl::bind(5, gated ? layer.shared_gate.buffer : device->dummy);
  gl::bind(6, s.trace);
  gl::dispatch(n);
  trace_words = end;
  traced.routed = std::move(routed);
  traced_layers.push_back(std::move(traced));
}

void GlBackend::Impl::read_trace(RoutingTrace& trace) {
  if (traced_layers.empty()) return;
  std::vector<float> words(trace_words);
  download(scratch.trace, words.data(), gl::floats(words.size()));
  for (gl::TracedLayer& traced : traced_layers) {
    gl::RoutedLayer& routed = traced.routed;
    const size_t n_expert = traced.n_expert, k = routed.top_k;
    const size_t n_groups_used = routed.n_groups_used;
    const float* logits = words.data() + traced.at;  // a GPU-routed layer's decisions
    const float* probs = logits + traced.n * n_expert;
    const float* experts = probs + traced.n * n_expert;
    const float* weights = experts + traced.n * k;
    const float* groups = weights + traced.n * k;
    const auto ids = [](const float* from, size_t count) {
      std::vector<int32_t> out(count);
      for (size_t i = 0; i < count; ++i) out[i] = std::bit_cast<int32_t>(from[i]);
      return out;
    };
    for (size_t t = 0; t < traced.n; ++t) {
      RouteDecision decision;
      std::span<const float> logit_row;
      if (routed.on_gpu) {
        decision.probs.assign(probs + t * n_expert, probs + (t + 1) * n_expert);
        decision.experts = ids(experts + t * k, k);
        decision.weights.assign(weights + t * k, weights + (t + 1) * k);
        decision.groups = ids(groups + t * n_groups_used, n_groups_used);
        decision.gate = routed.gate;
        logit_row = {logits + t * n_expert, n_expert};
      } else {
        decision = std::move(routed.decisions[t]);
        logit_row = {routed.logits.data() + t * n_expert, n_expert};
      }
      const float* v = words.data() + traced.values_at + t * traced.stride;
      LayerValues values;
      values.available = true;
      values.input_norm = v[0];
      values.routed_norm = v[1];
      values.output_norm = v[3];
      values.has_shared = traced.has_shared;
      if (traced.has_shared) values.shared_norm = v[2];
      values.input_head.assign(v + kValueHeader,
                               v + kValueHeader + std::min(kInputHead, traced.n_embd));
      values.expert_norms.assign(v + kValueHeader + kInputHead,
                                 v + kValueHeader + kInputHead + decision.experts.size());
      RoutingRecord record = routing_record(logit_row, std::move(decision));
      record.values = std::move(values);
      trace.set(traced.pos0 + static_cast<int>(t), traced.layer, std::move(record));
    }
  }
  traced_layers.clear();
}

}  // namespace moe
