// Checkpoints as GGUF files (see train_checkpoint.hpp).
#include <cstring>

#include "moe/error.hpp"
#include "moe/gguf.hpp"
#include "moe/train_checkpoint.hpp"

namespace moe::train {

namespace {

constexpr const char* kPrefix = "moescope.train.";
constexpr uint32_t kFormatVersion = 1;

struct ShapeField {
  const char* key;
  int ModelShape::*field;
};
constexpr ShapeField kShapeFields[] = {
    {"n_vocab", &ModelShape::n_vocab},   {"n_ctx", &ModelShape::n_ctx},
    {"n_embd", &ModelShape::n_embd},     {"n_layer", &ModelShape::n_layer},
    {"n_head", &ModelShape::n_head},     {"n_head_kv", &ModelShape::n_head_kv},
    {"n_ff_exp", &ModelShape::n_ff_exp}, {"n_expert", &ModelShape::n_expert},
    {"top_k", &ModelShape::top_k},
};

std::string key(const char* name) { return std::string(kPrefix) + name; }

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const CheckpointData& data) {
  const ParameterLayout layout(data.shape);
  if (data.params.size() != layout.size() || data.adam_m.size() != layout.size() ||
      data.adam_v.size() != layout.size()) {
    throw Error("save_checkpoint: state sizes do not match the model shape");
  }
  gguf::GgufWriter writer;
  writer.set_u32(key("format_version"), kFormatVersion);
  for (const ShapeField& f : kShapeFields)
    writer.set_u32(key(f.key), static_cast<uint32_t>(data.shape.*f.field));
  writer.set_bool(key("tied_output"), data.shape.tied_output);
  writer.set_f32(key("rms_eps"), data.shape.rms_eps);
  writer.set_f32(key("rope_base"), data.shape.rope_base);
  writer.set_u64(key("seed"), data.seed);
  writer.set_u64(key("step"), static_cast<uint64_t>(data.step));
  writer.set_u64(key("tokens_seen"), static_cast<uint64_t>(data.tokens_seen));
  if (data.tokenizer) write_tokenizer_vocab(writer, *data.tokenizer);
  for (const ParameterTensor& tensor : layout.tensors()) {
    const auto slice = [&](const std::vector<float>& values) {
      return std::span<const float>(values.data() + tensor.offset, tensor.size);
    };
    writer.add_tensor_f32("param." + tensor.name, tensor.dims, slice(data.params));
    writer.add_tensor_f32("adam_m." + tensor.name, tensor.dims, slice(data.adam_m));
    writer.add_tensor_f32("adam_v." + tensor.name, tensor.dims, slice(data.adam_v));
  }
  std::filesystem::create_directories(path.parent_path().empty() ? std::filesystem::path(".")
                                                                 : path.parent_path());
  writer.write(path);
}

CheckpointData load_checkpoint(const std::filesystem::path& path) {
  const gguf::GgufFile file = gguf::GgufFile::open(path);
  const std::string where = " in checkpoint " + path.string();
  if (file.get_uint_or(key("format_version"), 0) != kFormatVersion) {
    throw Error("not a moescope training checkpoint (or an unsupported version)" + where);
  }
  CheckpointData data;
  for (const ShapeField& f : kShapeFields)
    data.shape.*f.field = static_cast<int>(file.get_uint(key(f.key)));
  data.shape.tied_output = file.get_bool(key("tied_output"));
  data.shape.rms_eps = static_cast<float>(file.get_double(key("rms_eps")));
  data.shape.rope_base = static_cast<float>(file.get_double(key("rope_base")));
  data.seed = file.get_uint(key("seed"));
  data.step = static_cast<int64_t>(file.get_uint(key("step")));
  data.tokens_seen = static_cast<int64_t>(file.get_uint(key("tokens_seen")));
  if (file.find("tokenizer.ggml.tokens") != nullptr) data.tokenizer = read_tokenizer_vocab(file);
  const ParameterLayout layout(data.shape);
  data.params.resize(layout.size());
  data.adam_m.resize(layout.size());
  data.adam_v.resize(layout.size());
  for (const ParameterTensor& tensor : layout.tensors()) {
    const auto read = [&](const std::string& prefix, std::vector<float>& values) {
      const gguf::TensorInfo* info = file.find_tensor(prefix + tensor.name);
      if (info == nullptr) throw Error("missing tensor '" + prefix + tensor.name + "'" + where);
      if (info->type != GgmlType::F32 || info->dims != tensor.dims) {
        throw Error("tensor '" + prefix + tensor.name + "' has the wrong type or shape" + where);
      }
      std::memcpy(values.data() + tensor.offset, info->data, tensor.size * sizeof(float));
    };
    read("param.", data.params);
    read("adam_m.", data.adam_m);
    read("adam_v.", data.adam_v);
  }
  return data;
}

std::optional<TokenizerVocab> load_checkpoint_tokenizer(const std::filesystem::path& path) {
  const gguf::GgufFile file = gguf::GgufFile::open(path);
  if (file.get_uint_or(key("format_version"), 0) != kFormatVersion) {
    throw Error("not a moescope training checkpoint (or an unsupported version) in checkpoint " +
                path.string());
  }
  if (file.find("tokenizer.ggml.tokens") == nullptr) return std::nullopt;
  return read_tokenizer_vocab(file);
}

}  // namespace moe::train
