// The quantized dot-product kernels (core/backend/cpu_quant_dot*.cpp):
// - activation quantization: d = max|x| / 127, q = round(x / d), group sums;
// - the scalar kernels equal Σ dequantized weight × dequantized activation (computed in double
//   from dequantize_row, the bit-exact ggml decoders) to 1e-5 of Σ|w·a|;
// - the vectorized kernels of every SIMD level this CPU runs (AVX2, AVX-VNNI, AVX-512 VNNI) equal
//   the scalar ones exactly when every float in play is a small integer
//   (unit scales: only the integer parts are left), and to 1e-5 of Σ|w·a| with real scales;
// - the many-token kernels give each token exactly what it gets alone (and, for the types whose
//   kernels are built that way, exactly the one-token kernel's result);
// - F16 / BF16 with f32 activations: scalar and AVX2 within the rounding bounds of their two
//   summation orders, and equal when every partial sum is exact; the activations rounded to the
//   weights' type first, as ggml does (also on the convert + Eigen path, not with --exact).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "../core/backend/cpu_kernels.hpp"  // private to the backend; tested directly here
#include "../core/backend/cpu_quant_dot.hpp"  // private to the backend; tested directly here
#include "moe/error.hpp"
#include "moe/little_endian.hpp"
#include "random_quant.hpp"

namespace {

using moe::GgmlType;
using moe::cpu::ActivationBlock256;
using moe::cpu::ActivationBlock32;
using moe::cpu::QuantDot;
using moe::cpu::SimdLevel;

// The vectorized levels this CPU runs: each is tested against the scalar reference.
std::vector<SimdLevel> vectorized_levels() {
  std::vector<SimdLevel> levels = moe::cpu::supported_simd_levels();
  levels.erase(levels.begin());  // Scalar
  return levels;
}

// One kernel: a type at a SIMD level.
struct KernelCase {
  GgmlType type;
  SimdLevel level;
};

std::string case_name(const KernelCase& c) {
  std::string name = moe::type_name(c.type) + "_" + std::string(simd_level_name(c.level));
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// Every (type, level) pair of `types` × `levels` for which `keep` holds.
template <typename Keep>
std::vector<KernelCase> kernel_cases(std::initializer_list<GgmlType> types,
                                     const std::vector<SimdLevel>& levels, Keep keep) {
  std::vector<KernelCase> cases;
  for (SimdLevel level : levels)
    for (GgmlType type : types)
      if (keep(KernelCase{type, level})) cases.push_back({type, level});
  return cases;
}

// Every (type, level) pair of `types` × `levels`.
std::vector<KernelCase> kernel_cases(std::initializer_list<GgmlType> types,
                                     const std::vector<SimdLevel>& levels) {
  return kernel_cases(types, levels, [](const KernelCase&) { return true; });
}

const auto kTypes = {GgmlType::Q4_0,   GgmlType::Q4_1,   GgmlType::Q5_0,    GgmlType::Q5_1,
                     GgmlType::Q8_0,   GgmlType::Q2_K,   GgmlType::Q3_K,    GgmlType::Q4_K,
                     GgmlType::Q5_K,   GgmlType::Q6_K,   GgmlType::IQ4_NL,  GgmlType::IQ4_XS,
                     GgmlType::IQ3_XXS, GgmlType::IQ3_S, GgmlType::IQ2_XXS, GgmlType::IQ2_XS,
                     GgmlType::IQ2_S,  GgmlType::IQ1_S,  GgmlType::IQ1_M,   GgmlType::TQ1_0,
                     GgmlType::TQ2_0,  GgmlType::MXFP4};
const auto kTypesWithFloat = {
    GgmlType::Q4_0,   GgmlType::Q4_1,    GgmlType::Q5_0,   GgmlType::Q5_1,    GgmlType::Q8_0,
    GgmlType::Q2_K,   GgmlType::Q3_K,    GgmlType::Q4_K,   GgmlType::Q5_K,    GgmlType::Q6_K,
    GgmlType::F16,    GgmlType::BF16,    GgmlType::IQ4_NL, GgmlType::IQ4_XS,  GgmlType::IQ3_XXS,
    GgmlType::IQ3_S,  GgmlType::IQ2_XXS, GgmlType::IQ2_XS, GgmlType::IQ2_S,   GgmlType::IQ1_S,
    GgmlType::IQ1_M,  GgmlType::TQ1_0,   GgmlType::TQ2_0,  GgmlType::MXFP4};

constexpr int64_t kCols = 1024;  // 4 super-blocks, 32 small blocks

std::vector<float> random_floats(int64_t n, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(n));
  for (float& v : values) v = normal(rng);
  return values;
}

// The activation blocks as f32 values (d * q) for the double-precision expectation.
std::vector<double> activation_values(const QuantDot& kernel, const std::vector<uint8_t>& blocks,
                                      int64_t n) {
  std::vector<double> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (kernel.block_size == 32) {
      const auto& block = reinterpret_cast<const ActivationBlock32*>(blocks.data())[i / 32];
      values[static_cast<size_t>(i)] = static_cast<double>(block.d) * block.q[i % 32];
    } else {
      const auto& block = reinterpret_cast<const ActivationBlock256*>(blocks.data())[i / 256];
      values[static_cast<size_t>(i)] = static_cast<double>(block.d) * block.q[i % 256];
    }
  }
  return values;
}

struct Expected {
  double value = 0;
  double magnitude = 0;  // Σ|w_i a_i|: the scale of the rounding error
};

