#pragma once
// The routing trace and the load tables as data files (README, "Export"):
// - JSON: schema_version, model, model_path, architecture, n_layer, n_expert, top_k,
//   chosen_experts_only (true: a server's or imported trace, moe/chosen_experts.hpp; logits,
//   probs and weights are then empty lists),
//   interventions {description, top_k, top_k_by_layer, disabled[], pins[], rule},
//   tokens[] {position, id, text}, layers[] {layer, routing[] {logits, probs, experts, weights,
//   dropped, pinned}} (one routing entry per token, in token order) and stats (loads, balance,
//   co-activation).
// - trace CSV: one row per (token, layer, expert):
//   token,token_id,text,layer,expert,logit,prob,rank,weight,dropped (rank and weight empty when
//   the expert was not chosen; dropped 1 when a capacity rule dropped the token's choice).
// - load CSV: one row per (layer, expert):
//   layer,expert,token_count,token_share,load_share,gate_mass,mean_prob.
// A chosen-experts-only trace has one trace row per chosen expert, logit, prob and weight empty
// (read back as NaN).
// Both CSV tables start with a "# interventions: ..." line when routing interventions were on.
// Numbers are written with enough digits to read back to the same float / double.
// Schema 2 (interventions): experts per token may be 0 .. n_expert, not always top_k.
#include <cstdint>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "moe/routing.hpp"
#include "moe/routing_stats.hpp"

namespace moe {

// Bumped when a field changes meaning or goes away (new fields keep the version).
inline constexpr int kRoutingSchemaVersion = 2;

struct RoutingTokenInfo {
  int position = 0;
  int32_t id = 0;
  std::string text;  // valid UTF-8 (the caller replaces invalid bytes)
};

struct RoutingModelInfo {
  std::string name;  // general.name, or the file name
  std::string path;
  std::string architecture;
  int n_layer = 0;
};

// `tokens[i]` describes position first_token + i; there is one per traced position from
// first_token on.
nlohmann::json routing_to_json(const RoutingModelInfo& model,
                               const std::vector<RoutingTokenInfo>& tokens,
                               const RoutingTrace& trace, int first_token = 0);
nlohmann::json routing_stats_json(const RoutingStats& stats);
// The interventions as JSON ({"description": ...} plus every field) and back (moe::Error for a
// malformed object; validate() is the caller's business).
nlohmann::json interventions_to_json(const RoutingInterventions& interventions);
RoutingInterventions interventions_from_json(const nlohmann::json& object);
// The trace back from routing_to_json's document; throws moe::Error naming what is missing.
RoutingTrace routing_trace_from_json(const nlohmann::json& document);

void write_routing_csv(std::ostream& out, const std::vector<RoutingTokenInfo>& tokens,
                       const RoutingTrace& trace, int first_token = 0);
// token_share = token_count / tokens; load_share = token_count / (slots filled at the layer)
// (sums to 1 over a layer's experts; slots = tokens * top_k without interventions).
void write_load_csv(std::ostream& out, const RoutingStats& stats, int top_k);

struct RoutingCsvRow {
  int token = 0;
  int32_t token_id = 0;
  std::string text;
  int layer = 0;
  int expert = 0;
  float logit = 0, prob = 0;
  int rank = -1;  // -1: not chosen
  float weight = 0;
  bool dropped = false;  // chosen but dropped by a capacity rule (schema 2)
};
struct LoadCsvRow {
  int layer = 0;
  int expert = 0;
  int64_t token_count = 0;
  double token_share = 0, load_share = 0, gate_mass = 0, mean_prob = 0;
};
// Readers for the two CSV tables (tests, notebooks' counterpart); throw moe::Error with the line.
// They skip '#' comment lines and read the schema 1 trace table (without `dropped`) too.
std::vector<RoutingCsvRow> read_routing_csv(std::istream& in);
std::vector<LoadCsvRow> read_load_csv(std::istream& in);

// One CSV field quoted when it must be (comma, quote, newline), quotes doubled.
std::string csv_field(const std::string& text);

}  // namespace moe
