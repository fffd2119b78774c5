// The routed-experts FFN: route every token, then run each chosen expert once on all the
// tokens that chose it (so its weights are read once per call), and mix by gate weight.
#include <algorithm>
#include <vector>

#include "cpu_kernels.hpp"
#include "moe/router.hpp"

namespace moe::cpu {

namespace {

// gpt-oss's per-expert biases of the gate, up and down projections, as f32 (empty if none):
// row e of each belongs to expert e.
struct ExpertBiases {
  explicit ExpertBiases(const LayerWeights& layer) {
    load(layer.ffn_gate_exps_bias, gate);
    load(layer.ffn_up_exps_bias, up);
    load(layer.ffn_down_exps_bias, down);
  }
  static void load(const gguf::TensorInfo* tensor, RowMatrix& into) {
    if (tensor == nullptr) return;
    into.resize(static_cast<Eigen::Index>(tensor->dims[1]),
                static_cast<Eigen::Index>(tensor->dims[0]));
    WeightMatrix::of(*tensor).rows_to_f32(0, into.rows(), into.data());
  }
  RowMatrix gate, up, down;
};

void add_expert_bias(const RowMatrix& bias, int expert, RowMatrix& rows) {
  if (bias.size() == 0) return;
  rows.rowwise() += bias.row(expert);
}

}  // namespace

void moe_ffn(Kernels& kernels, const Model& model, const LayerWeights& layer, int layer_index,
             const RowMatrix& x, int pos0, const RoutingInterventions& interventions,
             RoutingTrace* trace, RowMatrix& out) {
  const ModelConfig& config = model.config();
  const Eigen::Index n = x.rows();
  RowMatrix router_logits;
  kernels.matmul(WeightMatrix::of(*layer.ffn_gate_inp), x, router_logits);
  std::vector<float> bias_storage;
  if (layer.ffn_gate_inp_bias != nullptr) {  // gpt-oss: the logits are biased
    const std::span<const float> bias = vector_f32(*layer.ffn_gate_inp_bias, bias_storage);
    router_logits.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias.data(), config.n_expert);
  }

  std::vector<RouteDecision> decisions;
  route_layer(model, layer_index, router_logits.data(), static_cast<int>(n), pos0, interventions,
              decisions);

  struct Assignment {
    Eigen::Index token;
    float weight;
    size_t rank;  // index in the token's decision.experts
  };
  std::vector<std::vector<Assignment>> tokens_of_expert(static_cast<size_t>(config.n_expert));
  for (Eigen::Index t = 0; t < n; ++t) {
    RouteDecision& decision = decisions[static_cast<size_t>(t)];
    for (size_t j = 0; j < decision.experts.size(); ++j) {
      tokens_of_expert[static_cast<size_t>(decision.experts[j])].push_back(
          {t, decision.weights[j], j});
    }
  }
  // Each token's weighted expert outputs w_i * E_i(x), kept by rank (slot token * max_rank +
  // rank) and summed in rank order at the end, as llama.cpp adds them: the order of a float sum
  // moves the result by an ulp, enough to flip a later 8-bit activation code now and then.
  size_t max_rank = 0;
  for (const RouteDecision& decision : decisions)
    max_rank = std::max(max_rank, decision.experts.size());
  RowMatrix weighted(n * static_cast<Eigen::Index>(max_rank), config.n_embd);
  std::vector<float> norm_of_slot(trace != nullptr ? static_cast<size_t>(weighted.rows()) : 0);
  const auto slot = [&](Eigen::Index token, size_t rank) {
    return token * static_cast<Eigen::Index>(max_rank) + static_cast<Eigen::Index>(rank);
  };

