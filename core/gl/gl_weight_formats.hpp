#pragma once
// What the matmul shader knows about the stored weight types, all taken from the CPU side's
// definitions so the shaders have no numbers of their own: the type ids, the block layouts
// (moe/gguf_blocks.hpp: sizes and field offsets), the small value tables (IQ4_NL, MXFP4) as
// GLSL constants, and the IQ types' grids (moe/iq_grids.hpp) as one storage buffer.
#include <cstdint>
#include <string>
#include <vector>

#include "moe/ggml_types.hpp"

namespace moe::gl {

// The weight types the matmul shader reads, in their GGUF block layouts.
const std::vector<GgmlType>& matmul_types();

// "#define TYPE_Q4_K 12", "#define Q4_K_BYTES 144u", "#define IQ2_XXS_GRID 0u", ... and the
// value tables, for the #version line's end.
std::string weight_format_defines();

// The IQ grids side by side as 32-bit words (a 64-bit entry is two words, low first), at the
// word offsets weight_format_defines() names (IQ2_XXS_GRID, ...).
std::vector<uint32_t> iq_grid_words();

// The storage binding of the grid buffer, bound once per context (no other shader uses it).
inline constexpr unsigned kIqGridBinding = 7;

}  // namespace moe::gl
