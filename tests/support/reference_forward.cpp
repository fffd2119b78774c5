#include "reference_forward.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

#include "moe/ggml_types.hpp"

namespace moe::testing {

namespace {

// A whole tensor as doubles; element (c, r, e) of ne [cols, rows, count] is at
// (e * rows + r) * cols + c.
struct Tensor {
  std::vector<uint64_t> dims;
  std::vector<double> values;
  size_t cols() const { return static_cast<size_t>(dims.at(0)); }
  size_t rows() const { return dims.size() > 1 ? static_cast<size_t>(dims[1]) : 1; }
};

Tensor read_tensor(const gguf::GgufFile& file, const std::string& name) {
  const gguf::TensorInfo* info = file.find_tensor(name);
  if (info == nullptr) throw std::runtime_error("reference: missing tensor " + name);
  std::vector<float> f32(static_cast<size_t>(info->n_elements));
  if (info->type == GgmlType::F32) {
    std::memcpy(f32.data(), info->data, f32.size() * sizeof(float));
  } else {
    dequantize_row(info->type, info->data, f32.data(), static_cast<int64_t>(f32.size()));
  }
  Tensor tensor;
  tensor.dims = info->dims;
  tensor.values.assign(f32.begin(), f32.end());
  return tensor;
}

bool has_tensor(const gguf::GgufFile& file, const std::string& name) {
  return file.find_tensor(name) != nullptr;
}

// y = W x for matrix `matrix` of a (possibly stacked) tensor.
std::vector<double> multiply(const Tensor& w, const std::vector<double>& x, size_t matrix = 0) {
  const size_t cols = w.cols(), rows = w.rows();
  std::vector<double> y(rows, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    const double* row = &w.values[(matrix * rows + r) * cols];
    double sum = 0;
    for (size_t c = 0; c < cols; ++c) sum += row[c] * x[c];
    y[r] = sum;
  }
  return y;
}

void add(std::vector<double>& x, const std::vector<double>& y) {
  for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
}

std::vector<double> rms_norm(const std::vector<double>& x, const Tensor& weight, double eps) {
  double sum_squares = 0;
  for (double value : x) sum_squares += value * value;
  const double scale = 1.0 / std::sqrt(sum_squares / static_cast<double>(x.size()) + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * weight.values[i];
  return y;
}

// llama's RoPE: adjacent pairs (2i, 2i+1) of each head rotated by pos * base^(-2i / n_rot).
void rope(std::vector<double>& x, int n_heads, int head_dim, int n_rot, double base, int pos) {
  for (int h = 0; h < n_heads; ++h) {
    for (int i = 0; i < n_rot / 2; ++i) {
      const double theta = pos * std::pow(base, -2.0 * i / n_rot);
      double& a = x[static_cast<size_t>(h * head_dim + 2 * i)];
      double& b = x[static_cast<size_t>(h * head_dim + 2 * i + 1)];
      const double a0 = a, b0 = b;
      a = a0 * std::cos(theta) - b0 * std::sin(theta);
      b = a0 * std::sin(theta) + b0 * std::cos(theta);
    }
  }
}

std::vector<double> swiglu(const Tensor& gate, const Tensor& up, const Tensor& down,
                           const std::vector<double>& x, size_t matrix = 0) {
  std::vector<double> g = multiply(gate, x, matrix);
  const std::vector<double> u = multiply(up, x, matrix);
  for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
  return multiply(down, g, matrix);
}

std::vector<double> softmax(const std::vector<double>& x) {
  const double max_value = *std::max_element(x.begin(), x.end());
  std::vector<double> p(x.size());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += p[i] = std::exp(x[i] - max_value);
  for (double& value : p) value /= sum;
  return p;
}

struct LayerTensors {
  Tensor attn_norm, wq, wk, wv, wo, ffn_norm;
  bool has_bias = false;
  Tensor bq, bk, bv, bo;
  bool moe = false;
  Tensor router, gate, up, down;  // stacked experts when moe
};

}  // namespace

ReferenceResult reference_forward(const gguf::GgufFile& file, std::span<const int32_t> tokens,
                                  const RoutingInterventions& interventions) {
  const int n_embd = static_cast<int>(file.get_uint("llama.embedding_length"));
  const int n_layer = static_cast<int>(file.get_uint("llama.block_count"));
  const int n_head = static_cast<int>(file.get_uint("llama.attention.head_count"));
  const int n_head_kv = static_cast<int>(file.get_uint_or("llama.attention.head_count_kv", n_head));
  const int head_dim =
      static_cast<int>(file.get_uint_or("llama.attention.key_length", n_embd / n_head));
  const int n_rot = static_cast<int>(file.get_uint_or("llama.rope.dimension_count", head_dim));
  const double base = file.get_double_or("llama.rope.freq_base", 10000.0);
  const double eps = file.get_double_or("llama.attention.layer_norm_rms_epsilon", 1e-5);
  const int top_k = static_cast<int>(file.get_uint_or("llama.expert_used_count", 0));

  const Tensor embeddings = read_tensor(file, "token_embd.weight");
  const Tensor output_norm = read_tensor(file, "output_norm.weight");
  const Tensor output =
      has_tensor(file, "output.weight") ? read_tensor(file, "output.weight") : embeddings;
  const int n_vocab = static_cast<int>(embeddings.rows());

  std::vector<LayerTensors> layers(static_cast<size_t>(n_layer));
  for (int il = 0; il < n_layer; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    LayerTensors& l = layers[static_cast<size_t>(il)];
    l.attn_norm = read_tensor(file, blk + "attn_norm.weight");
    l.wq = read_tensor(file, blk + "attn_q.weight");
    l.wk = read_tensor(file, blk + "attn_k.weight");
    l.wv = read_tensor(file, blk + "attn_v.weight");
    l.wo = read_tensor(file, blk + "attn_output.weight");
    l.has_bias = has_tensor(file, blk + "attn_q.bias");
    if (l.has_bias) {
      l.bq = read_tensor(file, blk + "attn_q.bias");
      l.bk = read_tensor(file, blk + "attn_k.bias");
      l.bv = read_tensor(file, blk + "attn_v.bias");
      l.bo = read_tensor(file, blk + "attn_output.bias");
    }
    l.ffn_norm = read_tensor(file, blk + "ffn_norm.weight");
    l.moe = has_tensor(file, blk + "ffn_gate_inp.weight");
    if (l.moe) {
      l.router = read_tensor(file, blk + "ffn_gate_inp.weight");
      l.gate = read_tensor(file, blk + "ffn_gate_exps.weight");
      l.up = read_tensor(file, blk + "ffn_up_exps.weight");
      l.down = read_tensor(file, blk + "ffn_down_exps.weight");
    } else {
      l.gate = read_tensor(file, blk + "ffn_gate.weight");
      l.up = read_tensor(file, blk + "ffn_up.weight");
      l.down = read_tensor(file, blk + "ffn_down.weight");
    }
  }

  const size_t n = tokens.size();
  ReferenceResult result;
  result.n_vocab = n_vocab;
  result.routing.assign(n, std::vector<ReferenceRouting>(static_cast<size_t>(n_layer)));

  std::vector<std::vector<double>> hidden(n);
  for (size_t t = 0; t < n; ++t) {
    const double* row =
        &embeddings.values[static_cast<size_t>(tokens[t]) * static_cast<size_t>(n_embd)];
    hidden[t].assign(row, row + n_embd);
  }

  const int group = n_head / n_head_kv;
  for (int il = 0; il < n_layer; ++il) {
    const LayerTensors& l = layers[static_cast<size_t>(il)];
    // Attention: queries, keys and values of every position, computed afresh.
    std::vector<std::vector<double>> q(n), k(n), v(n);
    for (size_t t = 0; t < n; ++t) {
      const std::vector<double> x = rms_norm(hidden[t], l.attn_norm, eps);
      q[t] = multiply(l.wq, x);
      k[t] = multiply(l.wk, x);
      v[t] = multiply(l.wv, x);
      if (l.has_bias) {
        add(q[t], l.bq.values);
        add(k[t], l.bk.values);
        add(v[t], l.bv.values);
      }
      rope(q[t], n_head, head_dim, n_rot, base, static_cast<int>(t));
      rope(k[t], n_head_kv, head_dim, n_rot, base, static_cast<int>(t));
    }
    const int head_dim_v = static_cast<int>(v[0].size()) / n_head_kv;
    for (size_t t = 0; t < n; ++t) {
      std::vector<double> attended(static_cast<size_t>(n_head * head_dim_v), 0.0);
      for (int h = 0; h < n_head; ++h) {
        const int kv = h / group;
        std::vector<double> scores(t + 1);
        for (size_t j = 0; j <= t; ++j) {
          double dot = 0;
          for (int d = 0; d < head_dim; ++d) {
            dot += q[t][static_cast<size_t>(h * head_dim + d)] *
                   k[j][static_cast<size_t>(kv * head_dim + d)];
          }
          scores[j] = dot / std::sqrt(static_cast<double>(head_dim));
        }
        const std::vector<double> p = softmax(scores);
        for (size_t j = 0; j <= t; ++j) {
          for (int d = 0; d < head_dim_v; ++d) {
            attended[static_cast<size_t>(h * head_dim_v + d)] +=
                p[j] * v[j][static_cast<size_t>(kv * head_dim_v + d)];
          }
        }
      }
      std::vector<double> projected = multiply(l.wo, attended);
      if (l.has_bias) add(projected, l.bo.values);
      add(hidden[t], projected);
    }

    // Feed-forward. Routing first for every token (batch rules look at all of them).
    std::vector<std::vector<double>> ffn_in(n), router_logits(n);
    for (size_t t = 0; t < n; ++t) {
      ffn_in[t] = rms_norm(hidden[t], l.ffn_norm, eps);
      if (l.moe) router_logits[t] = multiply(l.router, ffn_in[t]);
    }
    std::vector<ReferenceRouting> routes;
    if (l.moe) routes = reference_route_layer(router_logits, il, top_k, interventions);
    for (size_t t = 0; t < n; ++t) {
      const std::vector<double>& x = ffn_in[t];
      if (!l.moe) {
        add(hidden[t], swiglu(l.gate, l.up, l.down, x));
        continue;
      }
      ReferenceRouting& route = result.routing[t][static_cast<size_t>(il)];
      route = routes[t];
      std::vector<double> mixed(static_cast<size_t>(n_embd), 0.0);
      for (size_t j = 0; j < route.experts.size(); ++j) {
        const std::vector<double> y =
            swiglu(l.gate, l.up, l.down, x, static_cast<size_t>(route.experts[j]));
        for (size_t i = 0; i < y.size(); ++i) mixed[i] += route.weights[j] * y[i];
      }
      add(hidden[t], mixed);
    }
  }

  result.logits.resize(n);
  for (size_t t = 0; t < n; ++t) {
    result.logits[t] = multiply(output, rms_norm(hidden[t], output_norm, eps));
  }
  return result;
}

}  // namespace moe::testing