Expected exact_dot(GgmlType type, const uint8_t* row, const std::vector<double>& activation) {
  std::vector<float> weights(static_cast<size_t>(kCols));
  moe::dequantize_row(type, row, weights.data(), kCols);
  Expected expected;
  for (size_t i = 0; i < weights.size(); ++i) {
    expected.value += weights[i] * activation[i];
    expected.magnitude += std::fabs(weights[i] * activation[i]);
  }
  return expected;
}

// Q4_1 and Q5_1 (x = d q + m) multiply their offset m with the activation block's stored sum,
// which ggml's q8_1 rounds to f16 (d · Σq before d's own rounding): what that adds to the product
// of the dequantized values, Σ_blocks m · (sum - d · Σq).
double offset_rounding(GgmlType type, const uint8_t* row, const std::vector<uint8_t>& activation) {
  if (type != GgmlType::Q4_1 && type != GgmlType::Q5_1) return 0;
  const size_t block_bytes = moe::type_layout(static_cast<uint32_t>(type))->block_bytes;
  const auto* blocks = reinterpret_cast<const ActivationBlock32*>(activation.data());
  double correction = 0;
  for (int64_t b = 0; b < kCols / 32; ++b) {
    int total = 0;
    for (int8_t q : blocks[b].q) total += q;
    // m is the second f16 of both block layouts (after d).
    const double m = moe::load_f16(row + static_cast<size_t>(b) * block_bytes + 2);
    correction +=
        m * (static_cast<double>(blocks[b].sum) - static_cast<double>(blocks[b].d) * total);
  }
  return correction;
}

std::vector<uint8_t> quantized_activations(const QuantDot& kernel, const std::vector<float>& x) {
  std::vector<uint8_t> blocks(static_cast<size_t>(kCols / kernel.block_size) *
                              kernel.activation_block_bytes);
  moe::cpu::quantize_activations(kernel, x.data(), blocks.data(), kCols);
  return blocks;
}

// Activation blocks with d = 1 and q in [-3, 3], built directly (not by quantizing).
std::vector<uint8_t> small_integer_activations(const QuantDot& kernel, std::mt19937_64& rng) {
  std::vector<uint8_t> bytes(static_cast<size_t>(kCols / kernel.block_size) *
                             kernel.activation_block_bytes);
  std::uniform_int_distribution<int> small(-3, 3);
  for (size_t b = 0; b < bytes.size() / kernel.activation_block_bytes; ++b) {
    if (kernel.block_size == 32) {
      auto& block = reinterpret_cast<ActivationBlock32*>(bytes.data())[b];
      int total = 0;
      for (int8_t& q : block.q) total += q = static_cast<int8_t>(small(rng));
      block.d = 1.0f;
      block.sum = static_cast<float>(total);
    } else {
      auto& block = reinterpret_cast<ActivationBlock256*>(bytes.data())[b];
      for (int g = 0; g < 16; ++g) {
        int total = 0;
        for (int i = 16 * g; i < 16 * g + 16; ++i)
          total += block.q[i] = static_cast<int8_t>(small(rng));
        block.group_sums[g] = static_cast<int16_t>(total);
      }
      block.d = 1.0f;
    }
  }
  return bytes;
}

class QuantDotTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(QuantDotTest, ScalarKernelEqualsDequantizedProduct) {
  const GgmlType type = GetParam();
  const QuantDot* kernel = moe::cpu::scalar_quant_dot_for(type);
  ASSERT_NE(kernel, nullptr);
  std::mt19937_64 rng(static_cast<uint64_t>(type) + 1);
  const size_t row_bytes = static_cast<size_t>(kCols) /
                           moe::type_layout(static_cast<uint32_t>(type))->block_size *
                           moe::type_layout(static_cast<uint32_t>(type))->block_bytes;
  const int rows = 8;
  const std::vector<uint8_t> weights =
      moe::testing::random_quantized(type, rows * kCols, 0.05, rng);
  const std::vector<uint8_t> activation = quantized_activations(*kernel, random_floats(kCols, rng));
  const std::vector<double> activation_f = activation_values(*kernel, activation, kCols);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* row = weights.data() + r * row_bytes;
    const Expected expected = exact_dot(type, row, activation_f);
    EXPECT_NEAR(kernel->dot(row, activation.data(), kCols),
                expected.value + offset_rounding(type, row, activation), 1e-5 * expected.magnitude)
        << moe::type_name(type) << " row " << r;
  }
}

class VectorizedKernelTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(VectorizedKernelTest, MatchesScalar) {
  const GgmlType type = GetParam().type;
  const QuantDot* scalar = moe::cpu::scalar_quant_dot_for(type);
  const QuantDot* vectorized = moe::cpu::quant_dot_for(type, GetParam().level);
  ASSERT_NE(scalar, nullptr);
  ASSERT_NE(vectorized, nullptr);
  ASSERT_NE(scalar->dot, vectorized->dot) << "no vectorized kernel for " << case_name(GetParam());
  std::mt19937_64 rng(static_cast<uint64_t>(type) + 100);
  const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
  const size_t row_bytes = static_cast<size_t>(kCols) / layout.block_size * layout.block_bytes;
  const int rows = 16;
  std::vector<uint8_t> weights = moe::testing::random_quantized(type, rows * kCols, 0.05, rng);

