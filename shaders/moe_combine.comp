// The routed experts' outputs mixed per token and added to the residual stream:
// out[t] += alpha * sum over t's choices of weight * expert_out[slot], the sum taken in the order
// listed (rank order, like the CPU backend); stored instead of added unless u_accumulate.
// choices[] holds per token {first, count} in token_ranges and (slot, weight bits) pairs.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Output { float out_rows[]; };
layout(std430, binding = 1) readonly buffer ExpertOut { float expert_out[]; };
layout(std430, binding = 2) readonly buffer TokenRanges { uint token_ranges[]; };
layout(std430, binding = 3) readonly buffer Choices { uint choices[]; };

uniform uint u_cols;
uniform uint u_n_tokens;
uniform float u_alpha;  // the mix is scaled by this before the add (granite's residual multiplier)
uniform uint u_accumulate;

void main() {
  uint c = gl_GlobalInvocationID.x;
  uint t = gl_GlobalInvocationID.y;
  if (c >= u_cols || t >= u_n_tokens) return;
  uint first = token_ranges[2u * t], count = token_ranges[2u * t + 1u];
  float sum = 0.0;
  for (uint i = 0u; i < count; ++i) {
    uint slot = choices[2u * (first + i)];
    float weight = uintBitsToFloat(choices[2u * (first + i) + 1u]);
    sum += weight * expert_out[slot * u_cols + c];
  }
  uint at = t * u_cols + c;
  out_rows[at] = u_accumulate != 0u ? out_rows[at] + u_alpha * sum : u_alpha * sum;
}
