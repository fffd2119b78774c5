#pragma once
// The routing trace: every decision the router made, for every token and every MoE layer.
#include <cstdint>
#include <vector>

namespace moe {

// What the router did for one token at one MoE layer.
struct RoutingRecord {
  std::vector<float> logits;     // router logits, one per expert
  std::vector<float> probs;      // router scores over all experts (softmax of logits)
  std::vector<int32_t> experts;  // chosen experts, highest score first (top_k of them)
  std::vector<float> weights;    // final gate weight of each chosen expert, same order
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
  // True once a record was stored for (token, layer).
  bool has(int token, int layer) const;

private:
  int n_layer_ = 0;
  int n_expert_ = 0;
  int top_k_ = 0;
  std::vector<int> moe_layers_;
  std::vector<int> moe_index_of_layer_;                 // -1 for dense layers
  std::vector<std::vector<RoutingRecord>> records_;     // [token][moe index]
};

}  // namespace moe