  // Real scales: float rounding differs only in summation order.
  std::vector<uint8_t> activation = quantized_activations(*scalar, random_floats(kCols, rng));
  const std::vector<double> activation_f = activation_values(*scalar, activation, kCols);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* row = weights.data() + r * row_bytes;
    const Expected expected = exact_dot(type, row, activation_f);
    EXPECT_NEAR(vectorized->dot(row, activation.data(), kCols),
                scalar->dot(row, activation.data(), kCols), 1e-5 * expected.magnitude)
        << moe::type_name(type) << " row " << r;
    if (vectorized->dot_many != nullptr) {
      float many = 0;
      vectorized->dot_many(row, activation.data(), 0, 1, kCols, &many, 1);
      EXPECT_NEAR(many, scalar->dot(row, activation.data(), kCols), 1e-5 * expected.magnitude)
          << moe::type_name(type) << " row " << r << " (dot_many)";
    }
  }

  // Unit scales and small activations (|q| <= 3): every partial sum is an integer below 2^24,
  // so any difference is an error in the integer part (codes, signs, group scales, offsets).
  moe::testing::set_block_scales(type, weights, 1.0f, 1.0f);
  activation = small_integer_activations(*scalar, rng);
  for (int r = 0; r < rows; ++r) {
    const uint8_t* row = weights.data() + r * row_bytes;
    EXPECT_EQ(vectorized->dot(row, activation.data(), kCols),
              scalar->dot(row, activation.data(), kCols))
        << moe::type_name(type) << " row " << r;
  }
}

// dot_many (one weight row against several tokens, for prefill) equals the scalar kernel on each
// token: exactly with unit scales, to 1e-5 of Σ|w·a| with real ones. 11 tokens: a full tile of 8
// and a partial one.
// Instantiated for the types that have a many-token kernel (the others run dot per token).
class ManyTokensKernelTest : public ::testing::TestWithParam<KernelCase> {};

bool has_many_token_kernel(const KernelCase& c) {
  const QuantDot* kernel = moe::cpu::quant_dot_for(c.type, c.level);
  return kernel != nullptr && kernel->dot_many != nullptr;
}

