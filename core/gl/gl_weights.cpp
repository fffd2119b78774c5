#include "gl_weights.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "moe/error.hpp"
#include "moe/tensor_schema.hpp"

namespace moe::gl {

namespace {

// What the shaders of this backend compute, as the tensor roles they implement: RMSNorm and
// LayerNorm with optional biases, q, k and v projections with optional biases and q/k norms,
// attention sinks, norms of the attention and FFN outputs, RoPE with any scaling (the CPU
// backend's RopeParams), experts with optional biases, shared experts, dense layers, output and
// logit biases. Routing is the shared route_layer's, so every gating rule, the selection bias
// and every intervention the CPU backend applies apply here (the router's bias is added on the
// GPU before the logits are read back).
constexpr TensorRole kImplementedRoles[] = {
    TensorRole::TokenEmbedding, TensorRole::OutputNorm,     TensorRole::OutputNormBias,
    TensorRole::Output,         TensorRole::OutputBias,     TensorRole::RopeFreqs,
    TensorRole::RopeFactorsLong, TensorRole::RopeFactorsShort,
    // Attention.
    TensorRole::AttnNorm,       TensorRole::AttnNormBias,   TensorRole::AttnQ,
    TensorRole::AttnK,          TensorRole::AttnV,          TensorRole::AttnOutput,
    TensorRole::AttnQBias,      TensorRole::AttnKBias,      TensorRole::AttnVBias,
    TensorRole::AttnOutputBias, TensorRole::AttnQNorm,      TensorRole::AttnKNorm,
    TensorRole::AttnSinks,      TensorRole::AttnOutputNorm, TensorRole::AttnQA,
    TensorRole::AttnQANorm,     TensorRole::AttnQB,         TensorRole::AttnKvAMqa,
    TensorRole::AttnKvANorm,    TensorRole::AttnKvB,        TensorRole::AttnKB,
    TensorRole::AttnVB,
    // Feed-forward.
    TensorRole::FfnNorm,        TensorRole::FfnNormBias,    TensorRole::FfnGate,
    TensorRole::FfnUp,          TensorRole::FfnDown,        TensorRole::Router,
    TensorRole::RouterBias,     TensorRole::SelectionBias,  TensorRole::GateExps,
    TensorRole::UpExps,         TensorRole::DownExps,       TensorRole::GateExpsBias,
    TensorRole::UpExpsBias,     TensorRole::DownExpsBias,   TensorRole::SharedExpertGate,
    TensorRole::SharedGate,     TensorRole::SharedUp,       TensorRole::SharedDown,
    TensorRole::FfnPostNorm,    TensorRole::FfnPostNormAlt,
};

bool implemented(TensorRole role) {
  for (TensorRole known : kImplementedRoles) {
    if (known == role) return true;
  }
  return false;
}

// Refuses a model that needs a capability the shaders lack, naming it (whatever the
// architecture is called), so no model runs with a step silently skipped: a tensor role they do
// not implement or a setting they do not apply.
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
  if (config.head_dim > 256 || config.head_dim_v > 256) refuse("heads wider than 256");
  if (config.head_dim % 4 != 0) refuse("a head size that is not a multiple of 4");
  // The matmul reads input rows at multiples of 4 floats: the compressed latent's rows.
  if (model.architecture().attention == AttentionKind::LatentMultiHead &&
      (config.kv_lora_rank + config.n_rot) % 4 != 0)
    refuse("a latent cache row (kv_lora_rank + rope dims) that is not a multiple of 4");
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

// Per expert e, its gate bias row then its up bias row (zeros for an absent one), as the glu
// shader reads them; size 0 when both are absent.
Vector interleaved_expert_biases(const gguf::TensorInfo* gate, const gguf::TensorInfo* up) {
  Vector vector;
  if (gate == nullptr && up == nullptr) return vector;
  const gguf::TensorInfo& shape = gate != nullptr ? *gate : *up;
  const size_t width = shape.dims[0], n_expert = shape.dims[1];
  std::vector<float> gate_values(width * n_expert, 0.0f), up_values(width * n_expert, 0.0f);
  const int64_t count = static_cast<int64_t>(width * n_expert);
  if (gate != nullptr) dequantize_row(gate->type, gate->data, gate_values.data(), count);
  if (up != nullptr) dequantize_row(up->type, up->data, up_values.data(), count);
  std::vector<float> values;
  for (size_t e = 0; e < n_expert; ++e) {
    for (const std::vector<float>* part : {&gate_values, &up_values})
      values.insert(values.end(), part->begin() + e * width, part->begin() + (e + 1) * width);
  }
  vector.size = static_cast<unsigned>(values.size());
  vector.buffer = Buffer(values.data(), values.size() * sizeof(float));
  return vector;
}

// The split decompression of newer deepseek2 files (attn_k_b: per head kv_lora rows of nope
// values, used transposed; attn_v_b: per head head_dim_v rows of kv_lora values) as the one
// matrix of older files: per head nope rows then head_dim_v rows, kv_lora wide, in f32.
Matrix joined_kv_b(Device& device, const gguf::TensorInfo& k_b, const gguf::TensorInfo& v_b) {
  const size_t nope = k_b.dims[0], kv_lora = k_b.dims[1], n_head = k_b.dims[2];
  const size_t head_dim_v = v_b.dims[1];
  std::vector<float> k(nope * kv_lora * n_head), v(kv_lora * head_dim_v * n_head);
  dequantize_row(k_b.type, k_b.data, k.data(), static_cast<int64_t>(k.size()));
  dequantize_row(v_b.type, v_b.data, v.data(), static_cast<int64_t>(v.size()));
  std::vector<float> joined;
  joined.reserve(n_head * (nope + head_dim_v) * kv_lora);
  for (size_t h = 0; h < n_head; ++h) {
    const float* k_head = k.data() + h * kv_lora * nope;
    for (size_t j = 0; j < nope; ++j)
      for (size_t r = 0; r < kv_lora; ++r) joined.push_back(k_head[r * nope + j]);
    const float* v_head = v.data() + h * head_dim_v * kv_lora;
    joined.insert(joined.end(), v_head, v_head + head_dim_v * kv_lora);
  }
  gguf::TensorInfo tensor;  // describes the joined matrix for the checks
  tensor.name = k_b.name + " with " + v_b.name;
  tensor.type = GgmlType::F32;
  tensor.dims = {kv_lora, n_head * (nope + head_dim_v)};
  tensor.n_elements = joined.size();
  Matrix matrix = describe_matrix(device, tensor);
  matrix.buffer = Buffer(joined.data(), joined.size() * sizeof(float));
  return matrix;
}

// The tensor as f32 times `scale`; size 0 when absent.
Vector upload_vector(const gguf::TensorInfo* tensor, float scale = 1) {
  Vector vector;
  if (tensor == nullptr) return vector;
  std::vector<float> values(static_cast<size_t>(tensor->n_elements));
  dequantize_row(tensor->type, tensor->data, values.data(), static_cast<int64_t>(values.size()));
  if (scale != 1) {
    for (float& value : values) value *= scale;
  }
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
  output_norm_bias_ = upload_vector(model_->output_norm_bias());
  output_ = upload_matrix(*device_, model_->output());
  output_bias_ = upload_vector(model_->output_bias());
  layers_.resize(static_cast<size_t>(config.n_layer));
  for (int il = 0; il < config.n_layer; ++il) {
    const LayerWeights& in = model_->layer(il);
    LayerBuffers& out = layers_[static_cast<size_t>(il)];
    out.attn_norm = upload_vector(in.attn_norm);
    out.ffn_norm = upload_vector(in.ffn_norm);
    out.attn_norm_bias = upload_vector(in.attn_norm_bias);
    out.ffn_norm_bias = upload_vector(in.ffn_norm_bias);
    if (model_->architecture().attention == AttentionKind::LatentMultiHead) {
      LatentAttention& latent = out.latent;
      if (in.attn_q_a != nullptr) {
        latent.q_a = upload_matrix(*device_, *in.attn_q_a);
        latent.q_a_norm = upload_vector(in.attn_q_a_norm);
        latent.q_b = upload_matrix(*device_, *in.attn_q_b);
      } else {
        latent.q = upload_matrix(*device_, *in.attn_q);
      }
      latent.kv_a = upload_matrix(*device_, *in.attn_kv_a_mqa);
      latent.kv_a_norm = upload_vector(in.attn_kv_a_norm);
      latent.kv_b = in.attn_kv_b != nullptr ? upload_matrix(*device_, *in.attn_kv_b)
                                            : joined_kv_b(*device_, *in.attn_k_b, *in.attn_v_b);
    } else {
      out.attn_qkv = upload_fused(*device_, {in.attn_q, in.attn_k, in.attn_v});
    }
    out.qkv_bias = concatenated_bias({{in.attn_q_bias, config.n_head * config.head_dim},
                                      {in.attn_k_bias, config.n_head_kv * config.head_dim},
                                      {in.attn_v_bias, config.n_head_kv * config.head_dim_v}});
    out.q_norm = upload_vector(in.attn_q_norm);
    out.k_norm = upload_vector(in.attn_k_norm);
    out.attn_output = upload_matrix(*device_, *in.attn_output);
    // Without grok's norm of the output, times the residual multiplier, which scales the
    // projection and its bias together: the scaled projection goes into the residual stream,
    // then this.
    out.attn_output_bias = upload_vector(
        in.attn_output_bias, in.attn_output_norm == nullptr ? config.residual_scale : 1.0f);
    out.attn_sinks = upload_vector(in.attn_sinks);
    out.attn_output_norm = upload_vector(in.attn_output_norm);
    out.ffn_post_norm = upload_vector(in.ffn_post_norm);
    if (config.layer_is_moe[static_cast<size_t>(il)]) {
      out.router = upload_matrix(*device_, *in.ffn_gate_inp);
      out.router_bias = upload_vector(in.ffn_gate_inp_bias);
      out.gate_up = upload_fused(*device_, {in.ffn_gate_exps, in.ffn_up_exps});
      out.down = upload_matrix(*device_, *in.ffn_down_exps);
      device_->matmul_combine_program(out.down.type);  // decode's fused down + mix, checked now
      out.gate_up_bias = interleaved_expert_biases(in.ffn_gate_exps_bias, in.ffn_up_exps_bias);
      out.down_bias = upload_vector(in.ffn_down_exps_bias);
      if (in.ffn_up != nullptr) {
        out.dense_gate_up = upload_fused(*device_, {in.ffn_gate, in.ffn_up});
        out.dense_down = upload_matrix(*device_, *in.ffn_down);
      }
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
  output_norm_bias_ = Vector();
  output_ = Matrix();
  output_bias_ = Vector();
}

}  // namespace moe::gl
