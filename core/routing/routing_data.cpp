#include "moe/routing_data.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <string_view>

#include "moe/chosen_experts.hpp"
#include "moe/error.hpp"

namespace moe {

namespace {

// Shortest text that reads back to the same value.
template <typename T>
std::string exact(T value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Reads one CSV record (RFC 4180: quoted fields may hold commas, quotes and newlines).
// Returns false at the end of the input.
bool read_record(std::istream& in, std::vector<std::string>& fields, int& line) {
  fields.clear();
  if (in.peek() == std::char_traits<char>::eof()) return false;
  ++line;
  std::string field;
  bool in_quotes = false, was_quoted = false;
  for (int c = in.get(); c != std::char_traits<char>::eof(); c = in.get()) {
    if (in_quotes) {
      if (c == '"') {
        if (in.peek() == '"') {
          field += '"';
          in.get();
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += static_cast<char>(c);
      }
    } else if (c == '"' && field.empty() && !was_quoted) {
      in_quotes = was_quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\n') {
      fields.push_back(std::move(field));
      return true;
    } else if (c != '\r') {
      field += static_cast<char>(c);
    }
  }
  if (in_quotes) throw Error("CSV line " + std::to_string(line) + ": a quoted field is not closed");
  fields.push_back(std::move(field));
  return true;
}

template <typename T>
T parse_number(const std::string& text, int line, const char* column) {
  T value{};
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (result.ec != std::errc() || result.ptr != end) {
    throw Error("CSV line " + std::to_string(line) + ": column " + column + " is not a number: '" +
                text + "'");
  }
  return value;
}

// Skips '#' comment lines (the interventions note) at the top.
void skip_comments(std::istream& in, int& line) {
  std::string comment;
  while (in.peek() == '#') {
    std::getline(in, comment);
    ++line;
  }
}

// Reads the header row; returns which of `headers` it is.
size_t expect_header(std::istream& in, const std::vector<std::string>& headers, int& line) {
  skip_comments(in, line);
  std::vector<std::string> fields;
  if (!read_record(in, fields, line)) throw Error("CSV: the file is empty (no header row)");
  std::string joined;
  for (size_t i = 0; i < fields.size(); ++i) joined += (i ? "," : "") + fields[i];
  for (size_t h = 0; h < headers.size(); ++h)
    if (joined == headers[h]) return h;
  throw Error("CSV: unexpected header '" + joined + "' (expected '" + headers.front() + "')");
}

// The interventions as a comment line, or nothing when there are none.
std::string interventions_comment(const RoutingInterventions& interventions) {
  if (interventions.empty()) return "";
  std::string text = interventions.describe();
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return "# interventions: " + text + "\n";
}

constexpr const char* kRoutingHeader =
    "token,token_id,text,layer,expert,logit,prob,rank,weight,dropped";
constexpr const char* kRoutingHeaderV1 = "token,token_id,text,layer,expert,logit,prob,rank,weight";
constexpr const char* kLoadHeader =
    "layer,expert,token_count,token_share,load_share,gate_mass,mean_prob";

const nlohmann::json& field(const nlohmann::json& object, const char* name,
                            const std::string& where) {
  if (!object.is_object() || !object.contains(name))
    throw Error("routing JSON: " + where + " has no '" + name + "'");
  return object.at(name);
}

}  // namespace

nlohmann::json interventions_to_json(const RoutingInterventions& interventions) {
  nlohmann::json by_layer = nlohmann::json::object();
  for (const auto& [layer, k] : interventions.top_k_by_layer) by_layer[std::to_string(layer)] = k;
  nlohmann::json disabled = nlohmann::json::array();
  for (const DisabledExpert& d : interventions.disabled) {
    disabled.push_back(
        {{"layer", d.layer == kAllLayers ? nlohmann::json("all") : nlohmann::json(d.layer)},
         {"expert", d.expert}});
  }
  nlohmann::json pins = nlohmann::json::array();
  for (const ExpertPin& pin : interventions.pins)
    pins.push_back({{"position", pin.position}, {"layer", pin.layer}, {"expert", pin.expert}});
  nlohmann::json expert_bias = nlohmann::json::object();
  for (const auto& [expert, bias] : interventions.expert_bias)
    expert_bias[std::to_string(expert)] = bias;
  return {{"description", interventions.describe()},
          {"top_k", interventions.top_k},
          {"top_k_by_layer", by_layer},
          {"disabled", disabled},
          {"pins", pins},
          {"rule", routing_rule_name(interventions)},
          {"temperature", interventions.temperature},
          {"noise", {{"scale", interventions.noise_scale}, {"seed", interventions.noise_seed}}},
          {"scoring", scoring_name(interventions.scoring)},
          {"expert_bias", expert_bias}};
}

RoutingInterventions interventions_from_json(const nlohmann::json& object) {
  RoutingInterventions interventions;
  try {
    if (!object.is_object()) throw Error("routing JSON: 'interventions' is not an object");
    interventions.top_k = object.value("top_k", 0);
    if (object.contains("top_k_by_layer")) {
      for (const auto& [layer, k] : object.at("top_k_by_layer").items())
        interventions.top_k_by_layer[std::stoi(layer)] = k.get<int>();
    }
    if (object.contains("disabled")) {
      for (const nlohmann::json& d : object.at("disabled")) {
        const nlohmann::json& layer = field(d, "layer", "a disabled expert");
        interventions.disabled.push_back(
            {layer.is_string() && layer.get<std::string>() == "all" ? kAllLayers : layer.get<int>(),
             field(d, "expert", "a disabled expert").get<int>()});
      }
    }
    if (object.contains("pins")) {
      for (const nlohmann::json& pin : object.at("pins")) {
        interventions.pins.push_back({field(pin, "position", "a pin").get<int>(),
                                      field(pin, "layer", "a pin").get<int>(),
                                      field(pin, "expert", "a pin").get<int>()});
      }
    }
    parse_routing_rule(object.value("rule", std::string("topk")), interventions);
    // The router knobs (absent in files written before them: the defaults).
    interventions.temperature = object.value("temperature", 1.0);
    if (object.contains("noise")) {
      const nlohmann::json& noise = object.at("noise");
      interventions.noise_scale = field(noise, "scale", "the noise").get<double>();
      interventions.noise_seed = field(noise, "seed", "the noise").get<uint64_t>();
    }
    interventions.scoring = parse_scoring(object.value("scoring", std::string("model")));
    if (object.contains("expert_bias")) {
      for (const auto& [expert, bias] : object.at("expert_bias").items())
        interventions.expert_bias[std::stoi(expert)] = bias.get<double>();
    }
  } catch (const nlohmann::json::exception& error) {
    throw Error(std::string("routing JSON: interventions: ") + error.what());
  } catch (const std::invalid_argument&) {  // std::stoi of a bad layer or expert key
    throw Error(std::string("routing JSON: interventions: a layer or expert key is not a number"));
  } catch (const std::out_of_range&) {
    throw Error(std::string("routing JSON: interventions: a layer key is out of range"));
  }
  return interventions;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  return quoted(text);
}

nlohmann::json routing_stats_json(const RoutingStats& stats) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t m = 0; m < stats.layers.size(); ++m) {
    const LayerLoad& load = stats.layers[m];
    layers.push_back({{"layer", load.layer},
                      {"token_counts", load.token_counts},
                      {"gate_mass", load.gate_mass},
                      {"mean_prob", load.mean_prob},
                      {"cv", load.cv},
                      {"max_over_mean", load.max_over_mean},
                      {"switch_aux_loss", load.switch_aux_loss},
                      {"unused_share", load.unused_share},
                      {"mean_entropy", load.mean_entropy},
                      {"dropped", load.dropped},
                      {"coactivation", stats.coactivation[m]}});
    if (m < stats.transitions.size()) layers.back()["transitions_to_next"] = stats.transitions[m];
  }
  return {{"interventions", interventions_to_json(stats.interventions)},
          {"scores_known", stats.scores_known},
          {"first_token", stats.first_token},
          {"n_tokens", stats.n_tokens},
          {"layers", layers},
          {"token_entropy", stats.token_entropy}};
}

nlohmann::json routing_to_json(const RoutingModelInfo& model,
                               const std::vector<RoutingTokenInfo>& tokens,
                               const RoutingTrace& trace, int first_token) {
  nlohmann::json token_list = nlohmann::json::array();
  for (const RoutingTokenInfo& token : tokens)
    token_list.push_back({{"position", token.position}, {"id", token.id}, {"text", token.text}});
  nlohmann::json layers = nlohmann::json::array();
  for (int layer : trace.moe_layers()) {
    nlohmann::json routing = nlohmann::json::array();
    for (int t = first_token; t < trace.n_tokens(); ++t) {
      const RoutingRecord& record = trace.at(t, layer);
      // A chosen-experts-only trace's equal weights are a stand-in, not data: written as none.
      routing.push_back(
          {{"logits", record.logits},
           {"probs", record.probs},
           {"experts", record.experts},
           {"weights", trace.chosen_experts_only() ? std::vector<float>() : record.weights},
           {"dropped", record.dropped},
           {"pinned", record.pinned}});
    }
    layers.push_back({{"layer", layer}, {"routing", routing}});
  }
  return {{"schema_version", kRoutingSchemaVersion},
          {"model", model.name},
          {"model_path", model.path},
          {"architecture", model.architecture},
          {"n_layer", model.n_layer},
          {"n_expert", trace.n_expert()},
          {"top_k", trace.top_k()},
          {"chosen_experts_only", trace.chosen_experts_only()},
          {"interventions", interventions_to_json(trace.interventions())},
          {"tokens", token_list},
          {"layers", layers},
          {"stats", routing_stats_json(compute_routing_stats(trace, first_token))}};
}

RoutingTrace routing_trace_from_json(const nlohmann::json& document) {
  try {
    const int version = field(document, "schema_version", "the document").get<int>();
    if (version > kRoutingSchemaVersion) {
      throw Error("routing JSON: schema_version " + std::to_string(version) +
                  " is newer than this moescope reads (" + std::to_string(kRoutingSchemaVersion) +
                  ")");
    }
    const int n_layer = field(document, "n_layer", "the document").get<int>();
    const int n_expert = field(document, "n_expert", "the document").get<int>();
    const int top_k = field(document, "top_k", "the document").get<int>();
    const nlohmann::json& layers = field(document, "layers", "the document");
    const nlohmann::json& tokens = field(document, "tokens", "the document");
    std::vector<int> moe_layers;
    for (const nlohmann::json& layer : layers)
      moe_layers.push_back(field(layer, "layer", "a layer").get<int>());
    RoutingTrace trace(n_layer, n_expert, top_k, moe_layers);
    const bool chosen_only = document.value("chosen_experts_only", false);
    trace.set_chosen_experts_only(chosen_only);
    if (document.contains("interventions"))
      trace.set_interventions(interventions_from_json(document.at("interventions")));
    const int first_token =
        tokens.empty() ? 0 : field(tokens.front(), "position", "a token").get<int>();
    for (const nlohmann::json& layer : layers) {
      const int index = layer.at("layer").get<int>();
      const std::string where = "layer " + std::to_string(index);
      const nlohmann::json& routing = field(layer, "routing", where);
      if (routing.size() != tokens.size())
        throw Error("routing JSON: " + where + " has " + std::to_string(routing.size()) +
                    " routing entries for " + std::to_string(tokens.size()) + " tokens");
      for (size_t t = 0; t < routing.size(); ++t) {
        RoutingRecord record;
        record.logits = field(routing[t], "logits", where).get<std::vector<float>>();
        record.probs = field(routing[t], "probs", where).get<std::vector<float>>();
        record.experts = field(routing[t], "experts", where).get<std::vector<int32_t>>();
        record.weights = field(routing[t], "weights", where).get<std::vector<float>>();
        if (routing[t].contains("dropped"))
          record.dropped = routing[t].at("dropped").get<std::vector<int32_t>>();
        if (routing[t].contains("pinned")) record.pinned = routing[t].at("pinned").get<bool>();
        if (chosen_only) record = chosen_experts_record(std::move(record.experts));
        for (int32_t expert : record.experts)
          if (expert < 0 || expert >= n_expert)
            throw Error("routing JSON: " + where + ": expert id " + std::to_string(expert) +
                        " is outside 0.." + std::to_string(n_expert - 1));
        if (record.weights.size() != record.experts.size())
          throw Error("routing JSON: " + where + ": " + std::to_string(record.weights.size()) +
                      " weights for " + std::to_string(record.experts.size()) + " experts");
        trace.set(first_token + static_cast<int>(t), index, std::move(record));
      }
    }
    return trace;
  } catch (const nlohmann::json::exception& error) {
    throw Error(std::string("routing JSON: ") + error.what());
  }
}

void write_routing_csv(std::ostream& out, const std::vector<RoutingTokenInfo>& tokens,
                       const RoutingTrace& trace, int first_token) {
  out << interventions_comment(trace.interventions()) << kRoutingHeader << '\n';
  for (int t = first_token; t < trace.n_tokens(); ++t) {
    const RoutingTokenInfo& token = tokens.at(static_cast<size_t>(t - first_token));
    const std::string text = quoted(token.text);
    for (int layer : trace.moe_layers()) {
      const RoutingRecord& record = trace.at(t, layer);
      if (trace.chosen_experts_only()) {  // no scores: one row per chosen expert
        for (size_t rank = 0; rank < record.experts.size(); ++rank)
          out << t << ',' << token.id << ',' << text << ',' << layer << ',' << record.experts[rank]
              << ",,," << rank << ",,0\n";
        continue;
      }
      for (size_t e = 0; e < record.probs.size(); ++e) {
        const auto chosen =
            std::find(record.experts.begin(), record.experts.end(), static_cast<int32_t>(e));
        out << t << ',' << token.id << ',' << text << ',' << layer << ',' << e << ','
            << exact(record.logits[e]) << ',' << exact(record.probs[e]) << ',';
        if (chosen != record.experts.end()) {
          const auto rank = static_cast<size_t>(chosen - record.experts.begin());
          out << rank << ',' << exact(record.weights[rank]);
        } else {
          out << ',';
        }
        const bool dropped =
            std::find(record.dropped.begin(), record.dropped.end(), static_cast<int32_t>(e)) !=
            record.dropped.end();
        out << ',' << (dropped ? 1 : 0) << '\n';
      }
    }
  }
}

void write_load_csv(std::ostream& out, const RoutingStats& stats, int top_k) {
  out << interventions_comment(stats.interventions) << kLoadHeader << '\n';
  const double tokens = std::max(1, stats.n_tokens);
  for (const LayerLoad& load : stats.layers) {
    // Slots filled at this layer: tokens * top_k unless interventions changed that.
    double slots = 0;
    for (int64_t count : load.token_counts) slots += static_cast<double>(count);
    if (slots <= 0) slots = tokens * std::max(1, top_k);
    for (size_t e = 0; e < load.token_counts.size(); ++e) {
      const auto count = static_cast<double>(load.token_counts[e]);
      out << load.layer << ',' << e << ',' << load.token_counts[e] << ',' << exact(count / tokens)
          << ',' << exact(count / slots) << ','
          << exact(e < load.gate_mass.size() ? load.gate_mass[e] : 0.0) << ','
          << exact(e < load.mean_prob.size() ? load.mean_prob[e] : 0.0) << '\n';
    }
  }
}

std::vector<RoutingCsvRow> read_routing_csv(std::istream& in) {
  int line = 0;
  const size_t columns =
      expect_header(in, {kRoutingHeader, kRoutingHeaderV1}, line) == 0 ? 10 : 9;
  std::vector<RoutingCsvRow> rows;
  std::vector<std::string> f;
  while (read_record(in, f, line)) {
    if (f.size() == 1 && f[0].empty()) continue;
    if (f.size() != columns)
      throw Error("CSV line " + std::to_string(line) + ": " + std::to_string(f.size()) +
                  " fields, expected " + std::to_string(columns));
    RoutingCsvRow row;
    row.token = parse_number<int>(f[0], line, "token");
    row.token_id = parse_number<int32_t>(f[1], line, "token_id");
    row.text = f[2];
    row.layer = parse_number<int>(f[3], line, "layer");
    row.expert = parse_number<int>(f[4], line, "expert");
    // Empty scores: a chosen-experts-only trace.
    const float unknown = std::numeric_limits<float>::quiet_NaN();
    row.logit = f[5].empty() ? unknown : parse_number<float>(f[5], line, "logit");
    row.prob = f[6].empty() ? unknown : parse_number<float>(f[6], line, "prob");
    if (!f[7].empty()) {
      row.rank = parse_number<int>(f[7], line, "rank");
      row.weight = f[8].empty() ? unknown : parse_number<float>(f[8], line, "weight");
    }
    if (columns == 10) row.dropped = parse_number<int>(f[9], line, "dropped") != 0;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<LoadCsvRow> read_load_csv(std::istream& in) {
  int line = 0;
  expect_header(in, {kLoadHeader}, line);
  std::vector<LoadCsvRow> rows;
  std::vector<std::string> f;
  while (read_record(in, f, line)) {
    if (f.size() == 1 && f[0].empty()) continue;
    if (f.size() != 7)
      throw Error("CSV line " + std::to_string(line) + ": " + std::to_string(f.size()) +
                  " fields, expected 7");
    LoadCsvRow row;
    row.layer = parse_number<int>(f[0], line, "layer");
    row.expert = parse_number<int>(f[1], line, "expert");
    row.token_count = parse_number<int64_t>(f[2], line, "token_count");
    row.token_share = parse_number<double>(f[3], line, "token_share");
    row.load_share = parse_number<double>(f[4], line, "load_share");
    row.gate_mass = parse_number<double>(f[5], line, "gate_mass");
    row.mean_prob = parse_number<double>(f[6], line, "mean_prob");
    rows.push_back(row);
  }
  return rows;
}

}  // namespace moe
