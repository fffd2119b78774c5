#pragma once
// ggml's CPU GELU, which grok's GeGLU experts use: the tanh form of the input's f16 value,
// rounded to f16, looked up in a table of all 65536 f16 inputs; 0 at or below -10 and the input
// itself at or above 10. The CPU backend computes with it; the GL backend uploads the table.
#include <array>

namespace moe {

// Entry i: the GELU of the f16 value with bits i, rounded to f16 (as f32).
const std::array<float, 65536>& ggml_gelu_table();
float ggml_gelu(float x);

}  // namespace moe