  // The chosen experts' SwiGLUs together: all gate and up products in one parallel run, then
  // all down products in another (two fork-joins per layer instead of three per expert, which
  // matters for one decoded token). Long prompts go in groups of experts with at most
  // kGroupRows token rows, so the intermediate matrices stay small.
  constexpr size_t kGroupRows = 512;
  out.setZero(n, config.n_embd);
  const ExpertBiases biases(layer);
  std::vector<int> group;
  std::vector<RowMatrix> expert_in, gated, upped, expert_out;
  std::vector<Kernels::MatmulJob> jobs;
  int next_expert = 0;
  while (next_expert < config.n_expert) {
    group.clear();
    size_t rows = 0;
    for (; next_expert < config.n_expert; ++next_expert) {
      const size_t assigned = tokens_of_expert[static_cast<size_t>(next_expert)].size();
      if (assigned == 0) continue;
      if (!group.empty() && rows + assigned > kGroupRows) break;
      group.push_back(next_expert);
      rows += assigned;
    }
    const size_t n_group = group.size();
    expert_in.resize(n_group), gated.resize(n_group), upped.resize(n_group);
    expert_out.resize(n_group);
    jobs.clear();
    for (size_t a = 0; a < n_group; ++a) {
      const std::vector<Assignment>& assigned = tokens_of_expert[static_cast<size_t>(group[a])];
      // An expert that every token chose (always, for one decoded token) reads x itself, so
      // matmul_many quantizes it once for all such experts instead of once per copy.
      // llama4 scales each token's input by its gate weight instead of the expert's output.
      const RowMatrix* input = &x;
      if (static_cast<Eigen::Index>(assigned.size()) != n || config.expert_input_weighted) {
        expert_in[a].resize(static_cast<Eigen::Index>(assigned.size()), x.cols());
        for (size_t i = 0; i < assigned.size(); ++i) {
          auto row = expert_in[a].row(static_cast<Eigen::Index>(i));
          row = x.row(assigned[i].token);
          if (config.expert_input_weighted) row *= assigned[i].weight;
        }
        input = &expert_in[a];
      }
      jobs.push_back({WeightMatrix::expert(*layer.ffn_gate_exps, group[a]), input, &gated[a]});
      jobs.push_back({WeightMatrix::expert(*layer.ffn_up_exps, group[a]), input, &upped[a]});
    }
    kernels.matmul_many(jobs);
    jobs.clear();
    for (size_t a = 0; a < n_group; ++a) {
      add_expert_bias(biases.gate, group[a], gated[a]);
      add_expert_bias(biases.up, group[a], upped[a]);
      expert_activation(config.expert_activation, gated[a], upped[a]);
      jobs.push_back(
          {WeightMatrix::expert(*layer.ffn_down_exps, group[a]), &gated[a], &expert_out[a]});
    }
    kernels.matmul_many(jobs);
    for (size_t a = 0; a < n_group; ++a) add_expert_bias(biases.down, group[a], expert_out[a]);
    for (size_t a = 0; a < n_group; ++a) {
      const std::vector<Assignment>& assigned = tokens_of_expert[static_cast<size_t>(group[a])];
      for (size_t i = 0; i < assigned.size(); ++i) {
        const auto row = expert_out[a].row(static_cast<Eigen::Index>(i));
        const Eigen::Index at = slot(assigned[i].token, assigned[i].rank);
        if (config.expert_input_weighted) {
          weighted.row(at) = row;
        } else {
          weighted.row(at) = assigned[i].weight * row;
        }
        if (trace != nullptr) norm_of_slot[static_cast<size_t>(at)] = row.norm();
      }
    }
  }
  // Per token, |E_i(x)| of each chosen expert (for the trace), and the mix in rank order.
  std::vector<std::vector<float>> expert_norms(static_cast<size_t>(n));
  for (Eigen::Index t = 0; t < n; ++t) {
    const RouteDecision& decision = decisions[static_cast<size_t>(t)];
    for (size_t rank = 0; rank < decision.experts.size(); ++rank) {
      out.row(t) += weighted.row(slot(t, rank));
      if (trace != nullptr)
        expert_norms[static_cast<size_t>(t)].push_back(
            norm_of_slot[static_cast<size_t>(slot(t, rank))]);
    }
  }

  RowMatrix shared;
  const bool has_shared = shared_experts(kernels, config, layer, x, shared);
  if (trace != nullptr) {
    for (Eigen::Index t = 0; t < n; ++t) {
      LayerValues values;
      values.available = true;
      values.input_norm = x.row(t).norm();
      const Eigen::Index head = std::min<Eigen::Index>(LayerValues::kInputHead, x.cols());
      values.input_head.assign(x.row(t).data(), x.row(t).data() + head);
      values.expert_norms = std::move(expert_norms[static_cast<size_t>(t)]);
      values.routed_norm = out.row(t).norm();
      values.has_shared = has_shared;
      if (has_shared) {
        values.shared_norm = shared.row(t).norm();
        values.output_norm = (out.row(t) + shared.row(t)).norm();
      } else {
        values.output_norm = values.routed_norm;
      }
      const std::span<const float> logits(router_logits.row(t).data(),
                                          static_cast<size_t>(config.n_expert));
      RoutingRecord record = routing_record(logits, std::move(decisions[static_cast<size_t>(t)]));
      record.values = std::move(values);
      trace->set(pos0 + static_cast<int>(t), layer_index, std::move(record));
    }
  }
  if (has_shared) out += shared;
}

}  // namespace moe::cpu
