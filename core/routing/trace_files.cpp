// Trace files: NumPy arrays of expert ids, the moescope trace format, and choosing the reader
// for a file by its content.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include "moe/engine_routing.hpp"
#include "moe/error.hpp"

namespace moe {

namespace {

constexpr int kMoescopeTraceVersion = 1;

// The value of 'key': ... in a .npy header dict, up to the next top-level comma or brace.
std::string npy_header_value(const std::string& header, const std::string& key,
                             const std::string& source) {
  const size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) throw Error(source + ": the .npy header has no '" + key + "'");
  size_t start = header.find(':', at);
  if (start == std::string::npos) throw Error(source + ": a malformed .npy header");
  ++start;
  int depth = 0;
  size_t end = start;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    if (depth < 0) break;
  }
  std::string value = header.substr(start, end - start);
  value.erase(0, value.find_first_not_of(" "));
  value.erase(value.find_last_not_of(" ") + 1);
  return value;
}

std::vector<int64_t> npy_shape(const std::string& text, const std::string& source) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    throw Error(source + ": the .npy shape is not a tuple");
  std::vector<int64_t> shape;
  std::stringstream in(text.substr(1, text.size() - 2));
  std::string part;
  while (std::getline(in, part, ',')) {
    part.erase(0, part.find_first_not_of(" "));
    part.erase(part.find_last_not_of(" ") + 1);
    if (part.empty()) continue;
    try {
      size_t used = 0;
      const long long value = std::stoll(part, &used);
      if (used != part.size() || value < 0) throw std::invalid_argument(part);
      shape.push_back(value);
    } catch (const std::exception&) {
      throw Error(source + ": the .npy shape holds '" + part + "'");
    }
  }
  return shape;
}

int64_t read_id(const uint8_t* p, int size, bool big_endian) {
  uint64_t value = 0;
  for (int i = 0; i < size; ++i)
    value |= static_cast<uint64_t>(p[big_endian ? size - 1 - i : i]) << (8 * i);
  if (size == 4) return static_cast<int32_t>(static_cast<uint32_t>(value));
  return static_cast<int64_t>(value);
}

const nlohmann::json& member(const nlohmann::json& object, const char* key,
                             const std::string& where) {
  if (!object.is_object() || !object.contains(key)) throw Error(where + " has no '" + key + "'");
  return object.at(key);
}

// Router scores of one layer from its logits, by the format's gating rule.
std::vector<float> scores_of(const std::vector<float>& logits, bool sigmoid) {
  std::vector<float> scores(logits.size());
  if (sigmoid) {
    for (size_t e = 0; e < logits.size(); ++e) scores[e] = 1.0f / (1.0f + std::exp(-logits[e]));
    return scores;
  }
  const float top = logits.empty() ? 0.0f : *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (size_t e = 0; e < logits.size(); ++e) {
    scores[e] = std::exp(logits[e] - top);
    sum += scores[e];
  }
  for (float& s : scores) s = static_cast<float>(s / sum);
  return scores;
}