TEST_P(ManyTokensKernelTest, MatchesScalarPerToken) {
  const GgmlType type = GetParam().type;
  const QuantDot* scalar = moe::cpu::scalar_quant_dot_for(type);
  const QuantDot* vectorized = moe::cpu::quant_dot_for(type, GetParam().level);
  ASSERT_NE(vectorized->dot_many, nullptr);
  std::mt19937_64 rng(static_cast<uint64_t>(type) + 200);
  const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
  const size_t row_bytes = static_cast<size_t>(kCols) / layout.block_size * layout.block_bytes;
  constexpr int kRows = 4, kTokensHere = 11;
  for (bool unit_scales : {false, true}) {
    std::vector<uint8_t> weights = moe::testing::random_quantized(type, kRows * kCols, 0.05, rng);
    if (unit_scales) moe::testing::set_block_scales(type, weights, 1.0f, 1.0f);
    std::vector<uint8_t> activations;
    for (int t = 0; t < kTokensHere; ++t) {
      const std::vector<uint8_t> row =
          unit_scales ? small_integer_activations(*scalar, rng)
                      : quantized_activations(*scalar, random_floats(kCols, rng));
      activations.insert(activations.end(), row.begin(), row.end());
    }
    const size_t stride = activations.size() / kTokensHere;
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* row = weights.data() + r * row_bytes;
      std::vector<float> many(kTokensHere * 2, -1.0f);
      vectorized->dot_many(row, activations.data(), stride, kTokensHere, kCols, many.data(), 2);
      for (int t = 0; t < kTokensHere; ++t) {
        const float expected = scalar->dot(row, activations.data() + t * stride, kCols);
        if (unit_scales) {
          EXPECT_EQ(many[2 * t], expected) << moe::type_name(type) << " token " << t;
        } else {
          EXPECT_NEAR(many[2 * t], expected, 1e-5 * std::fabs(expected) + 1e-4)
              << moe::type_name(type) << " token " << t;
        }
        EXPECT_EQ(many[2 * t + 1], -1.0f) << "wrote outside its stride";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantDotTest, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return moe::type_name(info.param); });
// A CPU without AVX2 has no vectorized level: nothing to instantiate there.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(VectorizedKernelTest);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ManyTokensKernelTest);
INSTANTIATE_TEST_SUITE_P(EveryLevel, VectorizedKernelTest,
                         ::testing::ValuesIn(kernel_cases(kTypes, vectorized_levels())),
                         [](const auto& info) { return case_name(info.param); });
INSTANTIATE_TEST_SUITE_P(WithManyTokenKernel, ManyTokensKernelTest,
                         ::testing::ValuesIn(kernel_cases(kTypes, vectorized_levels(),
                                                          has_many_token_kernel)),
                         [](const auto& info) { return case_name(info.param); });

// The integer products of every level are exact (VNNI's vpdpbusd / vpdpwssd and AVX2's
// maddubs + madd give the same int32 sums) and the float operations come in the same order, so
// every vectorized level gives the AVX2 level's result bit for bit, with real scales.
TEST(QuantDot, EveryVectorizedLevelEqualsAvx2BitForBit) {
  const std::vector<SimdLevel> levels = vectorized_levels();
  if (levels.size() < 2) GTEST_SKIP() << "this CPU runs fewer than two vectorized levels";
  for (GgmlType type : kTypesWithFloat) {
    const QuantDot* avx2 = moe::cpu::quant_dot_for(type, SimdLevel::Avx2);
    std::mt19937_64 rng(static_cast<uint64_t>(type) + 700);
    const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
    const size_t row_bytes = static_cast<size_t>(kCols) / layout.block_size * layout.block_bytes;
    constexpr int kRows = 4, kTokensHere = 9;
    std::vector<uint8_t> weights(row_bytes * kRows);
    if (type == GgmlType::F16 || type == GgmlType::BF16) {
      const std::vector<float> values = random_floats(kRows * kCols, rng);
      moe::quantize_row(type, values.data(), weights.data(), kRows * kCols);
    } else {
      weights = moe::testing::random_quantized(type, kRows * kCols, 0.05, rng);
    }
    std::vector<uint8_t> activations;
    for (int t = 0; t < kTokensHere; ++t) {
      const std::vector<uint8_t> row = quantized_activations(*avx2, random_floats(kCols, rng));
      activations.insert(activations.end(), row.begin(), row.end());
    }
    const size_t stride = activations.size() / kTokensHere;
    for (SimdLevel level : levels) {
      const QuantDot* kernel = moe::cpu::quant_dot_for(type, level);
      ASSERT_NE(kernel, nullptr);
      for (int r = 0; r < kRows; ++r) {
        const uint8_t* row = weights.data() + r * row_bytes;
        std::vector<float> expected(kTokensHere), got(kTokensHere);
        for (int t = 0; t < kTokensHere; ++t) {
          expected[t] = avx2->dot(row, activations.data() + t * stride, kCols);
          got[t] = kernel->dot(row, activations.data() + t * stride, kCols);
        }
        EXPECT_EQ(got, expected) << case_name({type, level}) << " row " << r;
        if (kernel->dot_many != nullptr) {
          avx2->dot_many(row, activations.data(), stride, kTokensHere, kCols, expected.data(), 1);
          kernel->dot_many(row, activations.data(), stride, kTokensHere, kCols, got.data(), 1);
          EXPECT_EQ(got, expected) << case_name({type, level}) << " row " << r << " (dot_many)";
        }
      }
    }
  }
}

// Every weight code of a Q8_0 row negative, the activation codes at ±127 with a nonzero sum: the
// integer sum is known exactly. GCC 12 with AVX-VNNI once compiled the scalar
// reference's signed × signed byte products into vpdpbusd (unsigned × signed), which reads a
// negative weight code c as c + 256; this row makes that error as large as it can be.
TEST(QuantDot, Q8_0NegativeCodesMultiplyAsSigned) {
  constexpr int64_t kBlocks = 4;
  std::vector<uint8_t> row(kBlocks * 34);
  std::vector<ActivationBlock32> activation(kBlocks);
  int64_t expected = 0;
  for (int64_t b = 0; b < kBlocks; ++b) {
    const uint16_t one = moe::f32_to_f16(1.0f);
    row[b * 34] = static_cast<uint8_t>(one & 0xff);
    row[b * 34 + 1] = static_cast<uint8_t>(one >> 8);
    activation[b].d = 1.0f;
    activation[b].sum = 0.0f;
    for (int i = 0; i < 32; ++i) {
      const int weight = -128 + 4 * i + static_cast<int>(b);  // -128 .. -1
      const int act = i % 3 == 0 ? -127 : 127;  // Σ ≠ 0: a misread code shifts the sum
      row[b * 34 + 2 + i] = static_cast<uint8_t>(static_cast<int8_t>(weight));
      activation[b].q[i] = static_cast<int8_t>(act);
      expected += weight * act;
    }
  }
  for (SimdLevel level : moe::cpu::supported_simd_levels()) {
    const QuantDot* kernel = moe::cpu::quant_dot_for(GgmlType::Q8_0, level);
    ASSERT_NE(kernel, nullptr);
    EXPECT_EQ(kernel->dot(row.data(), activation.data(), kBlocks * 32),
              static_cast<float>(expected))
        << simd_level_name(level);
  }
}

// Each level quantizes activations itself (vectorized); the blocks must equal the scalar
// quantizer's byte for byte, also at rounding ties (x / d = k + 0.5, to even), for NaN (code 0,
// ignored by the block maximum), for -0, all-zero blocks and an infinite value (d = inf: codes 0).
TEST(QuantDot, VectorizedActivationQuantizationEqualsScalar) {
  std::mt19937_64 rng(11);
  constexpr int64_t n = 2048;
  std::vector<float> x = random_floats(n, rng);
  // Block 0 (and super-block 0): max 127 so that d = 1 and k + 0.5 are exact ties.
  x[0] = 127.0f;
  for (int i = 1; i < 32; ++i) x[i] = static_cast<float>(i % 9 - 4) + 0.5f;
  for (int i = 32; i < 64; ++i) x[i] = 0.0f;          // an all-zero 32-block
  x[70] = std::nanf("");                               // NaN inside a block
  x[71] = -0.0f;
  x[300] = std::numeric_limits<float>::infinity();     // in super-block 1
  for (int i = 600; i < 640; ++i) x[i] *= 1e-30f;      // tiny values
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_K}) {
    const QuantDot* scalar = moe::cpu::scalar_quant_dot_for(type);
    const size_t bytes = static_cast<size_t>(n / scalar->block_size) * scalar->activation_block_bytes;
    std::vector<uint8_t> expected(bytes, 0xa5);
    moe::cpu::quantize_activations(*scalar, x.data(), expected.data(), n);
    for (SimdLevel level : vectorized_levels()) {
      const QuantDot* kernel = moe::cpu::quant_dot_for(type, level);
      ASSERT_NE(kernel->quantize, nullptr) << case_name({type, level});
      std::vector<uint8_t> got(bytes, 0xa5);
      moe::cpu::quantize_activations(*kernel, x.data(), got.data(), n);
      for (size_t i = 0; i < bytes; ++i) {
        ASSERT_EQ(got[i], expected[i]) << case_name({type, level}) << ", byte " << i << " of block "
                                       << i / scalar->activation_block_bytes;
      }
    }
  }
}

