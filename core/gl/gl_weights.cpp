#include "gl_weights.hpp"

#include <algorithm>

#include "moe/error.hpp"

namespace moe::gl {

namespace {

// What the shaders of this backend compute. Architectures with other features (norm biases,
// q/k norms, shared experts, scales) must be added here once the shaders implement them.
void check_architecture(const Model& model) {
  const std::string& name = model.architecture().name;
  if (name != "llama") {
    throw Error("the GL backend does not support architecture " + name +
                " yet (it implements llama); use --backend cpu");
  }
  const ModelConfig& config = model.config();
  if (config.head_dim > 256 || config.head_dim_v > 256) {
    throw Error("the GL backend does not support heads wider than 256 (this model's are " +
                std::to_string(std::max(config.head_dim, config.head_dim_v)) +
                "); use --backend cpu");
  }
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

Matrix upload_matrix(const Device& device, const gguf::TensorInfo& tensor) {
  if (!matmul_supports(tensor.type)) {
    throw Error("the GL backend does not support tensor type " + type_name(tensor.type) +
                " (tensor " + tensor.name + ") yet; use --backend cpu");
  }
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
  matrix.buffer = Buffer(tensor.data, tensor_bytes(tensor));
  return matrix;
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
  check_architecture(*model_);
  const ModelConfig& config = model_->config();
  output_norm_ = upload_vector(&model_->output_norm());
  output_ = upload_matrix(*device_, model_->output());
  layers_.resize(static_cast<size_t>(config.n_layer));
  for (int il = 0; il < config.n_layer; ++il) {
    const LayerWeights& in = model_->layer(il);
    LayerBuffers& out = layers_[static_cast<size_t>(il)];
    out.attn_norm = upload_vector(in.attn_norm);
    out.ffn_norm = upload_vector(in.ffn_norm);
    out.attn_q = upload_matrix(*device_, *in.attn_q);
    out.attn_k = upload_matrix(*device_, *in.attn_k);
    out.attn_v = upload_matrix(*device_, *in.attn_v);
    out.attn_output = upload_matrix(*device_, *in.attn_output);
    out.attn_q_bias = upload_vector(in.attn_q_bias);
    out.attn_k_bias = upload_vector(in.attn_k_bias);
    out.attn_v_bias = upload_vector(in.attn_v_bias);
    out.attn_output_bias = upload_vector(in.attn_output_bias);
    if (config.layer_is_moe[static_cast<size_t>(il)]) {
      out.router = upload_matrix(*device_, *in.ffn_gate_inp);
      out.gate_exps = upload_matrix(*device_, *in.ffn_gate_exps);
      out.up_exps = upload_matrix(*device_, *in.ffn_up_exps);
      out.down_exps = upload_matrix(*device_, *in.ffn_down_exps);
    } else {
      out.ffn_gate = upload_matrix(*device_, *in.ffn_gate);
      out.ffn_up = upload_matrix(*device_, *in.ffn_up);
      out.ffn_down = upload_matrix(*device_, *in.ffn_down);
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