// One sequence of the moescope format appended to `trace` from position `offset`.
void add_sequence(const nlohmann::json& sequence, const TraceShape& shape, bool sigmoid,
                  bool normalize, RoutingTrace& trace, std::vector<RoutingTokenInfo>& tokens,
                  const std::string& where) {
  const nlohmann::json& texts = member(sequence, "tokens", where);
  if (!texts.is_array()) throw Error(where + ": 'tokens' is not a list of texts");
  const size_t n = texts.size();
  const auto n_moe = shape.moe_layers.size();
  const bool has_experts = sequence.contains("experts");
  const bool has_logits = sequence.contains("router_logits");
  if (!has_experts && !has_logits)
    throw Error(where + " has neither 'experts' nor 'router_logits'");
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json& experts = has_experts ? sequence.at("experts") : empty;
  const nlohmann::json& logits = has_logits ? sequence.at("router_logits") : empty;
  const nlohmann::json& ids = sequence.contains("token_ids") ? sequence.at("token_ids") : empty;
  if ((has_experts && (!experts.is_array() || experts.size() != n)) ||
      (has_logits && (!logits.is_array() || logits.size() != n)) ||
      (!ids.empty() && ids.size() != n)) {
    throw Error(where + ": 'experts', 'router_logits' and 'token_ids' need one entry per token (" +
                std::to_string(n) + ")");
  }
  const int offset = trace.n_tokens();
  for (size_t t = 0; t < n; ++t) {
    const std::string at = where + ", token " + std::to_string(t);
    RoutingTokenInfo token;
    token.position = offset + static_cast<int>(t);
    token.text = texts[t].is_string() ? texts[t].get<std::string>() : "";
    token.id = !ids.empty() && ids[t].is_number_integer() ? ids[t].get<int32_t>() : -1;
    tokens.push_back(std::move(token));
    if ((has_experts && experts[t].size() != n_moe) || (has_logits && logits[t].size() != n_moe))
      throw Error(at + ": one entry per MoE layer expected (" + std::to_string(n_moe) + ")");
    for (size_t m = 0; m < n_moe; ++m) {
      const int layer = shape.moe_layers[m];
      RoutingRecord record;
      if (has_experts) {
        record.experts = experts[t][m].get<std::vector<int32_t>>();
        if (record.experts.size() != static_cast<size_t>(shape.top_k))
          throw Error(at + ", layer " + std::to_string(layer) + ": " +
                      std::to_string(record.experts.size()) + " experts, top_k is " +
                      std::to_string(shape.top_k));
        for (int32_t e : record.experts)
          if (e < 0 || e >= shape.n_expert)
            throw Error(at + ", layer " + std::to_string(layer) + ": expert id " +
                        std::to_string(e) + " is outside 0.." + std::to_string(shape.n_expert - 1));
      }
      if (has_logits) {
        record.logits = logits[t][m].get<std::vector<float>>();
        if (record.logits.size() != static_cast<size_t>(shape.n_expert))
          throw Error(at + ", layer " + std::to_string(layer) + ": " +
                      std::to_string(record.logits.size()) + " router logits for " +
                      std::to_string(shape.n_expert) + " experts");
        for (float v : record.logits)
          if (!std::isfinite(v)) throw Error(at + ": a router logit is not a finite number");
        record.probs = scores_of(record.logits, sigmoid);
        if (!has_experts) {  // the top-k by score, best first
          std::vector<int32_t> order(record.probs.size());
          std::iota(order.begin(), order.end(), 0);
          std::stable_sort(order.begin(), order.end(),
                           [&](int32_t a, int32_t b) { return record.probs[a] > record.probs[b]; });
          order.resize(static_cast<size_t>(shape.top_k));
          record.experts = order;
        }
        double chosen = 0;
        for (int32_t e : record.experts) chosen += record.probs[static_cast<size_t>(e)];
        for (int32_t e : record.experts) {
          const float p = record.probs[static_cast<size_t>(e)];
          record.weights.push_back(normalize && chosen > 0 ? static_cast<float>(p / chosen) : p);
        }
        trace.set(offset + static_cast<int>(t), layer, std::move(record));
      } else {
        trace.set(offset + static_cast<int>(t), layer,
                  chosen_experts_record(std::move(record.experts)));
      }
    }
  }
}

}  // namespace