TEST(QuantDot, TypesWithoutKernelsUseConversion) {
  for (GgmlType type : {GgmlType::F32, GgmlType::Q8_K, GgmlType::I8, GgmlType::Q8_1}) {
    EXPECT_EQ(moe::cpu::quant_dot_for(type), nullptr) << moe::type_name(type);
  }
}

// Activations are quantized by ggml's CPU rules (issue 17), so that the integer products are
// llama.cpp's: 32-element blocks (q8_0 / q8_1) scale by 127 / max|x| before d is rounded to f16,
// and keep d · Σq as f16; 256-element blocks (q8_K) scale by -127 / m, m the value of largest
// magnitude (the first on a tie), and keep d = 1 / that scale.
TEST(QuantDot, ActivationQuantizationFollowsGgmlsRules) {
  std::mt19937_64 rng(5);
  std::vector<float> x = random_floats(512, rng);
  x[3] = -7.0f;  // the largest magnitude of the first blocks, negative
  for (int i = 256; i < 512; ++i)
    x[static_cast<size_t>(i)] = std::clamp(x[static_cast<size_t>(i)], -2.5f, 2.5f);
  x[400] = 3.0f;  // a tie in the second 256-block: the first (positive) one wins
  x[401] = -3.0f;
  std::fill(x.begin() + 256 + 32, x.begin() + 256 + 64, 0.0f);  // an all-zero 32-block

  std::vector<ActivationBlock256> big(2);
  moe::cpu::quantize_activations_256(x.data(), big.data(), 512);
  EXPECT_EQ(big[0].d, 1.0f / (-127.0f / -7.0f));
  EXPECT_EQ(big[0].q[3], -127);
  EXPECT_EQ(big[1].d, 1.0f / (-127.0f / 3.0f));  // negative: q carries the opposite sign
  EXPECT_EQ(big[1].q[400 - 256], -127);
  EXPECT_EQ(big[1].q[401 - 256], 127);
  for (int b = 0; b < 2; ++b) {
    const float scale = b == 0 ? -127.0f / -7.0f : -127.0f / 3.0f;
    for (int g = 0; g < 16; ++g) {
      int total = 0;
      for (int i = 16 * g; i < 16 * g + 16; ++i) {
        total += big[b].q[i];
        EXPECT_EQ(big[b].q[i], std::min(127.0f, std::nearbyint(scale * x[256 * b + i])));
      }
      EXPECT_EQ(big[b].group_sums[g], total);
    }
  }

  std::vector<ActivationBlock32> small(16);
  moe::cpu::quantize_activations_32(x.data(), small.data(), 512);
  EXPECT_EQ(small[0].q[3], -127);
  EXPECT_EQ(small[0].d, moe::f16_to_f32(moe::f32_to_f16(7.0f / 127.0f)));  // stored as f16
  EXPECT_EQ(small[9].d, 0.0f);
  EXPECT_EQ(small[9].sum, 0.0f);
  for (int8_t q : small[9].q) EXPECT_EQ(q, 0);
  for (int b = 0; b < 16; ++b) {
    float largest = 0;
    for (int i = 0; i < 32; ++i) largest = std::max(largest, std::fabs(x[32 * b + i]));
    const float scale = largest != 0.0f ? 127.0f / largest : 0.0f;
    int total = 0;
    for (int i = 0; i < 32; ++i) {
      total += small[b].q[i];
      EXPECT_EQ(small[b].q[i], std::nearbyint(x[32 * b + i] * scale));
    }
    EXPECT_EQ(small[b].sum,
              moe::f16_to_f32(moe::f32_to_f16(largest / 127.0f * static_cast<float>(total))));
  }

  // The scale is 127 / max, not 1 / (d rounded to f16): values half way between two codes
  // round the way ggml rounds them, which the old rule did not for some of these.
  std::vector<float> halves(32);
  for (int i = 0; i < 31; ++i) halves[static_cast<size_t>(i)] = 7.0f * (4 * i + 0.5f) / 127.0f;
  halves[31] = 7.0f;
  ActivationBlock32 block;
  moe::cpu::quantize_activations_32(halves.data(), &block, 32);
  const float old_inverse = 1.0f / moe::f16_to_f32(moe::f32_to_f16(7.0f / 127.0f));
  int differs_from_old_rule = 0;
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(block.q[i], std::nearbyint(halves[static_cast<size_t>(i)] * (127.0f / 7.0f)));
    differs_from_old_rule +=
        block.q[i] != std::nearbyint(halves[static_cast<size_t>(i)] * old_inverse);
  }
  EXPECT_GT(differs_from_old_rule, 0);
}

// --- Kernels added for issue 7: F16 / BF16 with f32 activations, many-token kernels -------------

// A weight row of `type` with `cols` elements: F16 / BF16 rounded from N(0, 1) values, the
// block types from random_quantized.
std::vector<uint8_t> random_weight_rows(GgmlType type, int64_t n_elements, std::mt19937_64& rng) {
  if (type == GgmlType::F16 || type == GgmlType::BF16) {
    const std::vector<float> values = random_floats(n_elements, rng);
    std::vector<uint8_t> bytes(static_cast<size_t>(n_elements) * 2);
    moe::quantize_row(type, values.data(), bytes.data(), n_elements);
    return bytes;
  }
  return moe::testing::random_quantized(type, static_cast<uint64_t>(n_elements), 0.05, rng);
}

size_t row_bytes_of(GgmlType type, int64_t cols) {
  const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
  return static_cast<size_t>(cols) / layout.block_size * layout.block_bytes;
}

