// The IQ / TQ and MXFP4 dot-product kernels compute what ggml's CPU backend computes: on ggml's
// own weight rows and activation blocks (q8_0 for IQ4_NL and MXFP4, q8_K for the others, copied
// into our activation structs) every kernel, scalar and each vectorized level, gives ggml's
// vec_dot result (tests/data/ggml_iq_dot.txt) to 1e-6 of Σ|w·a|. The integer products are the same; only the
// order of the f32 additions of the (at most 16) block terms differs, a few ulps of the sum:
// 16 · 2^-24 ≈ 1e-6. Measured: at most 5e-8 of Σ|w·a| (on 200 rows of 4096 per type); on these
// rows the vectorized kernels of IQ4_NL, IQ4_XS, IQ3_*, IQ2_* and IQ1_M give ggml's bits.
#include <gtest/gtest.h>

#include <bit>
#include <cctype>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "../core/backend/cpu_quant_dot.hpp"  // private to the backend; tested directly here
#include "moe/gguf_blocks.hpp"
#include "moe/little_endian.hpp"
#include "support/hex_bytes.hpp"

namespace {

using moe::GgmlType;
using moe::testing::hex_bytes;
using moe::cpu::QuantDot;

struct GgmlDot {
  std::string type_name;  // ggml's lower-case name
  std::string activation_type;
  float result = 0;
  std::vector<uint8_t> weights;
  std::vector<uint8_t> activations;  // ggml's q8_0 or q8_K blocks
};

std::vector<GgmlDot> read_fixture() {
  std::ifstream in(std::string(MOESCOPE_SOURCE_DIR) + "/tests/data/ggml_iq_dot.txt");
  std::vector<GgmlDot> dots;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    GgmlDot dot;
    const size_t first = line.find(' '), second = line.find(' ', first + 1);
    dot.type_name = line.substr(0, first);
    dot.activation_type = line.substr(first + 1, second - first - 1);
    dot.result = std::bit_cast<float>(static_cast<uint32_t>(std::stoul(line.substr(second + 1),
                                                                       nullptr, 16)));
    std::getline(in, line);
    dot.weights = hex_bytes(line);
    std::getline(in, line);
    dot.activations = hex_bytes(line);
    dots.push_back(std::move(dot));
  }
  return dots;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// ggml's activation blocks as ours: the same codes and scales (and Q8_K's 16-element sums).
std::vector<uint8_t> our_activations(const GgmlDot& dot, const QuantDot& kernel, int64_t cols) {
  std::vector<uint8_t> bytes(static_cast<size_t>(cols / kernel.block_size) *
                             kernel.activation_block_bytes);
  if (dot.activation_type == "q8_0") {
    const auto* blocks = reinterpret_cast<const moe::BlockQ8_0*>(dot.activations.data());
    auto* ours = reinterpret_cast<moe::cpu::ActivationBlock32*>(bytes.data());
    for (int64_t b = 0; b < cols / 32; ++b) {
      int total = 0;
      for (int i = 0; i < 32; ++i) total += ours[b].q[i] = blocks[b].qs[i];
      ours[b].d = moe::load_f16(blocks[b].d);
      ours[b].sum = ours[b].d * static_cast<float>(total);
    }
  } else {
    const auto* blocks = reinterpret_cast<const moe::BlockQ8_K*>(dot.activations.data());
    auto* ours = reinterpret_cast<moe::cpu::ActivationBlock256*>(bytes.data());
    for (int64_t b = 0; b < cols / 256; ++b) {
      for (int i = 0; i < 256; ++i) ours[b].q[i] = blocks[b].qs[i];
      for (int g = 0; g < 16; ++g)
        ours[b].group_sums[g] = static_cast<int16_t>(moe::load_u16(blocks[b].bsums + 2 * g));
      ours[b].d = moe::load_f32(blocks[b].d);
    }
  }
  return bytes;
}

// Element i of our activation blocks as a value, d · q.
double activation_value(const QuantDot& kernel, const std::vector<uint8_t>& bytes, int64_t i) {
  if (kernel.block_size == 32) {
    const auto& block = reinterpret_cast<const moe::cpu::ActivationBlock32*>(bytes.data())[i / 32];
    return static_cast<double>(block.d) * block.q[i % 32];
  }
  const auto& block = reinterpret_cast<const moe::cpu::ActivationBlock256*>(bytes.data())[i / 256];
  return static_cast<double>(block.d) * block.q[i % 256];
}

TEST(IqDotGgml, EveryKernelGivesGgmlsDotProduct) {
  const std::vector<GgmlDot> dots = read_fixture();
  const GgmlType types[] = {GgmlType::IQ4_NL, GgmlType::IQ4_XS, GgmlType::IQ3_XXS,
                            GgmlType::IQ3_S,  GgmlType::IQ2_XXS, GgmlType::IQ2_XS,
                            GgmlType::IQ2_S,  GgmlType::IQ1_S,  GgmlType::IQ1_M,
                            GgmlType::TQ1_0,  GgmlType::TQ2_0,   GgmlType::MXFP4};
  ASSERT_EQ(dots.size(), std::size(types)) << "tests/data/ggml_iq_dot.txt";
  for (GgmlType type : types) {
    const std::string name = moe::type_name(type);
    const GgmlDot* dot = nullptr;
    for (const GgmlDot& d : dots)
      if (d.type_name == lower(name)) dot = &d;
    ASSERT_NE(dot, nullptr) << name;
    const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
    const auto cols = static_cast<int64_t>(dot->weights.size() / layout.block_bytes *
                                           layout.block_size);
    ASSERT_EQ(cols, 512) << name;

    std::vector<float> weights(static_cast<size_t>(cols));
    moe::dequantize_row(type, dot->weights.data(), weights.data(), cols);
    for (moe::cpu::SimdLevel level : moe::cpu::supported_simd_levels()) {
      const QuantDot* kernel = moe::cpu::quant_dot_for(type, level);
      ASSERT_NE(kernel, nullptr) << name;
      const std::vector<uint8_t> activations = our_activations(*dot, *kernel, cols);
      double magnitude = 0;  // Σ|w·a|
      for (int64_t i = 0; i < cols; ++i) {
        magnitude += std::fabs(static_cast<double>(weights[static_cast<size_t>(i)]) *
                               activation_value(*kernel, activations, i));
      }
      ASSERT_GT(magnitude, 0) << name;
      EXPECT_NEAR(kernel->dot(dot->weights.data(), activations.data(), cols), dot->result,
                  1e-6 * magnitude)
          << name << " at " << moe::cpu::simd_level_name(level);
    }
  }
}

}  // namespace
