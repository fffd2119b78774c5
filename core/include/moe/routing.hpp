#pragma once
// The routing trace: every decision the router made, for every token and every MoE layer.
#include <cstdint>
#include <utility>
#include <vector>

#include "moe/arch.hpp"
#include "moe/interventions.hpp"

namespace moe {

// The gating rule the router applied at the layer (the model's, with the user's scoring and
// bias knobs), so a view can explain the numbers without the model.
struct RecordedGate {
  GatingFunction gating = GatingFunction::Softmax;
  bool normalized = true;  // chosen weights divided by their sum
  float scale = 1;         // then multiplied by this
  float temperature = 1;   // logits divided by this before scoring (a knob)
  float noise_scale = 0;   // noise added to the logits before that (a knob)
  // Empty, or per expert the bias added to the scores to choose (not to weigh) the experts.
  std::vector<float> selection_bias;
  // Group-limited routing (DeepSeek-V3): experts in n_groups groups of consecutive ids, the
  // choice limited to the best n_groups_used of them. n_groups <= 1: no limit.
  int n_groups = 0;
  int n_groups_used = 0;
  // llama4: each weight scales its expert's input, y = sum E_i(w_i x), not its output.
  bool weights_on_input = false;
};

// The layer's arithmetic for one token, in norms and a few values (the trace holds one per
// token and MoE layer, so it stays small). Filled by the backends that can compute it cheaply.
struct LayerValues {
  static constexpr int kInputHead = 16;
  bool available = false;            // false: this backend does not record them
  float input_norm = 0;              // |x| of the FFN input (after the FFN norm)
  std::vector<float> input_head;     // the first kInputHead values of x
  std::vector<float> expert_norms;   // |E_i(x)| per chosen expert, order of `experts`
  float routed_norm = 0;             // |sum_i w_i E_i(x)|
  bool has_shared = false;           // the layer has shared experts
  float shared_norm = 0;             // |shared experts' output| (gated where the model gates it)
  float output_norm = 0;             // |y|, y = routed + shared: what the layer adds to the
                                     // residual (before a model's residual scale)
};

// What the router did for one token at one MoE layer.
struct RoutingRecord {
  std::vector<float> logits;     // router logits, one per expert
  std::vector<float> probs;      // router scores over all experts (softmax of logits; 0 for
                                 // experts an intervention disabled)
  std::vector<int32_t> experts;  // chosen experts, highest score first (top_k of them without
                                 // interventions; 0 .. n_expert under capacity/expert-choice)
  std::vector<float> weights;    // final gate weight of each chosen expert, same order
  std::vector<int32_t> dropped;  // chosen by the token but dropped for capacity (rank order)
  bool pinned = false;           // an intervention forced an expert into `experts`
  std::vector<int32_t> groups;   // group-limited routing: the groups chosen from, best first
  RecordedGate gate;             // how probs and weights were computed
  LayerValues values;            // the layer's output for this token, in norms
};

// Records indexed by (token position, model layer). Only MoE layers have records; dense layers
// are listed by `moe_layers()` being absent from it.
class RoutingTrace {
public:
  RoutingTrace() = default;
  RoutingTrace(int n_layer, int n_expert, int top_k, std::vector<int> moe_layers);

  int n_layer() const { return n_layer_; }
  int n_expert() const { return n_expert_; }
  int top_k() const { return top_k_; }
  const std::vector<int>& moe_layers() const { return moe_layers_; }
  // Index of `layer` among the MoE layers, or -1 for a dense layer / out of range.
  int moe_index(int layer) const;
  bool is_moe_layer(int layer) const { return moe_index(layer) >= 0; }

  int n_tokens() const { return static_cast<int>(records_.size()); }
  // Keeps the first `n_tokens` positions (used when the prompt is edited) or grows with empty records.
  void resize(int n_tokens);
  // Stores the record for (token, layer); grows the trace if `token` is past its end.
  void set(int token, int layer, RoutingRecord record);
  const RoutingRecord& at(int token, int layer) const;  // throws std::out_of_range
  // True once a record was stored for (token, layer) (it may have no chosen expert under the
  // capacity / expert-choice rules).
  bool has(int token, int layer) const;

  // True for a trace that holds only the chosen experts (an inference server's answer or an
  // imported file, moe/chosen_experts.hpp): records have `experts` in the source's order and
  // equal `weights`, but no `logits` and `probs`. What needs router scores says so instead.
  bool chosen_experts_only() const { return chosen_experts_only_; }
  void set_chosen_experts_only(bool only) { chosen_experts_only_ = only; }

  // The routing interventions active when the records were computed (empty(): the model's own).
  const RoutingInterventions& interventions() const { return interventions_; }
  void set_interventions(RoutingInterventions interventions) {
    interventions_ = std::move(interventions);
  }

private:
  int n_layer_ = 0;
  int n_expert_ = 0;
  int top_k_ = 0;
  std::vector<int> moe_layers_;
  std::vector<int> moe_index_of_layer_;                 // -1 for dense layers
  std::vector<std::vector<RoutingRecord>> records_;     // [token][moe index]
  RoutingInterventions interventions_;
  bool chosen_experts_only_ = false;
};

}  // namespace moe