// `n` tokens' activation rows in the kernel's format, `stride` bytes apart (returned).
std::vector<uint8_t> activation_rows(const QuantDot& kernel, int n, int64_t cols,
                                     std::mt19937_64& rng, size_t& stride) {
  stride = static_cast<size_t>(cols / kernel.block_size) * kernel.activation_block_bytes;
  std::vector<uint8_t> rows(stride * static_cast<size_t>(n));
  for (int t = 0; t < n; ++t) {
    const std::vector<float> x = random_floats(cols, rng);
    moe::cpu::quantize_activations(kernel, x.data(), rows.data() + t * stride, cols);
  }
  return rows;
}

// The many-token kernel gives each token exactly the one-token kernel's result, whatever the
// batch size (1, a partial tile, whole tiles, both): the backend calls it for every batch, so a
// token's logits must not depend on which tokens came with it. Real scales and random values,
// so that any change in the order of float operations would show.
class ManyTokenKernelEqualsOneTokenKernel : public ::testing::TestWithParam<KernelCase> {};

TEST_P(ManyTokenKernelEqualsOneTokenKernel, BitForBitAtEveryBatchSize) {
  const GgmlType type = GetParam().type;
  const QuantDot* kernel = moe::cpu::quant_dot_for(type, GetParam().level);
  ASSERT_TRUE(kernel != nullptr && kernel->dot_many != nullptr) << case_name(GetParam());
  std::mt19937_64 rng(static_cast<uint64_t>(type) + 300);
  constexpr int kRows = 3, kMaxTokens = 19;
  const std::vector<uint8_t> weights = random_weight_rows(type, kRows * kCols, rng);
  size_t stride = 0;
  const std::vector<uint8_t> activations = activation_rows(*kernel, kMaxTokens, kCols, rng, stride);
  for (int r = 0; r < kRows; ++r) {
    const uint8_t* row = weights.data() + r * row_bytes_of(type, kCols);
    for (int n : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, kMaxTokens}) {
      std::vector<float> many(static_cast<size_t>(n) * 3, -1.0f);
      kernel->dot_many(row, activations.data(), stride, n, kCols, many.data(), 3);
      for (int t = 0; t < n; ++t) {
        EXPECT_EQ(many[3 * t], kernel->dot(row, activations.data() + t * stride, kCols))
            << moe::type_name(type) << " row " << r << ", token " << t << " of " << n;
        EXPECT_EQ(many[3 * t + 1], -1.0f) << "wrote outside its stride";
        EXPECT_EQ(many[3 * t + 2], -1.0f) << "wrote outside its stride";
      }
    }
  }
}

// Every type is built so at every vectorized level (the scalar level has no many-token kernels).
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ManyTokenKernelEqualsOneTokenKernel);
INSTANTIATE_TEST_SUITE_P(EveryLevel, ManyTokenKernelEqualsOneTokenKernel,
                         ::testing::ValuesIn(kernel_cases(kTypesWithFloat, vectorized_levels())),
                         [](const auto& info) { return case_name(info.param); });

// Every many-token kernel (also those whose one-token kernel sums differently): token t of a
// batch of n gets what it gets alone.
TEST(QuantDot, ManyTokenResultsDoNotDependOnTheBatchSize) {
  for (const KernelCase& c : kernel_cases(kTypesWithFloat, vectorized_levels(),
                                          has_many_token_kernel)) {
    const GgmlType type = c.type;
    const QuantDot* kernel = moe::cpu::quant_dot_for(type, c.level);
    std::mt19937_64 rng(static_cast<uint64_t>(type) + 400);
    const std::vector<uint8_t> weights = random_weight_rows(type, kCols, rng);
    constexpr int kTokensHere = 13;
    size_t stride = 0;
    const std::vector<uint8_t> activations =
        activation_rows(*kernel, kTokensHere, kCols, rng, stride);
    std::vector<float> batch(kTokensHere);
    kernel->dot_many(weights.data(), activations.data(), stride, kTokensHere, kCols, batch.data(),
                     1);
    for (int t = 0; t < kTokensHere; ++t) {
      float alone = 0.0f;
      kernel->dot_many(weights.data(), activations.data() + t * stride, stride, 1, kCols, &alone,
                       1);
      EXPECT_EQ(batch[static_cast<size_t>(t)], alone) << case_name(c) << " token " << t;
    }
  }
}

