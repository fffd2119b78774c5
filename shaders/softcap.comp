// y = c tanh(s y / c) with soft cap c (grok's final logits), or s y when c is 0 (a logit
// multiplier applied after the output bias, as the CPU backend orders them).
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Target { float y[]; };

uniform uint u_n;
uniform float u_scale;
uniform float u_softcap;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= u_n) return;
  float v = y[i] * u_scale;
  y[i] = u_softcap > 0.0 ? precise_tanh(v / u_softcap) * u_softcap : v;
}
