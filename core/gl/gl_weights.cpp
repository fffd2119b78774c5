#include "gl_weights.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "moe/error.hpp"
#include "moe/tensor_schema.hpp"

namespace moe::gl {

namespace {

// What the shaders of this backend compute, as the tensor roles they implement: RMSNorm,
// q, k and v projections with optional biases and q/k norms (before RoPE), RoPE with any
// scaling (the CPU backend's RopeParams), shared experts, an optional output-projection bias, SwiGLU
// experts and dense layers. Routing is the shared route_layer's, so every gating rule, the
// selection bias and every intervention the CPU backend applies apply here.
constexpr TensorRole kImplementedRoles[] = {
    TensorRole::TokenEmbedding, TensorRole::OutputNorm, TensorRole::Output,
    TensorRole::AttnNorm,       TensorRole::AttnQ,      TensorRole::AttnK,
    TensorRole::AttnV,          TensorRole::AttnOutput, TensorRole::AttnQBias,
    TensorRole::AttnKBias,      TensorRole::AttnVBias,  TensorRole::AttnOutputBias,
    TensorRole::FfnNorm,        TensorRole::FfnGate,    TensorRole::FfnUp,
    TensorRole::FfnDown,        TensorRole::Router,     TensorRole::GateExps,
    TensorRole::UpExps,         TensorRole::DownExps,   TensorRole::SelectionBias,
    TensorRole::AttnQNorm,      TensorRole::AttnKNorm,  TensorRole::SharedGate,
    TensorRole::SharedUp,       TensorRole::SharedDown, TensorRole::SharedExpertGate,
    TensorRole::RopeFreqs,      TensorRole::RopeFactorsLong, TensorRole::RopeFactorsShort,
};

bool implemented(TensorRole role) {
  for (TensorRole known : kImplementedRoles) {
    if (known == role) return true;
  }
  return false;
}

// Refuses a model that needs a capability the shaders lack, naming it (whatever the
// architecture is called), so no model runs with a step silently skipped: a tensor role they do
// not implement (shared experts, norm biases, q/k norms, latent attention, RoPE factors, an
// output bias ...) or a setting they do not apply.
void check_capabilities(const Model& model) {
  const ModelConfig& config = model.config();
  // "... does not support q/k norms (tensor blk.0.attn_q_norm.weight, architecture olmoe) yet"
  const auto refuse = [&](const std::string& feature, const std::string& where = "") {
    throw Error("the GL backend does not support " + feature + " (" + where + "architecture " +
                model.architecture().name + ") yet; use --backend cpu");
  };
  for (const BoundTensor& bound : model.bound_tensors()) {
    if (!implemented(bound.role))
      refuse(std::string(tensor_role_feature(bound.role)), "tensor " + bound.tensor->name + ", ");
  }
  // The capabilities of the architectures added for issue 17, until the GPU covers them.
  const Architecture& arch = model.architecture();
  if (arch.norm != NormKind::Rms) refuse("LayerNorm");
  if (config.clamp_kqv > 0) refuse("clamped q/k/v (attention.clamp_kqv)");
  for (int window : config.attention_window)
    if (window > 0) refuse("sliding-window attention");
  if (arch.hunyuan_moe || config.qk_l2_norm) refuse("q/k norms after RoPE");
  for (int chunk : config.attention_chunk)
    if (chunk > 0) refuse("chunked attention");
  for (bool rotates : config.layer_rotates)
    if (!rotates) refuse("layers without RoPE (NoPE)");
  if (config.expert_input_weighted) refuse("gate weights on the experts' input");
  if (config.attn_softcap > 0 || config.final_softcap > 0) refuse("soft-capped scores or logits");
  if (config.expert_activation != ExpertActivation::SwiGlu) refuse("this expert activation");
  if (config.head_dim > 256 || config.head_dim_v > 256) refuse("heads wider than 256");
  if (config.head_dim % 4 != 0) refuse("a head size that is not a multiple of 4");
  // The residual multiplier scales the attention output before its bias is added on the CPU;
  // the shaders add the bias after scaling, so that pair is refused rather than approximated.
  if (config.residual_scale != 1 && model.layer(0).attn_output_bias != nullptr)
    refuse("a residual multiplier with an output-projection bias");
}

size_t tensor_bytes(const gguf::TensorInfo& tensor) {
  const auto layout = type_layout(static_cast<uint32_t>(tensor.type));
  return static_cast<size_t>(tensor.n_elements) / layout->block_size * layout->block_bytes;
}

void check_size(const Device& device, const gguf::TensorInfo& tensor) {
  const size_t bytes = tensor_bytes(tensor);
  if (bytes + 64 > static_cast<size_t>(device.max_storage_block_bytes)) {
    throw Error("tensor " + tensor.name + " (" + std::to_string(bytes >> 20) +
                " MiB) is larger than this GL device's largest storage buffer (" +
                std::to_string(device.max_storage_block_bytes >> 20) + " MiB); use --backend cpu");
  }
}

// The matrix's shape and type (checked, and its matmul program compiled), without uploading it.
Matrix describe_matrix(Device& device, const gguf::TensorInfo& tensor) {
  if (!matmul_supports(tensor.type)) {
    throw Error("the GL backend does not support tensor type " + type_name(tensor.type) +
                " (tensor " + tensor.name + ") yet; use --backend cpu");
  }
  device.matmul_program(tensor.type);
  const uint64_t cols = tensor.dims.at(0);
  if (cols % 32 != 0) {
    throw Error("the GL backend needs matrix widths that are multiples of 32; tensor " +
                tensor.name + " has " + std::to_string(cols) + "; use --backend cpu");
  }
  check_size(device, tensor);
  Matrix matrix;
  matrix.type = tensor.type;
  matrix.cols = static_cast<unsigned>(cols);
  matrix.rows = static_cast<unsigned>(tensor.dims.size() > 1 ? tensor.dims[1] : 1);
  const auto layout = type_layout(static_cast<uint32_t>(tensor.type));
  matrix.row_bytes = static_cast<unsigned>(cols / layout->block_size * layout->block_bytes);
  matrix.matrix_bytes = matrix.row_bytes * matrix.rows;
  return matrix;
}

Matrix upload_matrix(Device& device, const gguf::TensorInfo& tensor) {
  Matrix matrix = describe_matrix(device, tensor);
  matrix.buffer = Buffer(tensor.data, tensor_bytes(tensor));
  return matrix;
}

// The tensors as one matrix with their rows concatenated (per expert for 3-D expert tensors),
// or uploaded separately when their types or widths differ.
FusedMatrix upload_fused(Device& device, std::vector<const gguf::TensorInfo*> tensors) {
  FusedMatrix fused;
  const auto n_matrices_of = [](const gguf::TensorInfo* tensor) -> size_t {
    return tensor->dims.size() > 2 ? tensor->dims[2] : 1;
  };
  bool same = true;
  std::vector<Matrix> parts;
  for (const gguf::TensorInfo* tensor : tensors) {
    same = same && tensor->type == tensors[0]->type && tensor->dims[0] == tensors[0]->dims[0] &&
           n_matrices_of(tensor) == n_matrices_of(tensors[0]);
    parts.push_back(describe_matrix(device, *tensor));
    fused.rows += parts.back().rows;
  }
  if (!same) {
    for (const gguf::TensorInfo* tensor : tensors)
      fused.parts.push_back(upload_matrix(device, *tensor));
    return fused;
  }
  unsigned matrix_bytes = 0;
  for (const Matrix& part : parts) matrix_bytes += part.matrix_bytes;
  Matrix matrix;  // the parts' type, width and row size; their rows together
  matrix.type = parts[0].type;
  matrix.cols = parts[0].cols;
  matrix.row_bytes = parts[0].row_bytes;
  matrix.rows = fused.rows;
  matrix.matrix_bytes = matrix_bytes;
  const size_t n_matrices = n_matrices_of(tensors[0]);
  const size_t total = static_cast<size_t>(matrix.matrix_bytes) * n_matrices;
  if (total + 64 > static_cast<size_t>(device.max_storage_block_bytes)) {
    throw Error("tensor " + tensors[0]->name + " and the ones fused with it (" +
                std::to_string(total >> 20) +
                " MiB) are larger than this GL device's largest storage buffer (" +
                std::to_string(device.max_storage_block_bytes >> 20) + " MiB); use --backend cpu");
  }
  std::vector<uint8_t> bytes(total);
  size_t at = 0;
  for (size_t m = 0; m < n_matrices; ++m) {
    for (size_t i = 0; i < tensors.size(); ++i) {
      const size_t part_bytes = parts[i].matrix_bytes;
      std::memcpy(bytes.data() + at, tensors[i]->data + m * part_bytes, part_bytes);
      at += part_bytes;
    }
  }
  matrix.buffer = Buffer(bytes.data(), bytes.size());
  fused.parts.push_back(std::move(matrix));
  return fused;
}

// Biases side by side (zeros for absent ones); size 0 when all are absent.
Vector concatenated_bias(const std::vector<std::pair<const gguf::TensorInfo*, int>>& parts) {
  Vector vector;
  bool any = false;
  std::vector<float> values;
  for (const auto& [tensor, width] : parts) {
    const size_t at = values.size();
    values.resize(at + static_cast<size_t>(width), 0.0f);
    if (tensor == nullptr) continue;
    any = true;
    dequantize_row(tensor->type, tensor->data, values.data() + at, width);
  }
  if (!any) return vector;
  vector.size = static_cast<unsigned>(values.size());
  vector.buffer = Buffer(values.data(), values.size() * sizeof(float));
  return vector;
}

Vector upload_vector(const gguf::TensorInfo* tensor) {
  Vector vector;
  if (tensor == nullptr) return vector;
  std::vector<float> values(static_cast<size_t>(tensor->n_elements));
  dequantize_row(tensor->type, tensor->data, values.data(), static_cast<int64_t>(values.size()));
  vector.size = static_cast<unsigned>(values.size());
  vector.buffer = Buffer(values.data(), values.size() * sizeof(float));
  return vector;
}

}  // namespace

Weights::Weights(std::shared_ptr<Device> device, std::shared_ptr<const Model> model)
    : device_(std::move(device)), model_(std::move(model)) {
  check_capabilities(*model_);
  const ModelConfig& config = model_->config();
  output_norm_ = upload_vector(&model_->output_norm());
  output_ = upload_matrix(*device_, model_->output());
  layers_.resize(static_cast<size_t>(config.n_layer));
  for (int il = 0; il < config.n_layer; ++il) {
    const LayerWeights& in = model_->layer(il);
    LayerBuffers& out = layers_[static_cast<size_t>(il)];
    out.attn_norm = upload_vector(in.attn_norm);
    out.ffn_norm = upload_vector(in.ffn_norm);
    out.attn_qkv = upload_fused(*device_, {in.attn_q, in.attn_k, in.attn_v});
    out.qkv_bias = concatenated_bias({{in.attn_q_bias, config.n_head * config.head_dim},
                                      {in.attn_k_bias, config.n_head_kv * config.head_dim},
                                      {in.attn_v_bias, config.n_head_kv * config.head_dim_v}});
    out.q_norm = upload_vector(in.attn_q_norm);
    out.k_norm = upload_vector(in.attn_k_norm);
    out.attn_output = upload_matrix(*device_, *in.attn_output);
    out.attn_output_bias = upload_vector(in.attn_output_bias);
    if (config.layer_is_moe[static_cast<size_t>(il)]) {
      out.router = upload_matrix(*device_, *in.ffn_gate_inp);
      out.gate_up = upload_fused(*device_, {in.ffn_gate_exps, in.ffn_up_exps});
      out.down = upload_matrix(*device_, *in.ffn_down_exps);
      if (config.shared_experts != SharedExperts::None && in.ffn_gate_shexp != nullptr) {
        out.shared_gate_up = upload_fused(*device_, {in.ffn_gate_shexp, in.ffn_up_shexp});
        out.shared_down = upload_matrix(*device_, *in.ffn_down_shexp);
        if (config.shared_experts == SharedExperts::SigmoidGated)
          out.shared_gate = upload_vector(in.ffn_gate_inp_shexp);
      }
    } else {
      out.gate_up = upload_fused(*device_, {in.ffn_gate, in.ffn_up});
      out.down = upload_matrix(*device_, *in.ffn_down);
    }
  }
  glFinish();
}

Weights::~Weights() {
  device_->context->make_current();
  layers_.clear();
  output_norm_ = Vector();
  output_ = Matrix();
}

}  // namespace moe::gl
