// A trained model's parameters to a GGUF file (moe/train_model_to_gguf.hpp). The parameter
// layout already is the GGUF layout, so each tensor is one slice of the parameter vector.
#include "moe/error.hpp"
#include "moe/train_model_to_gguf.hpp"

namespace moe::train {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// llama.cpp's general.file_type ("mostly" type) numbering.
uint32_t file_type(GgmlType type) {
  switch (type) {
    case GgmlType::F16:
      return 1;
    case GgmlType::Q8_0:
      return 7;
    case GgmlType::BF16:
      return 32;
    default:
      return 0;
  }
}

}  // namespace

gguf::GgufWriter build_export(const ParameterLayout& layout, std::span<const float> params,
                              const TokenizerVocab& vocab, const ExportOptions& options) {
  const ModelShape& s = layout.shape();
  if (params.size() != layout.size())
    throw Error("export: parameter count does not match the model shape");
  if (static_cast<int>(vocab.tokens.size()) != s.n_vocab) {
    throw Error("export: the tokenizer has " + std::to_string(vocab.tokens.size()) +
                " tokens, the model " + std::to_string(s.n_vocab));
  }
  const GgmlType type = options.weight_type;
  if (type != GgmlType::F32 && type != GgmlType::F16 && type != GgmlType::BF16 &&
      type != GgmlType::Q8_0) {
    throw Error("export: weight type " + type_name(type) +
                " is not supported (use F32, F16, BF16 or Q8_0)");
  }
  const auto u32 = [](int v) { return static_cast<uint32_t>(v); };
  gguf::GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_string("general.name", options.name);
  if (!options.description.empty()) writer.set_string("general.description", options.description);
  writer.set_u32("general.file_type", file_type(type));
  writer.set_u32("llama.context_length", u32(s.n_ctx));
  writer.set_u32("llama.embedding_length", u32(s.n_embd));
  writer.set_u32("llama.block_count", u32(s.n_layer));
  writer.set_u32("llama.feed_forward_length", u32(s.n_ff_exp));  // every layer is MoE
  writer.set_u32("llama.expert_feed_forward_length", u32(s.n_ff_exp));
  writer.set_u32("llama.attention.head_count", u32(s.n_head));
  writer.set_u32("llama.attention.head_count_kv", u32(s.n_head_kv));
  writer.set_f32("llama.attention.layer_norm_rms_epsilon", s.rms_eps);
  writer.set_f32("llama.rope.freq_base", s.rope_base);
  writer.set_u32("llama.rope.dimension_count", u32(s.head_dim()));
  writer.set_u32("llama.vocab_size", u32(s.n_vocab));
  writer.set_u32("llama.expert_count", u32(s.n_expert));
  writer.set_u32("llama.expert_used_count", u32(s.top_k));
  write_tokenizer_vocab(writer, vocab);
  writer.set_bool("tokenizer.ggml.add_bos_token", true);  // documents were trained as <s> … </s>
  writer.set_bool("tokenizer.ggml.add_eos_token", false);

  for (const ParameterTensor& tensor : layout.tensors()) {
    const std::span<const float> values = params.subspan(tensor.offset, tensor.size);
    GgmlType store = type;
    if (tensor.is_norm || ends_with(tensor.name, "ffn_gate_inp.weight")) {
      store = GgmlType::F32;
    } else if (store == GgmlType::Q8_0 && tensor.dims[0] % 32 != 0) {
      store = GgmlType::F16;
    }
    writer.add_tensor_f32(tensor.name, tensor.dims, values, store);
  }
  return writer;
}

void export_gguf(const std::filesystem::path& path, const ParameterLayout& layout,
                 std::span<const float> params, const TokenizerVocab& vocab,
                 const ExportOptions& options) {
  if (!path.parent_path().empty()) std::filesystem::create_directories(path.parent_path());
  build_export(layout, params, vocab, options).write(path);
}

}  // namespace moe::train
