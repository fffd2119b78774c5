#include <stdexcept>
#include <string>
#include <utility>

#include "moe/routing.hpp"

namespace moe {

RoutingTrace::RoutingTrace(int n_layer, int n_expert, int top_k, std::vector<int> moe_layers)
    : n_layer_(n_layer), n_expert_(n_expert), top_k_(top_k), moe_layers_(std::move(moe_layers)),
      moe_index_of_layer_(static_cast<size_t>(n_layer > 0 ? n_layer : 0), -1) {
  for (size_t i = 0; i < moe_layers_.size(); ++i) {
    const int layer = moe_layers_[i];
    if (layer < 0 || layer >= n_layer) {
      throw std::out_of_range("RoutingTrace: MoE layer " + std::to_string(layer) +
                              " outside 0.." + std::to_string(n_layer - 1));
    }
    moe_index_of_layer_[static_cast<size_t>(layer)] = static_cast<int>(i);
  }
}

int RoutingTrace::moe_index(int layer) const {
  if (layer < 0 || layer >= n_layer_) return -1;
  return moe_index_of_layer_[static_cast<size_t>(layer)];
}

void RoutingTrace::resize(int n_tokens) {
  records_.resize(static_cast<size_t>(n_tokens < 0 ? 0 : n_tokens),
                  std::vector<RoutingRecord>(moe_layers_.size()));
}

void RoutingTrace::set(int token, int layer, RoutingRecord record) {
  const int index = moe_index(layer);
  if (token < 0 || index < 0) {
    throw std::out_of_range("RoutingTrace::set: token " + std::to_string(token) + ", layer " +
                            std::to_string(layer) + " is not a MoE layer");
  }
  if (token >= n_tokens()) resize(token + 1);
  records_[static_cast<size_t>(token)][static_cast<size_t>(index)] = std::move(record);
}

const RoutingRecord& RoutingTrace::at(int token, int layer) const {
  const int index = moe_index(layer);
  if (token < 0 || token >= n_tokens() || index < 0) {
    throw std::out_of_range("RoutingTrace::at: no record for token " + std::to_string(token) +
                            " at layer " + std::to_string(layer));
  }
  return records_[static_cast<size_t>(token)][static_cast<size_t>(index)];
}

bool RoutingTrace::has(int token, int layer) const {
  const int index = moe_index(layer);
  if (token < 0 || token >= n_tokens() || index < 0) return false;
  // A record of a chosen-experts-only trace has experts but no scores.
  const RoutingRecord& record = records_[static_cast<size_t>(token)][static_cast<size_t>(index)];
  return !record.probs.empty() || !record.experts.empty();
}

}  // namespace moe
