// Routes one token per invocation at an MoE layer as route_token / route_layer do on the CPU
// (core/routing/router.cpp), for the interventions that need no other token and no CPU RNG:
// scores by softmax or sigmoid of the logits (temperature applied, disabled experts at -inf),
// top-k by score plus selection bias (the bias chooses, the weights stay the scores) within the
// best groups where routing is group-limited, ties to the lower id; the chosen scores as
// weights, normalized by their sum and scaled. Sums in double where the CPU sums in double.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) readonly buffer Bias { float selection_bias[]; };  // per expert
layout(std430, binding = 2) readonly buffer Enabled { uint enabled[]; };       // per expert
layout(std430, binding = 3) buffer Probs { float probs[]; };
layout(std430, binding = 4) buffer Experts { uint experts_out[]; };  // u_top_k per token
layout(std430, binding = 5) writeonly buffer Weights { float weights_out[]; };
layout(std430, binding = 6) buffer Groups { uint groups_out[]; };  // u_n_groups_used per token

uniform uint u_n_tokens;
uniform uint u_n_expert;
uniform uint u_top_k;
uniform uint u_softmax;  // else sigmoid
uniform uint u_has_bias;
uniform uint u_normalize;
uniform float u_scale;
uniform uint u_temperature_lo;  // the temperature's double, as two words
uniform uint u_temperature_hi;
uniform uint u_n_groups;  // 0: not group-limited (at most MAX_GROUPS)
uniform uint u_n_groups_used;

#define MAX_GROUPS 64
const float NEG_INF = -1.0 / 0.0;

// What top-k and the group scores compare: the score plus the selection bias.
float biased(uint t, uint e) {
  float p = probs[t * u_n_expert + e];
  return u_has_bias != 0u ? p + selection_bias[e] : p;
}

bool in_chosen_group(uint t, uint e) {
  if (u_n_groups == 0u) return true;
  uint group = e / (u_n_expert / u_n_groups);
  for (uint i = 0u; i < u_n_groups_used; ++i)
    if (groups_out[t * u_n_groups_used + i] == group) return true;
  return false;
}

void main() {
  uint t = gl_GlobalInvocationID.x;
  if (t >= u_n_tokens) return;
  uint row = t * u_n_expert;
  // Scores: logits / temperature (in double, as route_layer), disabled experts at -inf.
  double temperature = packDouble2x32(uvec2(u_temperature_lo, u_temperature_hi));
  float max_z = NEG_INF;
  for (uint e = 0u; e < u_n_expert; ++e) {
    float z = enabled[e] != 0u ? float(double(logits[row + e]) / temperature) : NEG_INF;
    probs[row + e] = z;
    max_z = max(max_z, z);
  }
  if (u_softmax != 0u) {
    double sum = 0.0;
    for (uint e = 0u; e < u_n_expert; ++e) {
      float p = exp(probs[row + e] - max_z);
      probs[row + e] = p;
      sum += double(p);
    }
    for (uint e = 0u; e < u_n_expert; ++e) probs[row + e] = float(double(probs[row + e]) / sum);
  } else {
    for (uint e = 0u; e < u_n_expert; ++e) probs[row + e] = 1.0 / (1.0 + exp(-probs[row + e]));
  }

  // Group-limited: the best groups by the sum of their two highest values, ties to lower id.
  if (u_n_groups > 0u) {
    uint per_group = u_n_expert / u_n_groups;
    float score[MAX_GROUPS];
    for (uint g = 0u; g < u_n_groups; ++g) {
      float first = NEG_INF, second = NEG_INF;
      for (uint e = g * per_group; e < (g + 1u) * per_group; ++e) {
        float v = biased(t, e);
        if (v > first) {
          second = first;
          first = v;
        } else if (v > second) {
          second = v;
        }
      }
      score[g] = per_group > 1u ? first + second : first;
    }
    for (uint i = 0u; i < u_n_groups_used; ++i) {
      int best = -1;
      for (uint g = 0u; g < u_n_groups; ++g) {
        bool taken = false;
        for (uint j = 0u; j < i; ++j) taken = taken || groups_out[t * u_n_groups_used + j] == g;
        if (!taken && (best < 0 || score[g] > score[best])) best = int(g);
      }
      groups_out[t * u_n_groups_used + i] = uint(best);
    }
  }

  // Top-k among the enabled experts, highest value first, ties to the lower id.
  uint first_slot = t * u_top_k;
  double chosen_sum = 0.0;
  for (uint j = 0u; j < u_top_k; ++j) {
    int best = -1;
    float best_value = NEG_INF;
    for (uint e = 0u; e < u_n_expert; ++e) {
      if (enabled[e] == 0u) continue;
      bool taken = false;
      for (uint i = 0u; i < j; ++i) taken = taken || experts_out[first_slot + i] == e;
      if (taken) continue;
      float value = in_chosen_group(t, e) ? biased(t, e) : NEG_INF;
      if (best < 0 || value > best_value) {
        best = int(e);
        best_value = value;
      }
    }
    experts_out[first_slot + j] = uint(best);
    chosen_sum += double(probs[row + uint(best)]);
  }
  for (uint j = 0u; j < u_top_k; ++j) {
    float weight = probs[row + experts_out[first_slot + j]];
    if (u_normalize != 0u && chosen_sum > 0.0) weight = float(double(weight) / chosen_sum);
    if (u_scale != 1.0) weight *= u_scale;
    weights_out[first_slot + j] = weight;
  }
}
