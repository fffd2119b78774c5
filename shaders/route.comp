// Routes the tokens of an MoE layer as route_token / route_layer do on the CPU
// (core/routing/router.cpp), for the interventions that need no other token and no CPU RNG:
// scores by softmax or sigmoid of the logits (temperature applied, disabled experts at -inf),
// top-k by score plus selection bias (the bias chooses, the weights stay the scores) within the
// best groups where routing is group-limited, ties to the lower id; the chosen scores as
// weights, normalized by their sum and scaled. Sums in double where the CPU sums in double.
// One workgroup per token: its 64 threads share the experts (e = lane, lane + 64, ...) in
// shared memory, and each top-k pick is a reduction over them. A thread per token walking
// global memory serially spent about 200 us per layer on an H200, more than the layer's matmuls.
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) readonly buffer Bias { float selection_bias[]; };  // per expert
layout(std430, binding = 2) readonly buffer Enabled { uint enabled[]; };       // per expert
layout(std430, binding = 3) writeonly buffer Probs { float probs[]; };
layout(std430, binding = 4) writeonly buffer Experts { uint experts_out[]; };  // u_top_k per token
layout(std430, binding = 5) writeonly buffer Weights { float weights_out[]; };
// u_n_groups_used per token:
layout(std430, binding = 6) writeonly buffer Groups { uint groups_out[]; };

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

#define MAX_EXPERTS 2048u  // gl_forward.hpp's kMaxGpuGroupedExperts
#define MAX_GROUPS 64u     // gl_route.cpp's kMaxGpuGroups
#define MAX_TOP_K 64u
const float NEG_INF = -1.0 / 0.0;

shared float s_prob[MAX_EXPERTS];   // the token's scores
shared float s_value[MAX_EXPERTS];  // what top-k compares: score + bias, -inf outside the groups
shared bool s_candidate[MAX_EXPERTS];  // enabled and not yet chosen
shared float s_best_value[64];
shared int s_best_expert[64];
shared float s_group_score[MAX_GROUPS];
shared bool s_group_chosen[MAX_GROUPS];
shared double s_sum;
shared uint s_chosen[MAX_TOP_K];

// a better than b: a higher value, ties to the lower id; -1 is no expert.
bool better(float a_value, int a, float b_value, int b) {
  if (a < 0) return false;
  if (b < 0) return true;
  return a_value > b_value || (a_value == b_value && a < b);
}

// The best of the 64 threads' (value, expert) pairs, left in s_best_*[0].
void reduce_best(uint lane, float value, int expert) {
  s_best_value[lane] = value;
  s_best_expert[lane] = expert;
  barrier();
  for (uint half_size = 32u; half_size > 0u; half_size >>= 1) {
    if (lane < half_size && better(s_best_value[lane + half_size], s_best_expert[lane + half_size],
                                   s_best_value[lane], s_best_expert[lane])) {
      s_best_value[lane] = s_best_value[lane + half_size];
      s_best_expert[lane] = s_best_expert[lane + half_size];
    }
    barrier();
  }
}

void main() {
  uint t = gl_WorkGroupID.x;
  uint lane = gl_LocalInvocationID.x;
  if (t >= u_n_tokens) return;  // the whole workgroup
  uint n = u_n_expert;
  uint row = t * n;

  // Scores: logits / temperature (in double, as route_layer), disabled experts at -inf.
  double temperature = packDouble2x32(uvec2(u_temperature_lo, u_temperature_hi));
  float max_z = NEG_INF;
  for (uint e = lane; e < n; e += 64u) {
    bool on = enabled[e] != 0u;
    float z = on ? float(double(logits[row + e]) / temperature) : NEG_INF;
    s_prob[e] = z;
    s_candidate[e] = on;
    max_z = max(max_z, z);
  }
  reduce_best(lane, max_z, int(lane));  // the id only breaks ties: the largest max_z is kept
  max_z = s_best_value[0];
  barrier();

  if (u_softmax != 0u) {
    for (uint e = lane; e < n; e += 64u) s_prob[e] = exp(s_prob[e] - max_z);
    barrier();
    if (lane == 0u) {  // in expert order, as the CPU sums
      double sum = 0.0;
      for (uint e = 0u; e < n; ++e) sum += double(s_prob[e]);
      s_sum = sum;
    }
    barrier();
    for (uint e = lane; e < n; e += 64u) s_prob[e] = float(double(s_prob[e]) / s_sum);
  } else {
    for (uint e = lane; e < n; e += 64u) s_prob[e] = 1.0 / (1.0 + exp(-s_prob[e]));
  }
  for (uint e = lane; e < n; e += 64u) {
    probs[row + e] = s_prob[e];
    s_value[e] = u_has_bias != 0u ? s_prob[e] + selection_bias[e] : s_prob[e];
  }
  barrier();

  // Group-limited: the best groups by the sum of their two highest values, ties to lower id.
  if (u_n_groups > 0u) {
    uint per_group = n / u_n_groups;
    for (uint g = lane; g < u_n_groups; g += 64u) {
      float first = NEG_INF, second = NEG_INF;
      for (uint e = g * per_group; e < (g + 1u) * per_group; ++e) {
        float v = s_value[e];
        if (v > first) {
          second = first;
          first = v;
        } else if (v > second) {
          second = v;
        }
      }
      s_group_score[g] = per_group > 1u ? first + second : first;
      s_group_chosen[g] = false;
    }
    barrier();
    if (lane == 0u) {
      for (uint i = 0u; i < u_n_groups_used; ++i) {
        int best = -1;
        for (uint g = 0u; g < u_n_groups; ++g)
          if (!s_group_chosen[g] && (best < 0 || s_group_score[g] > s_group_score[best]))
            best = int(g);
        s_group_chosen[best] = true;
        groups_out[t * u_n_groups_used + i] = uint(best);
      }
    }
    barrier();
    for (uint e = lane; e < n; e += 64u)
      if (!s_group_chosen[e / per_group]) s_value[e] = NEG_INF;
    barrier();
  }

  // Top-k among the enabled experts, highest value first, ties to the lower id.
  for (uint j = 0u; j < u_top_k; ++j) {
    int best = -1;
    float best_value = NEG_INF;
    for (uint e = lane; e < n; e += 64u) {
      if (s_candidate[e] && (best < 0 || s_value[e] > best_value)) {
        best = int(e);
        best_value = s_value[e];
      }
    }
    reduce_best(lane, best_value, best);
    if (lane == 0u) {
      s_chosen[j] = uint(s_best_expert[0]);
      if (s_best_expert[0] >= 0) s_candidate[s_best_expert[0]] = false;
    }
    barrier();
  }

  if (lane == 0u) {  // weights: the chosen scores, normalized by their sum (in pick order)
    double chosen_sum = 0.0;
    for (uint j = 0u; j < u_top_k; ++j) chosen_sum += double(s_prob[s_chosen[j]]);
    for (uint j = 0u; j < u_top_k; ++j) {
      float weight = s_prob[s_chosen[j]];
      if (u_normalize != 0u && chosen_sum > 0.0) weight = float(double(weight) / chosen_sum);
      if (u_scale != 1.0) weight *= u_scale;
      experts_out[t * u_top_k + j] = s_chosen[j];
      weights_out[t * u_top_k + j] = weight;
    }
  }
}
