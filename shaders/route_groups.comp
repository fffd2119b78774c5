// route.comp's decisions (u_top_k experts and weights per token) turned into what the grouped
// matmuls and moe_combine read, in the order the CPU path builds them: slots grouped by expert
// in id order, tokens in order within an expert; per token its slots in rank order. One
// invocation loops over everything (a few thousand slots at most per call).
// groups[] gets one {expert, first slot, slot count} per expert, empty ones included (their
// matmul workgroups leave at once).
layout(local_size_x = 1) in;

layout(std430, binding = 0) readonly buffer Experts { uint experts[]; };
layout(std430, binding = 1) readonly buffer Weights { float weights[]; };
layout(std430, binding = 2) buffer Groups { uint groups[]; };
layout(std430, binding = 3) writeonly buffer SlotRows { uint slot_rows[]; };
layout(std430, binding = 4) writeonly buffer SlotExperts { uint slot_experts[]; };
layout(std430, binding = 5) writeonly buffer SlotWeights { float slot_weights[]; };
layout(std430, binding = 6) writeonly buffer TokenRanges { uint token_ranges[]; };
layout(std430, binding = 7) writeonly buffer Choices { uint choices[]; };

uniform uint u_n_tokens;
uniform uint u_top_k;
uniform uint u_n_expert;
uniform uint u_input_weighted;  // llama4: the weights scale the inputs, the mix adds with 1

void main() {
  uint n_choices = u_n_tokens * u_top_k;
  for (uint e = 0u; e < u_n_expert; ++e) {
    groups[3u * e] = e;
    groups[3u * e + 2u] = 0u;
  }
  for (uint i = 0u; i < n_choices; ++i) groups[3u * experts[i] + 2u] += 1u;
  uint first = 0u;
  for (uint e = 0u; e < u_n_expert; ++e) {
    groups[3u * e + 1u] = first;
    first += groups[3u * e + 2u];
    groups[3u * e + 2u] = 0u;  // counted again while the slots are filled
  }
  for (uint t = 0u; t < u_n_tokens; ++t) {
    token_ranges[2u * t] = t * u_top_k;
    token_ranges[2u * t + 1u] = u_top_k;
    for (uint j = 0u; j < u_top_k; ++j) {
      uint i = t * u_top_k + j, e = experts[i];
      uint slot = groups[3u * e + 1u] + groups[3u * e + 2u];
      groups[3u * e + 2u] += 1u;
      slot_rows[slot] = t;
      slot_experts[slot] = e;
      slot_weights[slot] = weights[i];
      choices[2u * i] = slot;
      choices[2u * i + 1u] = floatBitsToUint(u_input_weighted != 0u ? 1.0 : weights[i]);
    }
  }
}
