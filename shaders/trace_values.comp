// A traced MoE layer's values per token ("Inside the MoE layer"), one workgroup per token, as
// the CPU backend records them: |x| of the FFN input and its first INPUT_HEAD values, |E_j(x)|
// per choice in rank order, |routed| = |sum_j w_j E_j(x)| (w_j: the combine's weights), and with
// shared experts |g s| and |routed + g s| (g: qwen2moe's sigmoid gate of x, else 1). Squares are
// summed in double like the CPU's. Written at word u_values_at + token * u_stride of the trace:
// [input norm, routed norm, shared norm, output norm, head (INPUT_HEAD), expert norms].
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer Input { float x[]; };
layout(std430, binding = 1) readonly buffer ExpertOut { float expert_out[]; };
layout(std430, binding = 2) readonly buffer SharedOut { float shared_out[]; };
layout(std430, binding = 3) readonly buffer TokenRanges { uint token_ranges[]; };
layout(std430, binding = 4) readonly buffer Choices { uint choices[]; };
layout(std430, binding = 5) readonly buffer SharedGate { float shared_gate[]; };
layout(std430, binding = 6) buffer Trace { float trace[]; };

#define INPUT_HEAD 16u  // LayerValues::kInputHead

uniform uint u_cols;
uniform uint u_has_shared;
uniform uint u_gated;
uniform uint u_values_at;
uniform uint u_stride;

shared double partial[256];
shared float partial_float[256];

// The sum of every lane's v, returned to all lanes (uniform control flow only).
double workgroup_sum(double v) {
  uint lane = gl_LocalInvocationID.x;
  partial[lane] = v;
  memoryBarrierShared();
  barrier();
  for (uint stride = 128u; stride > 0u; stride >>= 1) {
    if (lane < stride) partial[lane] += partial[lane + stride];
    memoryBarrierShared();
    barrier();
  }
  double total = partial[0];
  barrier();  // before the next sum overwrites partial[]
  return total;
}

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint t = gl_WorkGroupID.x;
  uint row = t * u_cols;
  uint first = token_ranges[2u * t], n_choices = token_ranges[2u * t + 1u];
  uint out_at = u_values_at + t * u_stride;

  float g = 1.0;
  if (u_gated != 0u) {  // as shared_add.comp computes it
    float sum = 0.0;
    for (uint c = lane; c < u_cols; c += 256u) sum += x[row + c] * shared_gate[c];
    partial_float[lane] = sum;
    memoryBarrierShared();
    barrier();
    for (uint stride = 128u; stride > 0u; stride >>= 1) {
      if (lane < stride) partial_float[lane] += partial_float[lane + stride];
      memoryBarrierShared();
      barrier();
    }
    g = 1.0 / (1.0 + exp(-partial_float[0]));
  }

  double input_sq = 0.0, routed_sq = 0.0, shared_sq = 0.0, output_sq = 0.0;
  for (uint c = lane; c < u_cols; c += 256u) {
    float v = x[row + c];
    input_sq += double(v) * double(v);
    float routed = 0.0;
    for (uint j = 0u; j < n_choices; ++j) {
      uint slot = choices[2u * (first + j)];
      float weight = uintBitsToFloat(choices[2u * (first + j) + 1u]);
      routed += weight * expert_out[slot * u_cols + c];
    }
    routed_sq += double(routed) * double(routed);
    float mixed = routed;
    if (u_has_shared != 0u) {
      float shared_value = shared_out[row + c];
      if (u_gated != 0u) shared_value *= g;
      shared_sq += double(shared_value) * double(shared_value);
      mixed += shared_value;
    }
    output_sq += double(mixed) * double(mixed);
  }
  if (lane < min(INPUT_HEAD, u_cols)) trace[out_at + 4u + lane] = x[row + lane];
  double input_total = workgroup_sum(input_sq);
  double routed_total = workgroup_sum(routed_sq);
  double shared_total = workgroup_sum(shared_sq);
  double output_total = workgroup_sum(output_sq);
  if (lane == 0u) {
    trace[out_at] = float(sqrt(input_total));
    trace[out_at + 1u] = float(sqrt(routed_total));
    trace[out_at + 2u] = float(sqrt(shared_total));
    trace[out_at + 3u] = float(sqrt(output_total));
  }
  for (uint j = 0u; j < n_choices; ++j) {
    uint slot = choices[2u * (first + j)];
    double sq = 0.0;
    for (uint c = lane; c < u_cols; c += 256u) {
      float v = expert_out[slot * u_cols + c];
      sq += double(v) * double(v);
    }
    double total = workgroup_sum(sq);
    if (lane == 0u) trace[out_at + 4u + INPUT_HEAD + j] = float(sqrt(total));
  }
}
