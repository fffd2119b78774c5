// The experts' gated activation: out = act(gate) * up for rows laid out as [gate (u_width) |
// up (u_width)]; out rows are u_width wide. With u_has_bias each row first adds its expert's
// [gate | up] biases (gpt-oss; the row's expert from slot_experts). Activations:
//   SwiGLU          silu(g) * u
//   clamped SwiGLU  gpt-oss: g = min(g, 7), u = clamp(u, -7, 7), g sigmoid(1.702 g) (u + 1)
//   GeGLU           grok: ggml's CPU GELU, looked up by the f16 value of g in a table of every
//                   f16 input (uploaded: the CPU backend's own), 0 at or below -10, g at or above
//                   10, times u
// ACTIVATION_* are ExpertActivation's values, defined by the host.
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer GateUp { float gate_up[]; };
layout(std430, binding = 1) writeonly buffer Output { float out_rows[]; };
layout(std430, binding = 2) readonly buffer Biases { float biases[]; };  // per expert [gate | up]
layout(std430, binding = 3) readonly buffer SlotExperts { uint slot_experts[]; };
layout(std430, binding = 4) readonly buffer GeluTable { float gelu_table[]; };

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
  float result;
  if (u_activation == ACTIVATION_CLAMPED_SWIGLU) {
    g = min(g, 7.0);
    u = clamp(u, -7.0, 7.0);
    result = g / (1.0 + exp(-1.702 * g)) * (u + 1.0);
  } else if (u_activation == ACTIVATION_GEGLU) {
    uint g_half = packHalf2x16(vec2(g, 0.0)) & 0xffffu;  // rounded to nearest even
    float gelu = g <= -10.0 ? 0.0 : g >= 10.0 ? g : gelu_table[g_half];
    result = gelu * u;
  } else {
    result = g / (1.0 + exp(-g)) * u;
  }
  out_rows[i] = result;
}
