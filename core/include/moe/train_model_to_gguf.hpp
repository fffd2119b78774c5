#pragma once
// A trained model written as a GGUF file in the llama-family MoE layout that moe::Model::load reads
// (and llama.cpp too): general.architecture "llama", llama.* hyper-parameters with
// expert_count / expert_used_count, token_embd, output_norm, output (absent when tied),
// blk.N.attn_{norm,q,k,v,output}, blk.N.ffn_norm, ffn_gate_inp, ffn_{gate,up,down}_exps, and the
// tokenizer's tokenizer.ggml.* keys.
#include <filesystem>
#include <span>
#include <string>

#include "moe/ggml_types.hpp"
#include "moe/gguf.hpp"
#include "moe/tokenizer.hpp"
#include "moe/train_model.hpp"

namespace moe::train {

struct ExportOptions {
  std::string name = "moescope-moe";  // general.name
  std::string description;            // general.description (omitted when empty)
  // Matrices: F32, F16, BF16 or Q8_0. Norm weights and the router stay F32 (the router is tiny
  // and routing decisions are what this model is for). A Q8_0 matrix whose rows are not a
  // multiple of 32 falls back to F16.
  GgmlType weight_type = GgmlType::F16;
};

// The GGUF file of a model (export_gguf writes it to `path`, creating the folder).
gguf::GgufWriter build_export(const ParameterLayout& layout, std::span<const float> params,
                              const TokenizerVocab& vocab, const ExportOptions& options);
void export_gguf(const std::filesystem::path& path, const ParameterLayout& layout,
                 std::span<const float> params, const TokenizerVocab& vocab,
                 const ExportOptions& options);

}  // namespace moe::train
