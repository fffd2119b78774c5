#include "decode_consistency.hpp"

#include <span>

#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"

namespace moe::testing {

double decode_tolerance(const RandomModelSpec& spec) {
  const bool rounded = spec.weight_type == GgmlType::F16 || spec.weight_type == GgmlType::BF16;
  return rounded ? 2e-3 : 1e-5;
}

DecodeVsPrefill decode_vs_prefill(const RandomModelSpec& spec, int n_ctx, int n_tokens) {
  const TempModelFile file(spec);
  const auto model = file.load();
  const ModelConfig& config = model->config();
  const std::vector<int32_t> tokens = random_tokens(n_tokens, config.n_vocab, spec.seed + 100);
  const auto make_trace = [&] {
    return RoutingTrace(config.n_layer, config.n_expert, config.n_expert_used,
                        config.moe_layers());
  };

  CpuBackend backend({.n_threads = 2});
  auto batched_state = backend.new_state(model, n_ctx);
  RoutingTrace batched_trace = make_trace();
  std::vector<float> batched;
  backend.forward(*batched_state, tokens, 0, LogitsMode::All, batched, &batched_trace);

  auto decode_state = backend.new_state(model, n_ctx);
  RoutingTrace decode_trace = make_trace();
  std::vector<float> step;
  DecodeVsPrefill result;
  const auto n_vocab = static_cast<size_t>(config.n_vocab);
  for (size_t t = 0; t < tokens.size(); ++t) {
    backend.forward(*decode_state, std::span(tokens).subspan(t, 1), static_cast<int>(t),
                    LogitsMode::Last, step, &decode_trace);
    const std::span<const float> row(batched.data() + t * n_vocab, n_vocab);
    result.logit_differences.push_back(max_relative_difference(step, row));
  }
  for (int position = 0; position < static_cast<int>(tokens.size()); ++position) {
    for (int layer : config.moe_layers()) {
      if (decode_trace.at(position, layer).experts != batched_trace.at(position, layer).experts)
        result.expert_mismatches.push_back("position " + std::to_string(position) + ", layer " +
                                           std::to_string(layer));
    }
  }
  return result;
}

}  // namespace moe::testing
