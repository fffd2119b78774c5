#include "moe/chosen_experts.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "moe/error.hpp"

namespace moe {

namespace {

// Layer counts above this are a corrupt file, not a model.
constexpr int kMaxLayers = 4096;
constexpr int kMaxExperts = 1 << 16;
constexpr int64_t kMaxTokens = int64_t{1} << 30;  // positions are ints

// The first of `keys` the object has, as an int; -1 when none is there.
int first_int(const nlohmann::json& config, std::initializer_list<const char*> keys,
              const std::string& source) {
  for (const char* key : keys) {
    if (!config.contains(key) || config.at(key).is_null()) continue;
    const nlohmann::json& value = config.at(key);
    if (!value.is_number_integer()) throw Error(source + ": '" + key + "' is not an integer");
    return value.get<int>();
  }
  return -1;
}

std::string joined(std::initializer_list<const char*> keys) {
  std::string text;
  for (const char* key : keys) text += (text.empty() ? "" : ", ") + std::string(key);
  return text;
}

// Which layers route, by the config's rule for its family.
std::vector<int> moe_layers_of(const nlohmann::json& config, int n_layer,
                               const std::string& source) {
  const int first_dense = std::max(0, first_int(config, {"first_k_dense_replace"}, source));
  const int freq = first_int(config, {"moe_layer_freq"}, source);
  const int sparse_step = first_int(config, {"decoder_sparse_step"}, source);
  const int interleave = first_int(config, {"interleave_moe_layer_step"}, source);
  std::vector<int> mlp_only;
  if (config.contains("mlp_only_layers") && config.at("mlp_only_layers").is_array()) {
    for (const nlohmann::json& layer : config.at("mlp_only_layers")) {
      if (!layer.is_number_integer())
        throw Error(source + ": 'mlp_only_layers' holds something other than layer numbers");
      mlp_only.push_back(layer.get<int>());
    }
  }
  std::vector<int> layers;
  for (int layer = 0; layer < n_layer; ++layer) {
    if (layer < first_dense) continue;
    if (freq > 1 && layer % freq != 0) continue;
    if (sparse_step > 1 && (layer + 1) % sparse_step != 0) continue;
    if (interleave > 1 && (layer + 1) % interleave != 0) continue;
    if (std::find(mlp_only.begin(), mlp_only.end(), layer) != mlp_only.end()) continue;
    layers.push_back(layer);
  }
  return layers;
}

std::string shape_text(int64_t rows, int64_t layers, int64_t width) {
  return std::to_string(rows) + " x " + std::to_string(layers) + " x " + std::to_string(width);
}

}  // namespace

TraceShape trace_shape_from_hf_config(const nlohmann::json& document, const std::string& source) {
  if (!document.is_object()) throw Error(source + ": a config.json is a JSON object");
  // Multimodal models (Qwen3-VL-MoE, Llama 4) keep the language model's keys in text_config.
  const nlohmann::json& config = document.contains("text_config") &&
                                         document.at("text_config").is_object() &&
                                         document.at("text_config").contains("num_hidden_layers")
                                     ? document.at("text_config")
                                     : document;
  static constexpr std::initializer_list<const char*> kLayerKeys = {"num_hidden_layers", "n_layers",
                                                                    "num_layers"};
  static constexpr std::initializer_list<const char*> kExpertKeys = {
      "n_routed_experts", "num_experts", "num_local_experts", "moe_num_experts"};
  static constexpr std::initializer_list<const char*> kTopKKeys = {
      "num_experts_per_tok", "experts_per_token", "moe_top_k", "num_experts_per_token"};
  TraceShape shape;
  shape.n_layer = first_int(config, kLayerKeys, source);
  shape.n_expert = first_int(config, kExpertKeys, source);
  shape.top_k = first_int(config, kTopKKeys, source);
  if (shape.n_layer <= 0 || shape.n_layer > kMaxLayers)
    throw Error(source + ": no layer count (" + joined(kLayerKeys) + ")");
  if (shape.n_expert <= 0 || shape.n_expert > kMaxExperts)
    throw Error(source + ": no expert count (" + joined(kExpertKeys) +
                "): is this a Mixture-of-Experts model?");
  if (shape.top_k <= 0 || shape.top_k > shape.n_expert)
    throw Error(source + ": no top-k between 1 and " + std::to_string(shape.n_expert) + " (" +
                joined(kTopKKeys) + ")");
  shape.moe_layers = moe_layers_of(config, shape.n_layer, source);
  if (shape.moe_layers.empty()) throw Error(source + ": the config makes every layer dense");
  if (document.contains("model_type") && document.at("model_type").is_string())
    shape.model = document.at("model_type").get<std::string>();
  return shape;
}

TraceShape read_hf_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open the model config");
  try {
    return trace_shape_from_hf_config(nlohmann::json::parse(in), path.string());
  } catch (const nlohmann::json::exception& error) {
    throw Error(path.string() + ": not JSON (" + error.what() + ")");
  }
}

