#pragma once
// A slow, obviously-correct forward pass in double precision, written independently of the
// backends: plain loops, no Eigen, no KV cache (every position's keys and values are computed
// from scratch each call). Reads the weights from the GGUF file through dequantize_row.
// Covers the llama architecture (Mixtral-style routing, optional dense layers and biases).
#include <cstdint>
#include <span>
#include <vector>

#include "moe/gguf.hpp"
#include "moe/interventions.hpp"
#include "reference_routing.hpp"

namespace moe::testing {

struct ReferenceResult {
  int n_vocab = 0;
  std::vector<std::vector<double>> logits;  // [position][token id]
  // [position][layer]; an empty ReferenceRouting for dense layers.
  std::vector<std::vector<ReferenceRouting>> routing;
};

// `interventions` change the routing as moe/interventions.hpp says (reference_routing.hpp); the
// whole sequence is one batch, as a Session computes it under a batch rule.
ReferenceResult reference_forward(const gguf::GgufFile& file, std::span<const int32_t> tokens,
                                  const RoutingInterventions& interventions = {});

}  // namespace moe::testing