// F16 / BF16 weights read f32 activations rounded to their type, as ggml's CPU backend converts
// them (its vec_dot_type): to the nearest f16 / bf16, ties to even, past f16's range infinite.
// The expected values are written out (Python's struct 'e' for f16; bf16 by hand).
TEST(FloatDot, ActivationsAreRoundedToTheWeightsType) {
  const std::vector<float> x = {1.0f / 3.0f, -1e-30f, 12345.678f, 0.1f, 1e20f, -7.0f,
                                1.00048828125f /* 1 + 2^-11 */, 1.00146484375f /* 1 + 3 2^-11 */,
                                1.00390625f /* 1 + 2^-8 */, 1.01171875f /* 1 + 3 2^-8 */,
                                0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> f16 = {0x1.554p-2f, -0.0f, 12344.0f, 0x1.998p-4f, inf, -7.0f, 1.0f,
                                  0x1.008p+0f, 0x1.01p+0f, 0x1.03p+0f, 0, 0, 0, 0, 0, 0};
  const std::vector<float> bf16 = {0x1.56p-2f, -0x1.44p-100f, 0x1.82p+13f, 0x1.9ap-4f,
                                   0x1.5ap+66f, -7.0f, 1.0f, 1.0f, 1.0f, 0x1.04p+0f,
                                   0, 0, 0, 0, 0, 0};
  for (GgmlType type : {GgmlType::F16, GgmlType::BF16}) {
    const QuantDot* kernel = moe::cpu::scalar_quant_dot_for(type);
    ASSERT_NE(kernel, nullptr) << moe::type_name(type);
    EXPECT_TRUE(moe::cpu::is_float_format(kernel->format));
    EXPECT_EQ(kernel->activation_block_bytes, kernel->block_size * sizeof(float));
    ASSERT_EQ(static_cast<int>(x.size()), kernel->block_size);
    std::vector<float> rounded(x.size());
    moe::cpu::quantize_activations(*kernel, x.data(), rounded.data(), kernel->block_size);
    const std::vector<float>& expected = type == GgmlType::F16 ? f16 : bf16;
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(std::bit_cast<uint32_t>(rounded[i]), std::bit_cast<uint32_t>(expected[i]))
          << moe::type_name(type) << " x = " << x[i] << ": " << rounded[i] << " != "
          << expected[i];
    }
    EXPECT_THROW(moe::cpu::quantize_activations(*kernel, x.data(), rounded.data(), 15), moe::Error);
  }
  // The two formats differ, so an input read by F16 and BF16 weights is rounded twice.
  EXPECT_NE(moe::cpu::scalar_quant_dot_for(GgmlType::F16)->format,
            moe::cpu::scalar_quant_dot_for(GgmlType::BF16)->format);
  // Without SIMD, F16 / BF16 go through convert + Eigen; every vectorized level has kernels.
  EXPECT_EQ(moe::cpu::quant_dot_for(GgmlType::F16, SimdLevel::Scalar), nullptr);
  for (SimdLevel level : vectorized_levels()) {
    EXPECT_NE(moe::cpu::quant_dot_for(GgmlType::F16, level), nullptr) << simd_level_name(level);
    EXPECT_NE(moe::cpu::quant_dot_for(GgmlType::BF16, level), nullptr) << simd_level_name(level);
  }
}

// Which batches a kernel takes: rows of whole activation blocks, and for F16 / BF16 at most 16
// tokens (larger batches are faster through convert + Eigen); the quantized types any batch.
TEST(QuantDot, KernelsTakeWholeBlocksAndTheirBatchSizes) {
  const QuantDot* f16 = moe::cpu::scalar_quant_dot_for(GgmlType::F16);
  EXPECT_TRUE(f16->applies(1024, 1));
  EXPECT_TRUE(f16->applies(1024, 16));
  EXPECT_FALSE(f16->applies(1024, 17));
  EXPECT_FALSE(f16->applies(1000, 1));  // not whole blocks of 16
  const QuantDot* q4_0 = moe::cpu::quant_dot_for(GgmlType::Q4_0);
  EXPECT_TRUE(q4_0->applies(1024, 512));
  EXPECT_FALSE(q4_0->applies(1040, 1));
}

// Rounding error bound of a sum of k rounded terms, relative to Σ|terms|: γ_k = k u / (1 - k u),
// u = 2^-24 (f32).
double gamma_f32(int64_t k) {
  const double ku = static_cast<double>(k) * 0x1.0p-24;
  return ku / (1.0 - ku);
}

struct FloatRows {
  int64_t cols = 0;
  std::vector<uint8_t> weights;  // rows of F16 / BF16
  std::vector<float> activation;
};

// Weights spanning the type's range (normal values, tiny ones: F16 subnormals, large ones) and
// one activation row; cols a multiple of 16 but not of 32.
FloatRows float_rows(GgmlType type, int rows, std::mt19937_64& rng) {
  FloatRows data;
  data.cols = 16 * 129;
  std::vector<float> values = random_floats(rows * data.cols, rng);
  for (size_t i = 0; i < values.size(); i += 37) values[i] *= 1e-6f;  // F16: subnormal
  for (size_t i = 5; i < values.size(); i += 101) values[i] *= 1000.0f;
  data.weights.resize(values.size() * 2);
  moe::quantize_row(type, values.data(), data.weights.data(), static_cast<int64_t>(values.size()));
  data.activation = random_floats(data.cols, rng);
  return data;
}

// The portable kernel is Σ widened weight × activation summed in element order: within γ_cols of
// the exact (double) sum of the same products, relative to Σ|w·a|.
TEST(FloatDot, ScalarKernelEqualsExactProduct) {
  for (GgmlType type : {GgmlType::F16, GgmlType::BF16}) {
    const QuantDot* scalar = moe::cpu::scalar_quant_dot_for(type);
    ASSERT_NE(scalar, nullptr);
    std::mt19937_64 rng(static_cast<uint64_t>(type) + 500);
    constexpr int kRows = 6;
    const FloatRows data = float_rows(type, kRows, rng);
    std::vector<float> widened(static_cast<size_t>(data.cols));
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* row = data.weights.data() + static_cast<size_t>(r * data.cols) * 2;
      moe::dequantize_row(type, row, widened.data(), data.cols);
      double exact = 0, magnitude = 0;
      for (size_t i = 0; i < widened.size(); ++i) {
        exact += static_cast<double>(widened[i]) * data.activation[i];
        magnitude += std::fabs(static_cast<double>(widened[i]) * data.activation[i]);
      }
      EXPECT_NEAR(scalar->dot(row, data.activation.data(), data.cols), exact,
                  gamma_f32(data.cols) * magnitude)
          << moe::type_name(type) << " row " << r;
    }
  }
}

