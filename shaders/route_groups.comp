// The routed slots of one MoE layer grouped by expert, from route.comp's decisions (u_top_k
// experts and weights per token), as the CPU grouping of gl_groups.cpp builds them: one slot per
// (token, chosen expert), the non-empty groups {expert, first slot, count} in expert-id order
// with their slots in token order; per slot its token row, expert and gate weight; per token
// {first choice, count} and its choices (slot, weight bits) in rank order, the weight 1.0 where
// the experts' inputs were weighted. Also the grouped matmuls' indirect dispatch sizes
// {u_row_tiles[i], slot tiles of the largest group, groups} at word u_commands_at of groups[].
// One workgroup: a counting sort by expert (the slots of a layer are few).
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer Experts { uint experts[]; };  // u_top_k per token
layout(std430, binding = 1) readonly buffer Weights { float weights[]; };
layout(std430, binding = 2) writeonly buffer Groups { uint groups[]; };
layout(std430, binding = 3) writeonly buffer SlotRows { uint slot_rows[]; };
layout(std430, binding = 4) writeonly buffer SlotExperts { uint slot_experts[]; };
layout(std430, binding = 5) writeonly buffer SlotWeights { float slot_weights[]; };
layout(std430, binding = 6) writeonly buffer TokenRanges { uint token_ranges[]; };
// Binding 7 is the IQ grids' (kIqGridBinding): gl_groups.cpp binds them back after.
layout(std430, binding = 7) writeonly buffer Choices { uint choices[]; };

#define MAX_EXPERTS 2048u  // gl_forward.hpp's kMaxGpuGroupedExperts
#define MAX_COMMANDS 4u    // gl_forward.hpp's kMaxGroupedCommands
#define TILE 8u            // matmul.comp's TILE

uniform uint u_n_tokens;
uniform uint u_top_k;
uniform uint u_n_expert;
uniform uint u_input_weighted;
uniform uint u_commands_at;
uniform uint u_n_commands;
uniform uint u_row_tiles[MAX_COMMANDS];

shared uint count[MAX_EXPERTS];
shared uint first[MAX_EXPERTS];

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint n_slots = u_n_tokens * u_top_k;
  for (uint e = lane; e < u_n_expert; e += 256u) count[e] = 0u;
  memoryBarrierShared();
  barrier();
  for (uint i = lane; i < n_slots; i += 256u) atomicAdd(count[experts[i]], 1u);
  memoryBarrierShared();
  barrier();
  if (lane == 0u) {
    uint slot = 0u, n_groups = 0u, max_count = 0u;
    for (uint e = 0u; e < u_n_expert; ++e) {
      first[e] = slot;
      if (count[e] == 0u) continue;
      groups[3u * n_groups] = e;
      groups[3u * n_groups + 1u] = slot;
      groups[3u * n_groups + 2u] = count[e];
      ++n_groups;
      max_count = max(max_count, count[e]);
      slot += count[e];
    }
    for (uint c = 0u; c < u_n_commands; ++c) {
      groups[u_commands_at + 3u * c] = u_row_tiles[c];
      groups[u_commands_at + 3u * c + 1u] = (max_count + TILE - 1u) / TILE;
      groups[u_commands_at + 3u * c + 2u] = n_groups;
    }
  }
  memoryBarrierShared();
  barrier();
  // Each expert's slots in token order: its thread walks the decisions in order.
  for (uint e = lane; e < u_n_expert; e += 256u) {
    if (count[e] == 0u) continue;
    uint slot = first[e];
    for (uint i = 0u; i < n_slots; ++i) {
      if (experts[i] != e) continue;
      slot_rows[slot] = i / u_top_k;
      slot_experts[slot] = e;
      slot_weights[slot] = weights[i];
      choices[2u * i] = slot;
      choices[2u * i + 1u] = floatBitsToUint(u_input_weighted != 0u ? 1.0 : weights[i]);
      ++slot;
    }
  }
  for (uint t = lane; t < u_n_tokens; t += 256u) {
    token_ranges[2u * t] = t * u_top_k;
    token_ranges[2u * t + 1u] = u_top_k;
  }
}
