// The experts' gated activations act(g) * u (ExpertActivation), shared by glu.comp and
// matmul.comp's gated mode so the two paths agree. The including shader defines
// GELU_TABLE_BINDING, where the host binds the GELU table.
//   SwiGLU          silu(g) * u
//   clamped SwiGLU  gpt-oss: g = min(g, 7), u = clamp(u, -7, 7), g sigmoid(1.702 g) (u + 1)
//   GeGLU           grok: ggml's CPU GELU, looked up by the f16 value of g in a table of every
//                   f16 input (uploaded: the CPU backend's own), 0 at or below -10, g at or above
//                   10, times u
// ACTIVATION_* are ExpertActivation's values, defined by the host.
layout(std430, binding = GELU_TABLE_BINDING) readonly buffer GeluTable { float gelu_table[]; };

float gated_activation(uint activation, float g, float u) {
  if (activation == ACTIVATION_CLAMPED_SWIGLU) {
    g = min(g, 7.0);
    u = clamp(u, -7.0, 7.0);
    return g / (1.0 + exp(-1.702 * g)) * (u + 1.0);
  }
  if (activation == ACTIVATION_GEGLU) {
    uint g_half = packHalf2x16(vec2(g, 0.0)) & 0xffffu;  // rounded to nearest even
    float gelu = g <= -10.0 ? 0.0 : g >= 10.0 ? g : gelu_table[g_half];
    return gelu * u;
  }
  return g / (1.0 + exp(-g)) * u;
}