ImportedTrace trace_from_npy(const std::string& bytes, const std::optional<TraceShape>& shape,
                             const std::string& source) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw Error(source + ": not a NumPy .npy file");
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  const int major = data[6];
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<size_t>(data[8] | data[9] << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(source + ": the .npy header is truncated");
    header_len = static_cast<size_t>(data[8]) | static_cast<size_t>(data[9]) << 8 |
                 static_cast<size_t>(data[10]) << 16 | static_cast<size_t>(data[11]) << 24;
    header_start = 12;
  } else {
    throw Error(source + ": .npy version " + std::to_string(major) + " is not one moescope reads");
  }
  if (header_start + header_len > bytes.size())
    throw Error(source + ": the .npy header is truncated");
  const std::string header = bytes.substr(header_start, header_len);
  std::string descr = npy_header_value(header, "descr", source);
  descr.erase(std::remove(descr.begin(), descr.end(), '\''), descr.end());
  if (npy_header_value(header, "fortran_order", source) != "False")
    throw Error(source + ": the .npy array is in Fortran order; save it in C order");
  if (descr.size() != 3 ||
      (descr[0] != '<' && descr[0] != '>' && descr[0] != '=' && descr[0] != '|') ||
      descr[1] != 'i' || (descr[2] != '4' && descr[2] != '8'))
    throw Error(source + ": the .npy array holds '" + descr + "'; expert ids are int32 or int64");
  const int size = descr[2] - '0';
  const bool big_endian = descr[0] == '>';
  const std::vector<int64_t> dims = npy_shape(npy_header_value(header, "shape", source), source);
  if (dims.size() != 3)
    throw Error(source + ": the .npy array has " + std::to_string(dims.size()) +
                " dimensions; expert ids are [tokens, layers, top_k]");
  const uint64_t count = static_cast<uint64_t>(dims[0]) * static_cast<uint64_t>(dims[1]) *
                         static_cast<uint64_t>(dims[2]);
  const size_t body = header_start + header_len;
  if (dims[0] > static_cast<int64_t>(bytes.size()) || dims[1] > (1 << 20) || dims[2] > (1 << 20) ||
      count > (bytes.size() - body) / size ||
      (bytes.size() - body) != count * static_cast<uint64_t>(size))
    throw Error(source + ": the .npy data holds " + std::to_string(bytes.size() - body) +
                " bytes, not the " + std::to_string(dims[0]) + " x " + std::to_string(dims[1]) +
                " x " + std::to_string(dims[2]) + " array its header says");
  std::vector<int32_t> ids(static_cast<size_t>(count));
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t id = read_id(data + body + i * static_cast<size_t>(size), size, big_endian);
    if (id < INT32_MIN || id > INT32_MAX)
      throw Error(source + ": expert id " + std::to_string(id) + " is out of range");
    ids[i] = static_cast<int32_t>(id);
  }
  const TraceShape used =
      shape ? *shape
            : trace_shape_from_counts(static_cast<int>(dims[1]), static_cast<int>(dims[2]));
  ImportedTrace imported;
  imported.source = source;
  imported.model = used.model;
  imported.trace = chosen_experts_trace(used, ids, dims[0], dims[1], dims[2], source);
  imported.prompt_tokens = static_cast<int>(dims[0]);
  for (int t = 0; t < imported.trace.n_tokens(); ++t)
    imported.tokens.push_back({t, -1, "<token " + std::to_string(t) + ">"});
  return imported;
}

