// The routed-experts FFN: route every token, then run each chosen expert once on all the
// tokens that chose it (so its weights are read once per call), and mix by gate weight.
#include <vector>

#include "cpu_kernels.hpp"
#include "router.hpp"

namespace moe::cpu {

void moe_ffn(Kernels& kernels, const Model& model, const LayerWeights& layer, int layer_index,
             const RowMatrix& x, int pos0, const RoutingInterventions& interventions,
             RoutingTrace* trace, RowMatrix& out) {
  const ModelConfig& config = model.config();
  const Eigen::Index n = x.rows();
  RowMatrix router_logits;
  kernels.matmul(WeightMatrix::of(*layer.ffn_gate_inp), x, router_logits);

  std::vector<RouteDecision> decisions;
  route_layer(model, layer_index, router_logits.data(), static_cast<int>(n), pos0, interventions,
              decisions);

  struct Assignment {
    Eigen::Index token;
    float weight;
  };
  std::vector<std::vector<Assignment>> tokens_of_expert(static_cast<size_t>(config.n_expert));
  for (Eigen::Index t = 0; t < n; ++t) {
    RouteDecision& decision = decisions[static_cast<size_t>(t)];
    for (size_t j = 0; j < decision.experts.size(); ++j) {
      tokens_of_expert[static_cast<size_t>(decision.experts[j])].push_back(
          {t, decision.weights[j]});
    }
    if (trace != nullptr) {
      RoutingRecord record;
      const float* logits = router_logits.row(t).data();
      record.logits.assign(logits, logits + config.n_expert);
      record.probs = std::move(decision.probs);
      record.experts = std::move(decision.experts);
      record.weights = std::move(decision.weights);
      record.dropped = std::move(decision.dropped);
      record.pinned = decision.pinned;
      trace->set(pos0 + static_cast<int>(t), layer_index, std::move(record));
    }
  }

  out.setZero(n, config.n_embd);
  RowMatrix expert_in, expert_out;
  // Experts in id order, so each token sums its experts in the same order for any batching.
  for (int e = 0; e < config.n_expert; ++e) {
    const std::vector<Assignment>& assigned = tokens_of_expert[static_cast<size_t>(e)];
    if (assigned.empty()) continue;
    expert_in.resize(static_cast<Eigen::Index>(assigned.size()), x.cols());
    for (size_t i = 0; i < assigned.size(); ++i)
      expert_in.row(static_cast<Eigen::Index>(i)) = x.row(assigned[i].token);
    swiglu(kernels, WeightMatrix::expert(*layer.ffn_gate_exps, e),
           WeightMatrix::expert(*layer.ffn_up_exps, e),
           WeightMatrix::expert(*layer.ffn_down_exps, e), expert_in, expert_out);
    for (size_t i = 0; i < assigned.size(); ++i) {
      out.row(assigned[i].token) +=
          assigned[i].weight * expert_out.row(static_cast<Eigen::Index>(i));
    }
  }
}

}  // namespace moe::cpu
