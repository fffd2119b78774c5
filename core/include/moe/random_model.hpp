#pragma once
// Generates a small, randomly initialized llama-architecture MoE model as a GGUF file, with a
// byte-level "gpt2" tokenizer so the CLI can run prompts on it. Used by tests and the demo.
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

#include "moe/ggml_types.hpp"
#include "moe/gguf.hpp"

namespace moe {

struct RandomModelSpec {
  std::string name = "moescope-random";
  int n_vocab = 258;  // >= 258 with the tokenizer: 256 byte tokens, <s>, </s>, then unused ones
  int n_embd = 64;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff = 128;     // dense layers
  int n_ff_exp = 64;  // each expert
  int n_expert = 8;
  int n_expert_used = 2;
  std::set<int> dense_layers;            // layers with a dense FFN instead of experts
  GgmlType weight_type = GgmlType::F32;  // matrices; norms and biases stay F32
  uint64_t seed = 1;
  int n_ctx = 512;
  float rms_eps = 1e-5f;
  float rope_base = 10000;
  bool tie_output = false;        // omit output.weight (logits use token_embd)
  bool attention_biases = false;  // add attn_{q,k,v,output}.bias
  bool include_tokenizer = true;
};

// Builds the file in memory. Throws moe::Error for an inconsistent spec (e.g. n_embd not a
// multiple of n_head, rows not a multiple of 32 for Q8_0, n_vocab < 258 with the tokenizer).
gguf::GgufWriter build_random_model(const RandomModelSpec& spec);
// build_random_model(spec).write(path).
void write_random_model(const RandomModelSpec& spec, const std::filesystem::path& path);

}  // namespace moe