ImportedTrace trace_from_moescope_json(const nlohmann::json& document, const std::string& source) {
  try {
    const std::string format = member(document, "format", source).get<std::string>();
    if (format != "moescope-trace")
      throw Error(source + ": format is '" + format + "', not moescope-trace");
    const int version = member(document, "version", source).get<int>();
    if (version > kMoescopeTraceVersion)
      throw Error(source + ": moescope-trace version " + std::to_string(version) +
                  " is newer than this moescope reads (" + std::to_string(kMoescopeTraceVersion) +
                  ")");
    TraceShape shape;
    shape.n_layer = member(document, "n_layer", source).get<int>();
    shape.n_expert = member(document, "n_expert", source).get<int>();
    shape.top_k = member(document, "top_k", source).get<int>();
    if (shape.n_expert <= 0 || shape.n_expert > (1 << 16) || shape.top_k <= 0 ||
        shape.top_k > shape.n_expert || shape.n_layer <= 0 || shape.n_layer > 4096)
      throw Error(source + ": n_layer, n_expert and top_k do not describe an MoE model");
    if (document.contains("moe_layers")) {
      shape.moe_layers = document.at("moe_layers").get<std::vector<int>>();
    } else {
      shape.moe_layers.resize(static_cast<size_t>(shape.n_layer));
      std::iota(shape.moe_layers.begin(), shape.moe_layers.end(), 0);
    }
    if (!std::is_sorted(shape.moe_layers.begin(), shape.moe_layers.end()) ||
        std::adjacent_find(shape.moe_layers.begin(), shape.moe_layers.end()) !=
            shape.moe_layers.end())
      throw Error(source + ": moe_layers must be ascending, each once");
    shape.model = document.value("model", std::string());
    const std::string gating = document.value("gating", std::string("softmax"));
    if (gating != "softmax" && gating != "sigmoid")
      throw Error(source + ": gating is '" + gating + "' (softmax or sigmoid)");
    const bool normalize = document.value("normalize_top_k", true);

    const nlohmann::json& sequences = member(document, "sequences", source);
    if (!sequences.is_array() || sequences.empty())
      throw Error(source + ": 'sequences' is not a non-empty list");
    ImportedTrace imported;
    imported.source = source;
    imported.model = shape.model;
    imported.trace = RoutingTrace(shape.n_layer, shape.n_expert, shape.top_k, shape.moe_layers);
    bool any_logits = false, all_logits = true;
    for (size_t s = 0; s < sequences.size(); ++s) {
      const bool logits = sequences[s].is_object() && sequences[s].contains("router_logits");
      any_logits |= logits;
      all_logits &= logits;
      add_sequence(sequences[s], shape, gating == "sigmoid", normalize, imported.trace,
                   imported.tokens, source + ": sequence " + std::to_string(s));
      if (s == 0) imported.prompt_tokens = imported.trace.n_tokens();
    }
    if (any_logits && !all_logits)
      throw Error(source + ": give router_logits for every sequence or for none");
    imported.trace.set_chosen_experts_only(!any_logits);
    return imported;
  } catch (const nlohmann::json::exception& error) {
    throw Error(source + ": " + error.what());
  } catch (const std::out_of_range& error) {  // RoutingTrace: a moe layer outside the model
    throw Error(source + ": " + error.what());
  }
}

ImportedTrace import_trace_file(const std::filesystem::path& path,
                                const std::optional<TraceShape>& shape, uint64_t max_bytes) {
  const std::string source = path.string();
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error) throw Error(source + ": cannot read (" + error.message() + ")");
  if (size > max_bytes)
    throw Error(source + ": " + std::to_string(size) + " bytes is larger than the " +
                std::to_string(max_bytes) + " bytes moescope imports");
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!in || !in.read(bytes.data(), static_cast<std::streamsize>(size)))
    throw Error(source + ": cannot read the file");
  if (bytes.compare(0, 6, "\x93NUMPY") == 0) return trace_from_npy(bytes, shape, source);

  nlohmann::json document;
  try {
    document = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& parse_error) {
    throw Error(source + ": neither a .npy array nor JSON (" + parse_error.what() + ")");
  }
  if (document.is_object() && document.value("format", std::string()) == "moescope-trace")
    return trace_from_moescope_json(document, source);
  const nlohmann::json& one = document.is_array() && document.size() == 1 ? document[0] : document;
  if (one.is_object() && one.contains("meta_info")) {
    if (!shape)
      throw Error(source +
                  ": an SGLang answer holds no layer count or top-k: give "
                  "--model-config (the model's config.json) or --layers and --top-k");
    return trace_from_sglang_answer(document, *shape, source);
  }
  if (document.is_object() && document.contains("schema_version") && document.contains("layers")) {
    ImportedTrace imported;  // a `route --json` document (or the routing of a session file)
    imported.source = source;
    imported.trace = routing_trace_from_json(document);
    imported.model = document.value("model", std::string());
    for (const nlohmann::json& token : document.at("tokens"))
      imported.tokens.push_back(
          {token.value("position", 0), token.value("id", -1), token.value("text", std::string())});
    imported.prompt_tokens = static_cast<int>(imported.tokens.size());
    if (imported.tokens.size() != static_cast<size_t>(imported.trace.n_tokens()))
      throw Error(source + ": only route --json documents from position 0 can be imported");
    return imported;
  }
  return trace_from_vllm_json(document, shape, source);
}

}  // namespace moe
