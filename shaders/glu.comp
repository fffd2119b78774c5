// The experts' gated activation: out = act(gate) * up (glu_activation.glsl) for rows laid out as
// [gate (u_width) | up (u_width)]; out rows are u_width wide. With u_has_bias each row first adds
// its expert's [gate | up] biases (gpt-oss; the row's expert from slot_experts). matmul.comp
// applies the activation itself where it computes gate and up in one pass.
layout(local_size_x = 256) in;

#define GELU_TABLE_BINDING 4
#include "glu_activation.glsl"

layout(std430, binding = 0) readonly buffer GateUp { float gate_up[]; };
layout(std430, binding = 1) writeonly buffer Output { float out_rows[]; };
layout(std430, binding = 2) readonly buffer Biases { float biases[]; };  // per expert [gate | up]
layout(std430, binding = 3) readonly buffer SlotExperts { uint slot_experts[]; };

uniform uint u_n;      // output values: rows * u_width
uniform uint u_width;
uniform uint u_activation;
uniform uint u_has_bias;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= u_n) return;
  uint row = i / u_width, col = i % u_width;
  float g = gate_up[row * 2u * u_width + col];
  float u = gate_up[row * 2u * u_width + u_width + col];
  if (u_has_bias != 0u) {
    uint bias_row = slot_experts[row] * 2u * u_width;
    g += biases[bias_row + col];
    u += biases[bias_row + u_width + col];
  }
  out_rows[i] = gated_activation(u_activation, g, u);
}
