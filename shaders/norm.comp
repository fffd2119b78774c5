// The block norm of one row per workgroup: RMSNorm y = x / sqrt(mean(x^2) + eps) * weight, or
// LayerNorm (u_layer_norm) y = (x - mean) / sqrt(var + eps) * weight; plus the bias (phimoe's
// norm biases) when u_has_bias. The result is stored, or added to y (u_accumulate: grok's norms
// of the attention / FFN outputs go straight into the residual stream), times u_alpha.
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer Input { float x[]; };
layout(std430, binding = 1) readonly buffer Weight { float weight[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer Output { float y[]; };

uniform uint u_cols;
uniform uint u_first_row;  // input row of workgroup 0 (output rows start at 0)
uniform float u_eps;
uniform uint u_layer_norm;
uniform uint u_has_bias;
uniform uint u_accumulate;
uniform float u_alpha;

shared float partial[256];

// The sum of every lane's value (a tree in shared memory), in all lanes. A macro, not a
// function: barrier() belongs in main.
#define WORKGROUP_SUM(value, result)                                     \
  partial[lane] = (value);                                               \
  barrier();                                                             \
  for (uint stride = 128u; stride > 0u; stride >>= 1) {                  \
    if (lane < stride) partial[lane] += partial[lane + stride];          \
    barrier();                                                           \
  }                                                                      \
  result = partial[0];                                                   \
  barrier();

void main() {
  uint lane = gl_LocalInvocationID.x;
  uint in_row = (u_first_row + gl_WorkGroupID.x) * u_cols;
  uint out_row = gl_WorkGroupID.x * u_cols;
  float mean = 0.0;
  if (u_layer_norm != 0u) {
    float sum = 0.0;
    for (uint c = lane; c < u_cols; c += 256u) sum += x[in_row + c];
    WORKGROUP_SUM(sum, mean)
    mean /= float(u_cols);
  }
  float squares = 0.0;
  for (uint c = lane; c < u_cols; c += 256u) {
    float centred = x[in_row + c] - mean;
    squares += centred * centred;
  }
  float total_squares;
  WORKGROUP_SUM(squares, total_squares)
  float scale = inversesqrt(total_squares / float(u_cols) + u_eps);
  for (uint c = lane; c < u_cols; c += 256u) {
    float v = (x[in_row + c] - mean) * scale * weight[c];
    if (u_has_bias != 0u) v += bias[c];
    v *= u_alpha;
    y[out_row + c] = u_accumulate != 0u ? y[out_row + c] + v : v;
  }
}
