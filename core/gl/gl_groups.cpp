// The routed (token, expert) slots of one MoE layer grouped by expert for the grouped matmuls:
// on the GPU from route.comp's decisions (route_groups.comp, nothing read back), or on the CPU
// from route_layer's decisions and uploaded, in the same layout, so the FFN after routing is one
// path. Groups are the non-empty experts in id order, their slots in token order.
#include <algorithm>
#include <bit>

#include "gl_forward.hpp"
#include "gl_weight_formats.hpp"
#include "moe/error.hpp"

namespace moe {

using gl::ceil_div;

void GlBackend::Impl::plan_grouped_commands(const gl::LayerBuffers& layer,
                                            const ModelConfig& config) {
  std::vector<unsigned>& row_tiles = scratch.grouped_row_tiles;
  row_tiles.clear();
  const auto plan = [&](unsigned rows) {
    const unsigned tiles = ceil_div(rows, gl::kMatmulRowsPerGroup);
    if (std::find(row_tiles.begin(), row_tiles.end(), tiles) == row_tiles.end())
      row_tiles.push_back(tiles);
  };
  if (gated_in_matmul(layer.gate_up)) {
    plan(layer.gate_up.rows / 2);  // the gated matmul's outputs
  } else {
    for (const gl::Matrix& part : layer.gate_up.parts) plan(part.rows);
  }
  plan(layer.down.rows);
  const unsigned n_expert = static_cast<unsigned>(config.n_expert);
  if (row_tiles.size() > gl::kMaxGroupedCommands)
    throw Error("GL grouping: more distinct expert matrix heights than route_groups.comp plans");
  scratch.commands_at = 3 * n_expert;
  scratch.groups.reserve(sizeof(uint32_t) * (scratch.commands_at + 3 * row_tiles.size()));
}

void GlBackend::Impl::group_on_gpu(const ModelConfig& config, unsigned n,
                                   const gl::RoutedLayer& routed) {
  gl::Scratch& s = scratch;
  const size_t n_slots = std::max<size_t>(routed.n_slots, 1);
  s.slot_rows.reserve(n_slots * sizeof(uint32_t));
  s.slot_experts.reserve(n_slots * sizeof(uint32_t));
  s.slot_weights.reserve(gl::floats(n_slots));
  s.token_ranges.reserve(2 * static_cast<size_t>(n) * sizeof(uint32_t));
  s.choices.reserve(2 * n_slots * sizeof(uint32_t));
  gl::Program& program = *device->route_groups;
  program.use();
  program.set("u_n_tokens", n);
  program.set("u_top_k", static_cast<unsigned>(routed.top_k));
  program.set("u_n_expert", static_cast<unsigned>(config.n_expert));
  program.set("u_input_weighted", config.expert_input_weighted ? 1u : 0u);
  program.set("u_commands_at", s.commands_at);
  program.set("u_n_commands", static_cast<unsigned>(s.grouped_row_tiles.size()));
  program.set("u_row_tiles", s.grouped_row_tiles.data(), s.grouped_row_tiles.size());
  gl::bind(0, s.route_experts);
  gl::bind(1, s.route_weights);
  gl::bind(2, s.groups);
  gl::bind(3, s.slot_rows);
  gl::bind(4, s.slot_experts);
  gl::bind(5, s.slot_weights);
  gl::bind(6, s.token_ranges);
  gl::bind(gl::kIqGridBinding, s.choices);  // the one shader that needs 8 bindings
  gl::dispatch(1);
  gl::bind(gl::kIqGridBinding, device->iq_grids);  // where the matmuls expect the IQ grids
}

void GlBackend::Impl::group_on_host(const ModelConfig& config, unsigned n,
                                    gl::RoutedLayer& routed) {
  const auto n_expert = static_cast<size_t>(config.n_expert);
  const std::vector<RouteDecision>& decisions = routed.decisions;
  struct Choice {
    unsigned token;
    size_t rank;  // in the token's chosen experts
  };
  std::vector<std::vector<Choice>> tokens_of_expert(n_expert);
  for (unsigned t = 0; t < n; ++t) {
    const RouteDecision& decision = decisions[t];
    for (size_t j = 0; j < decision.experts.size(); ++j) {
      tokens_of_expert[static_cast<size_t>(decision.experts[j])].push_back({t, j});
    }
  }

  // Slots: (expert, token) pairs grouped by expert in id order, each with its expert and its
  // gate weight; the indirect dispatch sizes after the groups.
  std::vector<uint32_t> groups, slot_rows, slot_experts;
  std::vector<float> slot_weights;
  std::vector<std::vector<uint32_t>> slot_of_rank(n);  // per token, the slot of each choice
  unsigned max_slots = 0;
  for (unsigned e = 0; e < n_expert; ++e) {
    const auto& chosen = tokens_of_expert[e];
    if (chosen.empty()) continue;
    groups.insert(groups.end(), {e, static_cast<uint32_t>(slot_rows.size()),
                                 static_cast<uint32_t>(chosen.size())});
    max_slots = std::max(max_slots, static_cast<unsigned>(chosen.size()));
    for (const Choice& choice : chosen) {
      std::vector<uint32_t>& ranks = slot_of_rank[choice.token];
      if (ranks.size() <= choice.rank) ranks.resize(choice.rank + 1);
      ranks[choice.rank] = static_cast<uint32_t>(slot_rows.size());
      slot_rows.push_back(choice.token);
      slot_experts.push_back(e);
      slot_weights.push_back(decisions[choice.token].weights[choice.rank]);
    }
  }
  const auto n_groups = static_cast<uint32_t>(groups.size() / 3);
  groups.resize(scratch.commands_at, 0);
  for (unsigned row_tiles : scratch.grouped_row_tiles)
    groups.insert(groups.end(), {row_tiles, ceil_div(max_slots, gl::kMatmulTile), n_groups});
  // Per token, its slots in rank order, so the mix adds the experts in the CPU backend's order;
  // llama4's weights were applied to the experts' inputs: its outputs are added as they are.
  std::vector<uint32_t> token_ranges, choices;
  for (unsigned t = 0; t < n; ++t) {
    token_ranges.push_back(static_cast<uint32_t>(choices.size() / 2));
    token_ranges.push_back(static_cast<uint32_t>(slot_of_rank[t].size()));
    for (size_t rank = 0; rank < slot_of_rank[t].size(); ++rank) {
      choices.push_back(slot_of_rank[t][rank]);
      const float weight = config.expert_input_weighted ? 1.0f : decisions[t].weights[rank];
      choices.push_back(std::bit_cast<uint32_t>(weight));
    }
  }
  routed.n_slots = slot_rows.size();
  gl::upload_values(scratch.groups, groups);
  gl::upload_values(scratch.slot_rows, slot_rows);
  gl::upload_values(scratch.slot_experts, slot_experts);
  gl::upload_values(scratch.slot_weights, slot_weights);
  gl::upload_values(scratch.token_ranges, token_ranges);
  gl::upload_values(scratch.choices, choices);
}

}  // namespace moe