TraceShape trace_shape_from_counts(int n_layer, int top_k, int n_expert) {
  if (n_layer <= 0 || n_layer > kMaxLayers)
    throw Error("--layers " + std::to_string(n_layer) + ": give the model's layer count (1 to " +
                std::to_string(kMaxLayers) + ")");
  if (top_k <= 0 || (n_expert > 0 && top_k > n_expert))
    throw Error("--top-k " + std::to_string(top_k) + ": give the experts chosen per token");
  if (n_expert < 0 || n_expert > kMaxExperts)
    throw Error("--experts " + std::to_string(n_expert) + " is not an expert count");
  TraceShape shape;
  shape.n_layer = n_layer;
  shape.top_k = top_k;
  shape.n_expert = n_expert;
  for (int layer = 0; layer < n_layer; ++layer) shape.moe_layers.push_back(layer);
  return shape;
}

std::optional<TraceShape> trace_shape_from_user(const std::string& model_config, int n_layer,
                                                int top_k, int n_expert) {
  const bool counts = n_layer > 0 || top_k > 0 || n_expert > 0;
  if (!model_config.empty()) {
    if (counts)
      throw Error(
          "the model's config.json gives the layers, top-k and experts: leave out "
          "--layers, --top-k and --experts");
    return read_hf_config(model_config);
  }
  if (!counts) return std::nullopt;
  if (n_layer <= 0 || top_k <= 0)
    throw Error(
        "give both the layer count and top-k (--layers and --top-k), or the model's "
        "config.json (--model-config)");
  return trace_shape_from_counts(n_layer, top_k, n_expert);
}

RoutingRecord chosen_experts_record(std::vector<int32_t> experts) {
  RoutingRecord record;
  record.experts = std::move(experts);
  const float share =
      record.experts.empty() ? 0.0f : 1.0f / static_cast<float>(record.experts.size());
  record.weights.assign(record.experts.size(), share);
  return record;
}

