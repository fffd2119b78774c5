// SGLang's and vLLM's answers with routed experts, turned into traces.
#include <algorithm>

#include "moe/base64.hpp"
#include "moe/engine_routing.hpp"
#include "moe/error.hpp"
#include "moe/little_endian.hpp"

namespace moe {

namespace {

// One [logprob, token id, text] entry of SGLang's token logprobs.
RoutingTokenInfo logprob_token(const nlohmann::json& entry, int position,
                               const std::string& where) {
  if (!entry.is_array() || entry.size() < 2 || !entry[1].is_number_integer())
    throw Error(where + ": a token entry is not [logprob, token id, text]");
  RoutingTokenInfo token;
  token.position = position;
  token.id = entry[1].get<int32_t>();
  if (entry.size() > 2 && entry[2].is_string()) token.text = entry[2].get<std::string>();
  return token;
}

// Tokens 0 .. rows - 1: the prompt's, then the generated ones; placeholders where the answer
// does not list them (asked without return_logprob).
std::vector<RoutingTokenInfo> sglang_tokens(const nlohmann::json& meta, int64_t rows,
                                            const std::string& source) {
  std::vector<RoutingTokenInfo> tokens;
  for (const char* key : {"input_token_logprobs", "output_token_logprobs"}) {
    if (!meta.contains(key) || !meta.at(key).is_array()) continue;
    for (const nlohmann::json& entry : meta.at(key)) {
      if (static_cast<int64_t>(tokens.size()) == rows) break;
      tokens.push_back(logprob_token(entry, static_cast<int>(tokens.size()), source + ": " + key));
    }
  }
  while (static_cast<int64_t>(tokens.size()) < rows) {
    RoutingTokenInfo token;
    token.position = static_cast<int>(tokens.size());
    token.id = -1;
    token.text = "<token " + std::to_string(token.position) + ">";
    tokens.push_back(std::move(token));
  }
  return tokens;
}

int64_t meta_count(const nlohmann::json& meta, const char* key, const std::string& source) {
  // Bounded so that prompt + completion cannot overflow (no answer holds 2^40 tokens).
  if (!meta.contains(key) || !meta.at(key).is_number_integer() || meta.at(key).get<int64_t>() < 0 ||
      meta.at(key).get<int64_t>() > (int64_t{1} << 40))
    throw Error(source + ": meta_info has no '" + key + "' count");
  return meta.at(key).get<int64_t>();
}

// Where routed_experts sits in a vLLM document.
const nlohmann::json* find_routed_experts(const nlohmann::json& document) {
  if (document.is_array()) return &document;
  if (!document.is_object()) return nullptr;
  if (document.contains("routed_experts")) return &document.at("routed_experts");
  for (const char* list : {"outputs", "choices"}) {
    if (document.contains(list) && document.at(list).is_array() && !document.at(list).empty() &&
        document.at(list)[0].is_object() && document.at(list)[0].contains("routed_experts"))
      return &document.at(list)[0].at("routed_experts");
  }
  return nullptr;
}

// The ids of a JSON array [tokens][layers][top_k], checked to be a full box of integers.
std::vector<int32_t> box_of_ids(const nlohmann::json& array, int64_t& rows, int64_t& layers,
                                int64_t& width, const std::string& source) {
  if (!array.is_array()) throw Error(source + ": routed_experts is not an array");
  rows = static_cast<int64_t>(array.size());
  layers = rows > 0 && array[0].is_array() ? static_cast<int64_t>(array[0].size()) : 0;
  width = layers > 0 && array[0][0].is_array() ? static_cast<int64_t>(array[0][0].size()) : 0;
  if (rows > 0 && (layers == 0 || width == 0))
    throw Error(source + ": routed_experts is not a [tokens][layers][top_k] array");
  std::vector<int32_t> ids;
  ids.reserve(static_cast<size_t>(rows * layers * width));
  for (int64_t t = 0; t < rows; ++t) {
    const nlohmann::json& row = array[static_cast<size_t>(t)];
    if (!row.is_array() || static_cast<int64_t>(row.size()) != layers)
      throw Error(source + ": routed_experts token " + std::to_string(t) + " does not have " +
                  std::to_string(layers) + " layers");
    for (int64_t l = 0; l < layers; ++l) {
      const nlohmann::json& cell = row[static_cast<size_t>(l)];
      if (!cell.is_array() || static_cast<int64_t>(cell.size()) != width)
        throw Error(source + ": routed_experts token " + std::to_string(t) + ", layer " +
                    std::to_string(l) + " does not have " + std::to_string(width) + " experts");
      for (const nlohmann::json& id : cell) {
        if (!id.is_number_integer() || id.get<int64_t>() < INT32_MIN ||
            id.get<int64_t>() > INT32_MAX)
          throw Error(source + ": routed_experts token " + std::to_string(t) + ", layer " +
                      std::to_string(l) + " holds something other than an expert id");
        ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
      }
    }
  }
  return ids;
}

// Token ids and texts a vLLM document may carry, else placeholders.
std::vector<RoutingTokenInfo> vllm_tokens(const nlohmann::json& document, int64_t rows) {
  std::vector<int32_t> ids;
  std::vector<std::string> texts;
  if (document.is_object()) {
    for (const char* key : {"prompt_token_ids", "token_ids"}) {
      if (!document.contains(key) || !document.at(key).is_array()) continue;
      for (const nlohmann::json& id : document.at(key))
        ids.push_back(id.is_number_integer() ? id.get<int32_t>() : -1);
    }
    for (const char* key : {"prompt_tokens", "tokens"}) {
      if (!document.contains(key) || !document.at(key).is_array()) continue;
      for (const nlohmann::json& text : document.at(key))
        texts.push_back(text.is_string() ? text.get<std::string>() : "");
    }
  }
  std::vector<RoutingTokenInfo> tokens(static_cast<size_t>(rows));
  for (size_t t = 0; t < tokens.size(); ++t) {
    tokens[t].position = static_cast<int>(t);
    tokens[t].id = t < ids.size() ? ids[t] : -1;
    tokens[t].text = t < texts.size() ? texts[t] : "<token " + std::to_string(t) + ">";
  }
  return tokens;
}

}  // namespace

bool sglang_answer_has_routing(const nlohmann::json& answer) {
  const nlohmann::json& one = answer.is_array() && answer.size() == 1 ? answer[0] : answer;
  return one.is_object() && one.contains("meta_info") && one.at("meta_info").is_object() &&
         one.at("meta_info").contains("routed_experts") &&
         !one.at("meta_info").at("routed_experts").is_null();
}

ImportedTrace trace_from_sglang_answer(const nlohmann::json& answer, const TraceShape& shape,
                                       const std::string& source) {
  if (answer.is_array() && answer.size() != 1)
    throw Error(source + ": " + std::to_string(answer.size()) +
                " answers in one; moescope reads one prompt's answer");
  const nlohmann::json& one = answer.is_array() ? answer[0] : answer;
  if (!one.is_object() || !one.contains("meta_info") || !one.at("meta_info").is_object())
    throw Error(source + ": not an SGLang /generate answer (no meta_info)");
  const nlohmann::json& meta = one.at("meta_info");
  if (!sglang_answer_has_routing(one))
    throw Error(source +
                ": the answer has no meta_info.routed_experts: start the server with "
                "--enable-return-routed-experts and ask with \"return_routed_experts\": true");
  const int64_t prompt = meta_count(meta, "prompt_tokens", source);
  const int64_t completion =
      meta.contains("completion_tokens") ? meta_count(meta, "completion_tokens", source) : 0;
  // SGLang returns no routing for the last generated token (it was never fed back).
  const int64_t rows = std::max<int64_t>(0, prompt + completion - 1);

  std::vector<int32_t> ids;
  const nlohmann::json& routed = meta.at("routed_experts");
  if (routed.is_string()) {
    const std::vector<uint8_t> bytes =
        decode_base64(routed.get_ref<const std::string&>(), source + ": routed_experts");
    if (bytes.size() % 4 != 0)
      throw Error(source + ": routed_experts holds " + std::to_string(bytes.size()) +
                  " bytes, not a whole number of int32 values");
    ids.resize(bytes.size() / 4);
    for (size_t i = 0; i < ids.size(); ++i)
      ids[i] = static_cast<int32_t>(load_u32(bytes.data() + 4 * i));
  } else if (routed.is_array()) {  // a [tokens][layers][top_k] list, as some versions send it
    int64_t r = 0, layers = 0, width = 0;
    ids = box_of_ids(routed, r, layers, width, source);
  } else {
    throw Error(source + ": routed_experts is neither base64 text nor an array");
  }

  ImportedTrace imported;
  imported.source = source;
  imported.trace = chosen_experts_trace(shape, ids, rows, source);
  imported.tokens = sglang_tokens(meta, rows, source);
  imported.prompt_tokens = static_cast<int>(std::min(prompt, rows));
  imported.model = shape.model;
  if (one.contains("text") && one.at("text").is_string()) imported.completion = one.at("text");
  return imported;
}

ImportedTrace trace_from_vllm_json(const nlohmann::json& document,
                                   const std::optional<TraceShape>& shape,
                                   const std::string& source) {
  const nlohmann::json* routed = find_routed_experts(document);
  if (!routed) throw Error(source + ": no routed_experts array");
  int64_t rows = 0, layers = 0, width = 0;
  const std::vector<int32_t> ids = box_of_ids(*routed, rows, layers, width, source);
  if (rows == 0) throw Error(source + ": routed_experts is empty");
  const TraceShape used =
      shape ? *shape
            : trace_shape_from_counts(static_cast<int>(std::min<int64_t>(layers, 1 << 20)),
                                      static_cast<int>(std::min<int64_t>(width, 1 << 20)));
  ImportedTrace imported;
  imported.source = source;
  imported.trace = chosen_experts_trace(used, ids, rows, layers, width, source);
  imported.tokens = vllm_tokens(document, rows);
  imported.prompt_tokens = static_cast<int>(rows);
  if (document.is_object() && document.contains("prompt_token_ids") &&
      document.at("prompt_token_ids").is_array())
    imported.prompt_tokens = static_cast<int>(
        std::min<int64_t>(rows, static_cast<int64_t>(document.at("prompt_token_ids").size())));
  imported.model = used.model;
  if (document.is_object() && document.contains("model") && document.at("model").is_string())
    imported.model = document.at("model");
  return imported;
}

}  // namespace moe
