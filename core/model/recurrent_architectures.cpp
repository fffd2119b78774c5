// The hybrid and recurrent architectures of llama.cpp (llm_arch_is_hybrid / _recurrent): each
// named with the layers moescope does not compute, so a user sees why their file is refused.
#include "recurrent_architectures.hpp"

namespace moe {

namespace {

struct RecurrentArchitecture {
  std::string_view name;
  std::string_view layers;  // what it mixes into (or has instead of) attention
};

constexpr RecurrentArchitecture kRecurrent[] = {
    {"qwen3next", "mixes Gated DeltaNet linear-attention layers with attention"},
    {"qwen35", "mixes Gated DeltaNet linear-attention layers with attention"},
    {"qwen35moe", "mixes Gated DeltaNet linear-attention layers with attention"},
    {"kimi-linear", "mixes Kimi Delta Attention linear-attention layers with attention"},
    {"granitehybrid", "mixes Mamba2 state-space layers with attention"},
    {"nemotron_h", "mixes Mamba2 state-space layers with attention"},
    {"nemotron_h_moe", "mixes Mamba2 state-space layers with attention"},
    {"jamba", "mixes Mamba state-space layers with attention"},
    {"falcon-h1", "runs Mamba2 state-space heads beside attention"},
    {"plamo2", "mixes Mamba state-space layers with attention"},
    {"lfm2", "mixes short-convolution blocks with attention"},
    {"lfm2moe", "mixes short-convolution blocks with attention"},
    {"mamba", "is a Mamba state-space model without attention"},
    {"mamba2", "is a Mamba2 state-space model without attention"},
    {"rwkv6", "is an RWKV-6 recurrent model without attention"},
    {"rwkv6qwen2", "is an RWKV-6 recurrent model without attention"},
    {"rwkv7", "is an RWKV-7 recurrent model without attention"},
    {"arwkv7", "is an RWKV-7 recurrent model without attention"},
};

}  // namespace

std::string recurrent_architecture_reason(std::string_view name) {
  for (const RecurrentArchitecture& arch : kRecurrent) {
    if (arch.name == name) {
      return std::string(name) + " " + std::string(arch.layers) +
             "; moescope computes attention-only models";
    }
  }
  return "";
}

}  // namespace moe