RoutingTrace chosen_experts_trace(TraceShape shape, std::span<const int32_t> ids, int64_t rows,
                                  int64_t layer_axis, int64_t width, const std::string& source) {
  const auto n_moe = static_cast<int64_t>(shape.moe_layers.size());
  // Each factor is at most the number of ids, so the product below cannot wrap around.
  const auto n_ids = static_cast<int64_t>(ids.size());
  if (rows < 0 || layer_axis <= 0 || width <= 0 || rows > n_ids || layer_axis > n_ids ||
      width > n_ids || rows > kMaxTokens ||
      static_cast<uint64_t>(ids.size()) != static_cast<uint64_t>(rows) *
                                               static_cast<uint64_t>(layer_axis) *
                                               static_cast<uint64_t>(width)) {
    throw Error(source + ": " + std::to_string(ids.size()) + " expert ids do not fill a " +
                shape_text(rows, layer_axis, width) + " array");
  }
  if (width != shape.top_k) {
    throw Error(source + ": " + std::to_string(width) +
                " experts per token and layer, but the "
                "model chooses top-" +
                std::to_string(shape.top_k) + " (check --model-config or --top-k)");
  }
  const bool all_layers = layer_axis == shape.n_layer;
  if (!all_layers && layer_axis != n_moe) {
    throw Error(source + ": the routing covers " + std::to_string(layer_axis) +
                " layers, but the model has " + std::to_string(shape.n_layer) +
                " layers of which " + std::to_string(n_moe) +
                " are MoE layers (check --model-config or --layers)");
  }
  // Unknown expert count (--layers/--top-k without --experts): the largest id says the least
  // there must be.
  if (shape.n_expert <= 0) {
    int32_t largest = -1;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t m = 0; m < n_moe; ++m) {
        const int64_t axis = all_layers ? shape.moe_layers[static_cast<size_t>(m)] : m;
        for (int64_t j = 0; j < width; ++j)
          largest =
              std::max(largest, ids[static_cast<size_t>((r * layer_axis + axis) * width + j)]);
      }
    shape.n_expert = std::max(largest + 1, static_cast<int32_t>(shape.top_k));
    if (shape.n_expert > kMaxExperts)
      throw Error(source + ": expert id " + std::to_string(largest) + " is out of range");
  }
  RoutingTrace trace(shape.n_layer, shape.n_expert, shape.top_k, shape.moe_layers);
  trace.set_chosen_experts_only(true);
  trace.resize(static_cast<int>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t m = 0; m < n_moe; ++m) {
      const int layer = shape.moe_layers[static_cast<size_t>(m)];
      const int64_t axis = all_layers ? layer : m;
      const int32_t* row = ids.data() + (r * layer_axis + axis) * width;
      std::vector<int32_t> experts(row, row + width);
      for (int32_t expert : experts) {
        if (expert < 0 || expert >= shape.n_expert) {
          throw Error(source + ": expert id " + std::to_string(expert) + " at token " +
                      std::to_string(r) + ", layer " + std::to_string(layer) + " is outside 0.." +
                      std::to_string(shape.n_expert - 1));
        }
      }
      trace.set(static_cast<int>(r), layer, chosen_experts_record(std::move(experts)));
    }
  }
  return trace;
}

RoutingTrace chosen_experts_trace(const TraceShape& shape, std::span<const int32_t> ids,
                                  int64_t rows, const std::string& source) {
  const auto n_moe = static_cast<uint64_t>(shape.moe_layers.size());
  const auto k = static_cast<uint64_t>(shape.top_k);
  const auto n = static_cast<uint64_t>(ids.size());
  const auto r = static_cast<uint64_t>(rows < 0 ? 0 : rows);
  const uint64_t all = r * static_cast<uint64_t>(shape.n_layer) * k;
  const uint64_t moe_only = r * n_moe * k;
  // Every row holds at least one id: more rows than ids is a mismatch (and keeps the products
  // above from wrapping around).
  if (r > n) {
    throw Error(source + ": " + std::to_string(n) + " expert ids cannot cover " +
                std::to_string(rows) +
                " tokens: the layer count or top-k does not match the "
                "model that answered (check --model-config, --layers and --top-k)");
  }
  if (rows >= 0 && n == all)
    return chosen_experts_trace(shape, ids, rows, shape.n_layer, shape.top_k, source);
  if (rows >= 0 && n == moe_only)
    return chosen_experts_trace(shape, ids, rows, static_cast<int64_t>(n_moe), shape.top_k, source);
  std::ostringstream message;
  message << source << ": " << n << " expert ids, but " << rows << " tokens x " << shape.n_layer
          << " layers x top-" << shape.top_k << " = " << all;
  if (n_moe != static_cast<uint64_t>(shape.n_layer))
    message << " (or " << moe_only << " counting only the " << n_moe << " MoE layers)";
  message << ": the layer count or top-k does not match the model that answered (check "
             "--model-config, --layers and --top-k)";
  throw Error(message.str());
}

}  // namespace moe