// The AVX2 kernel sums in another order (two 8-lane accumulators, cols/16 fused multiply-adds per
// lane, then 4 additions across them): each of the two results is within γ of the exact sum
// (γ_cols for the scalar one, γ_(cols/16 + 4) for the AVX2 one), so they differ by at most the
// sum of the two bounds times Σ|w·a|. With small integer weights and activations every partial
// sum is exact and the two must be equal: a difference there is an indexing or conversion error.
TEST(FloatDot, VectorizedKernelMatchesScalar) {
  if (vectorized_levels().empty()) GTEST_SKIP() << "this CPU has no vectorized level (no AVX2)";
  for (const KernelCase& c : kernel_cases({GgmlType::F16, GgmlType::BF16}, vectorized_levels())) {
    const GgmlType type = c.type;
    const QuantDot* scalar = moe::cpu::scalar_quant_dot_for(type);
    const QuantDot* vectorized = moe::cpu::quant_dot_for(type, c.level);
    ASSERT_NE(vectorized, nullptr);
    ASSERT_NE(scalar->dot, vectorized->dot);
    std::mt19937_64 rng(static_cast<uint64_t>(type) + 600);
    constexpr int kRows = 6;
    FloatRows data = float_rows(type, kRows, rng);
    std::vector<float> widened(static_cast<size_t>(data.cols));
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* row = data.weights.data() + static_cast<size_t>(r * data.cols) * 2;
      moe::dequantize_row(type, row, widened.data(), data.cols);
      double magnitude = 0;
      for (size_t i = 0; i < widened.size(); ++i)
        magnitude += std::fabs(static_cast<double>(widened[i]) * data.activation[i]);
      const double bound = (gamma_f32(data.cols) + gamma_f32(data.cols / 16 + 4)) * magnitude;
      EXPECT_NEAR(vectorized->dot(row, data.activation.data(), data.cols),
                  scalar->dot(row, data.activation.data(), data.cols), bound)
          << moe::type_name(type) << " row " << r;
    }

    std::uniform_int_distribution<int> small(-8, 8);
    std::vector<float> integers(static_cast<size_t>(kRows * data.cols));
    for (float& v : integers) v = static_cast<float>(small(rng));
    moe::quantize_row(type, integers.data(), data.weights.data(),
                      static_cast<int64_t>(integers.size()));
    for (float& v : data.activation) v = static_cast<float>(small(rng));
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* row = data.weights.data() + static_cast<size_t>(r * data.cols) * 2;
      double exact = 0;
      for (int64_t i = 0; i < data.cols; ++i)
        exact += static_cast<double>(integers[static_cast<size_t>(r * data.cols + i)]) *
                 data.activation[static_cast<size_t>(i)];
      EXPECT_EQ(vectorized->dot(row, data.activation.data(), data.cols), exact)
          << moe::type_name(type) << " row " << r;
      EXPECT_EQ(scalar->dot(row, data.activation.data(), data.cols), exact)
          << moe::type_name(type) << " row " << r;
    }
  }
}

// The backend's matmul with F16 / BF16 weights (CpuBackendOptions::quantized_activations, the
// default): the product of the stored weights with the activations rounded to their type, on the
// kernel path (one token) and on the convert + Eigen path (more tokens than the kernel takes)
// alike, within the f32 summation bound of that exact product; with quantized_activations off
// (--exact), the product of the unrounded activations. The rounded and unrounded products
// differ by more than the bound here, so each path is told apart.
TEST(FloatDot, BackendMatmulRoundsActivationsUnlessExact) {
  constexpr int64_t kRows = 8, kColsHere = 256;
  for (GgmlType type : {GgmlType::F16, GgmlType::BF16}) {
    std::mt19937_64 rng(static_cast<uint64_t>(type) + 900);
    const std::vector<float> values = random_floats(kRows * kColsHere, rng);
    std::vector<uint8_t> bytes(values.size() * 2);
    moe::quantize_row(type, values.data(), bytes.data(), static_cast<int64_t>(values.size()));
    const moe::cpu::WeightMatrix weight{type, kRows, kColsHere, bytes.data(), kColsHere * 2};
    std::vector<float> widened(values.size());
    moe::dequantize_row(type, bytes.data(), widened.data(), static_cast<int64_t>(values.size()));
    for (int n : {1, 20}) {
      moe::cpu::RowMatrix in(n, kColsHere);
      for (int t = 0; t < n; ++t) {
        const std::vector<float> row = random_floats(kColsHere, rng);
        for (int64_t i = 0; i < kColsHere; ++i) in(t, i) = row[static_cast<size_t>(i)];
      }
      moe::cpu::RowMatrix rounded = in;
      moe::cpu::round_activations_for(type, rounded.data(), rounded.size());
      for (bool quantized_activations : {true, false}) {
        moe::cpu::Kernels kernels(1, quantized_activations);
        moe::cpu::RowMatrix out;
        kernels.matmul(weight, in, out);
        const moe::cpu::RowMatrix& meant = quantized_activations ? rounded : in;
        const moe::cpu::RowMatrix& other = quantized_activations ? in : rounded;
        for (int t = 0; t < n; ++t) {
          for (int64_t r = 0; r < kRows; ++r) {
            double exact = 0, exact_other = 0, magnitude = 0;
            for (int64_t i = 0; i < kColsHere; ++i) {
              const double w = widened[static_cast<size_t>(r * kColsHere + i)];
              exact += w * meant(t, i);
              exact_other += w * other(t, i);
              magnitude += std::fabs(w * meant(t, i));
            }
            const double bound = 2 * gamma_f32(kColsHere) * magnitude;
            EXPECT_NEAR(out(t, r), exact, bound) << moe::type_name(type) << " n " << n;
            if (std::fabs(exact - exact_other) > 4 * bound) {
              EXPECT_GT(std::fabs(out(t, r) - exact_other), bound)
                  << moe::type_name(type) << " n " << n << " row " << r;
            }
          }
        }
      }
    }
  }
}

}  // namespace
