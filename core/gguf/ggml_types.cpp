// ggml tensor types: block layouts and names, and the f16 / bf16 scalar conversions.
// Whole-row conversions are in quants.cpp.
#include "moe/ggml_types.hpp"

#include <array>
#include <bit>
#include <cmath>

#include "moe/gguf_blocks.hpp"

namespace moe {
namespace {

struct TypeEntry {
  const char* name;  // nullptr for ids that are not (or no longer) ggml types
  TypeLayout layout;
};

// The layout of a type whose blocks moe/gguf_blocks.hpp defines.
template <typename Block>
constexpr TypeLayout layout_of(int elements) {
  return {static_cast<uint32_t>(elements), static_cast<uint32_t>(sizeof(Block))};
}

// Indexed by the numeric id used in GGUF files. Ids 4, 5 (the removed Q4_2 / Q4_3), 31..33
// (removed Q4_0_4_4 and friends) and 36..38 (removed IQ4_NL_4_4 ...) are holes.
constexpr std::array<TypeEntry, 40> kTypes = {{
    {"F32", {1, 4}},
    {"F16", {1, 2}},
    {"Q4_0", layout_of<BlockQ4_0>(kBlockElements)},
    {"Q4_1", layout_of<BlockQ4_1>(kBlockElements)},
    {nullptr, {0, 0}},
    {nullptr, {0, 0}},
    {"Q5_0", layout_of<BlockQ5_0>(kBlockElements)},
    {"Q5_1", layout_of<BlockQ5_1>(kBlockElements)},
    {"Q8_0", layout_of<BlockQ8_0>(kBlockElements)},
    {"Q8_1", layout_of<BlockQ8_1>(kBlockElements)},
    {"Q2_K", layout_of<BlockQ2_K>(kSuperBlockElements)},
    {"Q3_K", layout_of<BlockQ3_K>(kSuperBlockElements)},
    {"Q4_K", layout_of<BlockQ4_K>(kSuperBlockElements)},
    {"Q5_K", layout_of<BlockQ5_K>(kSuperBlockElements)},
    {"Q6_K", layout_of<BlockQ6_K>(kSuperBlockElements)},
    {"Q8_K", layout_of<BlockQ8_K>(kSuperBlockElements)},
    {"IQ2_XXS", layout_of<BlockIq2Xxs>(kSuperBlockElements)},
    {"IQ2_XS", layout_of<BlockIq2Xs>(kSuperBlockElements)},
    {"IQ3_XXS", layout_of<BlockIq3Xxs>(kSuperBlockElements)},
    {"IQ1_S", layout_of<BlockIq1S>(kSuperBlockElements)},
    {"IQ4_NL", layout_of<BlockIq4Nl>(kBlockElements)},
    {"IQ3_S", layout_of<BlockIq3S>(kSuperBlockElements)},
    {"IQ2_S", layout_of<BlockIq2S>(kSuperBlockElements)},
    {"IQ4_XS", layout_of<BlockIq4Xs>(kSuperBlockElements)},
    {"I8", {1, 1}},
    {"I16", {1, 2}},
    {"I32", {1, 4}},
    {"I64", {1, 8}},
    {"F64", {1, 8}},
    {"IQ1_M", layout_of<BlockIq1M>(kSuperBlockElements)},
    {"BF16", {1, 2}},
    {nullptr, {0, 0}},
    {nullptr, {0, 0}},
    {nullptr, {0, 0}},
    {"TQ1_0", layout_of<BlockTq1_0>(kSuperBlockElements)},
    {"TQ2_0", layout_of<BlockTq2_0>(kSuperBlockElements)},
    {nullptr, {0, 0}},
    {nullptr, {0, 0}},
    {nullptr, {0, 0}},
    {"MXFP4", layout_of<BlockMxfp4>(kBlockElements)},
}};

const TypeEntry* find_type(uint32_t type_id) {
  if (type_id >= kTypes.size() || kTypes[type_id].name == nullptr) return nullptr;
  return &kTypes[type_id];
}

// Shifts `value` right by `shift` bits (1..31), rounding to nearest, ties to even.
uint32_t shift_right_round_even(uint32_t value, unsigned shift) {
  const uint32_t kept = value >> shift;
  const uint32_t rest = value & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  return kept + ((rest > half || (rest == half && (kept & 1))) ? 1 : 0);
}

}  // namespace

std::optional<TypeLayout> type_layout(uint32_t type_id) {
  const TypeEntry* entry = find_type(type_id);
  if (!entry) return std::nullopt;
  return entry->layout;
}

std::string type_name(uint32_t type_id) {
  const TypeEntry* entry = find_type(type_id);
  if (!entry) return "unknown type " + std::to_string(type_id);
  return entry->name;
}

float f16_to_f32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in f32.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t f32_to_f16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) {
    // NaN: keep the top payload bits and force the quiet bit so it stays a NaN.
    return static_cast<uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  }
  if (magnitude >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 -> inf
  const uint32_t exponent = magnitude >> 23;
  const uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
  if (exponent < 113) {
    // Below 2^-14: a half subnormal, mantissa * 2^-24. 2^-25 and less round to zero.
    if (magnitude <= 0x33000000u) return sign;
    return static_cast<uint16_t>(sign | shift_right_round_even(mantissa, 126 - exponent));
  }
  // Normal: a carry out of the mantissa correctly bumps the exponent.
  const uint32_t rounded = ((exponent - 112) << 10) + shift_right_round_even(mantissa, 13) - 0x400u;
  return static_cast<uint16_t>(sign | rounded);
}

float bf16_to_f32(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

uint16_t f32_to_bf16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

}  // namespace moe
