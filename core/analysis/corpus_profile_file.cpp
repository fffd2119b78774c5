#include "moe/corpus_profile_file.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "moe/atomic_file.hpp"
#include "moe/error.hpp"
#include "moe/json_fields.hpp"
#include "moe/text_file.hpp"

namespace moe {

namespace {

using nlohmann::json;

// Token tables as rows [id, N(x), e, N(x, e), e, N(x, e), ...] with only the experts the id
// reached, sorted by id so that equal profiles give equal files.
json token_table_to_json(const TokenExpertTable& table) {
  std::vector<int32_t> ids;
  ids.reserve(table.size());
  for (const auto& entry : table) ids.push_back(entry.first);
  std::sort(ids.begin(), ids.end());
  json rows = json::array();
  for (int32_t id : ids) {
    const TokenExpertCounts& counts = table.at(id);
    json row = json::array({id, counts.occurrences});
    for (size_t e = 0; e < counts.experts.size(); ++e) {
      if (counts.experts[e] != 0) {
        row.push_back(e);
        row.push_back(counts.experts[e]);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// Token tables as written by token_table_to_json.
TokenExpertTable read_token_table(const JsonFields& read, const json& object, const char* key,
                                  int n_expert) {
  const json& rows = read.field(object, key);
  if (!rows.is_array()) read.fail(std::string("\"") + key + "\" is not an array");
  TokenExpertTable table;
  table.reserve(rows.size());
  for (const json& row : rows) {
    if (!row.is_array() || row.size() < 2 || row.size() % 2 != 0) {
      read.fail(std::string("a row of \"") + key + "\" is not [id, count, expert, count, ...]");
    }
    for (const json& item : row) {
      if (!item.is_number_integer()) read.fail(std::string("\"") + key + "\" holds a non-integer");
    }
    TokenExpertCounts& counts = table[row[0].get<int32_t>()];
    counts.occurrences = row[1].get<int64_t>();
    counts.experts.assign(static_cast<size_t>(n_expert), 0);
    for (size_t i = 2; i < row.size(); i += 2) {
      const auto expert = row[i].get<int64_t>();
      if (expert < 0 || expert >= n_expert) read.fail(std::string("\"") + key + "\": expert out of range");
      counts.experts[static_cast<size_t>(expert)] = row[i + 1].get<int64_t>();
    }
  }
  return table;
}

}  // namespace

std::string corpus_profile_to_text(const CorpusProfile& profile) {
  const ProfileModel& model = profile.model;
  json layers = json::array();
  for (const ProfileLayer& layer : profile.layers) {
    layers.push_back({{"layer", layer.layer},
                      {"tokens", layer.tokens},
                      {"token_counts", layer.token_counts},
                      {"top1_counts", layer.top1_counts},
                      {"gate_mass", layer.gate_mass},
                      {"coactivation", layer.coactivation},
                      {"transitions", layer.transitions},
                      {"top1_transitions", layer.top1_transitions},
                      {"reap_weighted_norm_sum", layer.reap.weighted_norm_sum},
                      {"reap_tokens", layer.reap.tokens},
                      {"repetition",
                       {{"pairs", layer.repetition.pairs},
                        {"same_top1", layer.repetition.same_top1},
                        {"sets_intersect", layer.repetition.sets_intersect}}},
                      {"cache",
                       {{"requests", layer.cache.requests},
                        {"lru_hits", layer.cache.lru_hits},
                        {"belady_hits", layer.cache.belady_hits}}},
                      {"by_input", token_table_to_json(layer.by_input)},
                      {"by_next", token_table_to_json(layer.by_next)},
                      {"by_predicted", token_table_to_json(layer.by_predicted)}});
  }
  json domains = json::array();
  for (const auto& [label, counts] : profile.domains) {
    domains.push_back({{"domain", label},
                       {"tokens", counts.tokens},
                       {"layer_tokens", counts.layer_tokens},
                       {"expert_tokens", counts.expert_tokens},
                       {"top1", counts.top1}});
  }
  const json out = {{"format", "moeprofile"},
                    {"version", kMoeProfileVersion},
                    {"model",
                     {{"name", model.name},
                      {"architecture", model.architecture},
                      {"n_layer", model.n_layer},
                      {"n_expert", model.n_expert},
                      {"top_k", model.top_k},
                      {"moe_layers", model.moe_layers}}},
                    {"source", profile.source},
                    {"documents", profile.documents},
                    {"tokens", profile.tokens},
                    {"layers", layers},
                    {"domains", domains}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

CorpusProfile corpus_profile_from_text(const std::string& text, const std::string& name) {
  json in;
  try {
    in = json::parse(text);
  } catch (const json::exception& error) {
    throw Error(name + ": not a moeprofile (not JSON: " + error.what() + ")");
  }
  const JsonFields read(name, "moeprofile");
  if (!in.is_object() || in.value("format", json()) != "moeprofile") {
    throw Error(name + ": not a moeprofile (no \"format\": \"moeprofile\")");
  }
  const int64_t version = read.integer(in, "version");
  if (version != kMoeProfileVersion) {
    throw Error(name + ": moeprofile version " + std::to_string(version) + ", this moescope reads " +
                "version " + std::to_string(kMoeProfileVersion));
  }
  const json& model_json = read.field(in, "model");
  ProfileModel model;
  model.name = read.text(model_json, "name");
  model.architecture = read.text(model_json, "architecture");
  model.n_layer = static_cast<int>(read.integer(model_json, "n_layer"));
  model.n_expert = static_cast<int>(read.integer(model_json, "n_expert"));
  model.top_k = static_cast<int>(read.integer(model_json, "top_k"));
  if (model.n_expert <= 0 || model.n_expert > 65536 || model.top_k <= 0 || model.n_layer <= 0) {
    read.fail("the model's shape is out of range");
  }
  const json& moe_layers = read.field(model_json, "moe_layers");
  if (!moe_layers.is_array() || moe_layers.size() > static_cast<size_t>(model.n_layer)) {
    read.fail("\"moe_layers\" is not an array of at most n_layer layers");
  }
  model.moe_layers = read.numbers<int>(model_json, "moe_layers", moe_layers.size());

  // The tables are E x E per layer: check that the file holds them before allocating, so that a
  // corrupt shape cannot ask for gigabytes.
  const json& layers = read.field(in, "layers");
  if (!layers.is_array() || layers.size() != model.moe_layers.size()) {
    read.fail("\"layers\" does not hold one entry per MoE layer");
  }
  const auto e = static_cast<size_t>(model.n_expert);
  for (const json& in_layer : layers) {
    const json& coactivation = read.field(in_layer, "coactivation");
    if (!coactivation.is_array() || coactivation.size() != e * e) {
      read.fail("\"coactivation\" is not an array of " + std::to_string(e * e));
    }
  }

  CorpusProfile profile = make_corpus_profile(model);
  profile.source = read.text(in, "source");
  profile.documents = read.integer(in, "documents");
  profile.tokens = read.integer(in, "tokens");
  for (size_t m = 0; m < profile.layers.size(); ++m) {
    const json& in_layer = layers[m];
    ProfileLayer& layer = profile.layers[m];
    if (read.integer(in_layer, "layer") != layer.layer) read.fail("layers out of order");
    layer.tokens = read.integer(in_layer, "tokens");
    layer.token_counts = read.numbers<int64_t>(in_layer, "token_counts", e);
    layer.top1_counts = read.numbers<int64_t>(in_layer, "top1_counts", e);
    layer.gate_mass = read.numbers<double>(in_layer, "gate_mass", e);
    layer.coactivation = read.numbers<int64_t>(in_layer, "coactivation", e * e);
    const size_t transitions = m + 1 < profile.layers.size() ? e * e : 0;
    layer.transitions = read.numbers<int64_t>(in_layer, "transitions", transitions);
    layer.top1_transitions = read.numbers<int64_t>(in_layer, "top1_transitions", transitions);
    layer.reap.weighted_norm_sum = read.numbers<double>(in_layer, "reap_weighted_norm_sum", e);
    layer.reap.tokens = read.numbers<int64_t>(in_layer, "reap_tokens", e);
    const json& repetition = read.field(in_layer, "repetition");
    layer.repetition.pairs = read.integer(repetition, "pairs");
    layer.repetition.same_top1 = read.integer(repetition, "same_top1");
    layer.repetition.sets_intersect = read.integer(repetition, "sets_intersect");
    const json& cache = read.field(in_layer, "cache");
    layer.cache.requests = read.integer(cache, "requests");
    layer.cache.lru_hits = read.numbers<int64_t>(cache, "lru_hits", e);
    layer.cache.belady_hits = read.numbers<int64_t>(cache, "belady_hits", e);
    layer.by_input = read_token_table(read, in_layer, "by_input", model.n_expert);
    layer.by_next = read_token_table(read, in_layer, "by_next", model.n_expert);
    // Optional: profiles written before it was added have no predicted-token table.
    if (in_layer.contains("by_predicted"))
      layer.by_predicted = read_token_table(read, in_layer, "by_predicted", model.n_expert);
  }
  const json& domains = read.field(in, "domains");
  if (!domains.is_array()) read.fail("\"domains\" is not an array");
  const size_t n_moe = model.moe_layers.size();
  for (const json& in_domain : domains) {
    DomainCounts counts =
        make_domain_counts(read.text(in_domain, "domain"), static_cast<int>(n_moe), model.n_expert);
    counts.tokens = read.integer(in_domain, "tokens");
    counts.layer_tokens = read.numbers<int64_t>(in_domain, "layer_tokens", n_moe);
    for (const char* key : {"expert_tokens", "top1"}) {
      const json& rows = read.field(in_domain, key);
      if (!rows.is_array() || rows.size() != n_moe) read.fail(std::string("\"") + key + "\" has the wrong size");
      auto& table = std::string(key) == "top1" ? counts.top1 : counts.expert_tokens;
      for (size_t m = 0; m < n_moe; ++m) {
        table[m] = read.numbers<int64_t>(json{{"row", rows[m]}}, "row", e);
      }
    }
    const std::string label = counts.domain;
    profile.domains.emplace(label, std::move(counts));
  }
  return profile;
}

void write_corpus_profile(const std::filesystem::path& path, const CorpusProfile& profile) {
  write_file_atomically(path, corpus_profile_to_text(profile));
}

CorpusProfile read_corpus_profile(const std::filesystem::path& path) {
  return corpus_profile_from_text(read_text_file(path), path.string());
}

}  // namespace moe
