#include "random_quant.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "moe/error.hpp"
#include "moe/gguf_blocks.hpp"
#include "moe/little_endian.hpp"

namespace moe::testing {

BlockScaleFields block_scale_fields(GgmlType type) {
  // The offsets of the block's f16 scale fields (moe/gguf_blocks.hpp); -1: none.
  const auto at = [](size_t offset) { return static_cast<int>(offset); };
  switch (type) {
    case GgmlType::Q4_0:
      return {at(offsetof(BlockQ4_0, d)), -1};
    case GgmlType::Q5_0:
      return {at(offsetof(BlockQ5_0, d)), -1};
    case GgmlType::Q8_0:
      return {at(offsetof(BlockQ8_0, d)), -1};
    case GgmlType::Q4_1:
      return {at(offsetof(BlockQ4_1, d)), at(offsetof(BlockQ4_1, m))};
    case GgmlType::Q5_1:
      return {at(offsetof(BlockQ5_1, d)), at(offsetof(BlockQ5_1, m))};
    case GgmlType::Q4_K:
      return {at(offsetof(BlockQ4_K, d)), at(offsetof(BlockQ4_K, dmin))};
    case GgmlType::Q5_K:
      return {at(offsetof(BlockQ5_K, d)), at(offsetof(BlockQ5_K, dmin))};
    case GgmlType::Q2_K:
      return {at(offsetof(BlockQ2_K, d)), at(offsetof(BlockQ2_K, dmin))};
    case GgmlType::Q3_K:
      return {at(offsetof(BlockQ3_K, d)), -1};
    case GgmlType::Q6_K:
      return {at(offsetof(BlockQ6_K, d)), -1};
    case GgmlType::IQ4_NL:
      return {at(offsetof(BlockIq4Nl, d)), -1};
    case GgmlType::IQ4_XS:
      return {at(offsetof(BlockIq4Xs, d)), -1};
    case GgmlType::IQ3_XXS:
      return {at(offsetof(BlockIq3Xxs, d)), -1};
    case GgmlType::IQ3_S:
      return {at(offsetof(BlockIq3S, d)), -1};
    case GgmlType::IQ2_XXS:
      return {at(offsetof(BlockIq2Xxs, d)), -1};
    case GgmlType::IQ2_XS:
      return {at(offsetof(BlockIq2Xs, d)), -1};
    case GgmlType::IQ2_S:
      return {at(offsetof(BlockIq2S, d)), -1};
    case GgmlType::IQ1_S:
      return {at(offsetof(BlockIq1S, d)), -1};
    case GgmlType::IQ1_M:
      return {kIq1MPackedScale, -1};
    case GgmlType::TQ1_0:
      return {at(offsetof(BlockTq1_0, d)), -1};
    case GgmlType::TQ2_0:
      return {at(offsetof(BlockTq2_0, d)), -1};
    case GgmlType::MXFP4:
      return {kMxfp4Exponent, -1};
    case GgmlType::Q8_K:
      return {kQ8KF32Scale, -1};
    default:
      throw Error("random_quantized: " + type_name(type) + " is not a block-quantized type");
  }
}

void set_block_scales(GgmlType type, std::vector<uint8_t>& data, float d, float min) {
  const BlockScaleFields fields = block_scale_fields(type);
  const uint32_t block_bytes = type_layout(static_cast<uint32_t>(type))->block_bytes;
  const uint16_t d_bits = f32_to_f16(d), min_bits = f32_to_f16(min);
  for (size_t at = 0; at + block_bytes <= data.size(); at += block_bytes) {
    if (fields.d_offset == kMxfp4Exponent) {
      // x = 2^(e - 127) * E2M1(q): the nearest power of two to d.
      const long exponent = d > 0 ? 127 + std::lround(std::log2(d)) : 0;
      data[at + offsetof(BlockMxfp4, e)] = static_cast<uint8_t>(std::clamp(exponent, 0L, 254L));
      continue;
    }
    if (fields.d_offset == kIq1MPackedScale) {
      // IQ1_M's d is the top nibbles of its four u16 scale words, the first word lowest.
      uint8_t* words = &data[at + offsetof(BlockIq1M, scales)];
      for (int w = 0; w < 4; ++w) {
        const auto top = static_cast<uint16_t>(((d_bits >> (4 * w)) & 0xf) << 12);
        store_u16(words + 2 * w, static_cast<uint16_t>((load_u16(words + 2 * w) & 0x0fff) | top));
      }
      continue;
    }
    if (fields.d_offset == kQ8KF32Scale) {
      std::memcpy(&data[at + offsetof(BlockQ8_K, d)], &d, sizeof d);
      continue;
    }
    store_u16(&data[at + static_cast<size_t>(fields.d_offset)], d_bits);
    if (fields.min_offset >= 0)
      store_u16(&data[at + static_cast<size_t>(fields.min_offset)], min_bits);
  }
}

std::vector<uint8_t> random_quantized(GgmlType type, uint64_t n_elements, double stddev,
                                      std::mt19937_64& rng) {
  const auto layout = *type_layout(static_cast<uint32_t>(type));
  std::vector<uint8_t> data(n_elements / layout.block_size * layout.block_bytes);
  for (uint8_t& byte : data) byte = static_cast<uint8_t>(rng());

  // Values are linear in (d, min): v = d * A + min * B. Measure A and B, then pick min so that
  // the mean is 0 and scale both to the wanted standard deviation.
  const auto values_with = [&](float d, float min) {
    std::vector<uint8_t> copy = data;
    set_block_scales(type, copy, d, min);
    std::vector<float> values(n_elements);
    dequantize_row(type, copy.data(), values.data(), static_cast<int64_t>(n_elements));
    return values;
  };
  const auto mean = [](const std::vector<float>& v) {
    double total = 0;
    for (float x : v) total += x;
    return total / static_cast<double>(v.size());
  };
  const std::vector<float> a = values_with(1.0f, 0.0f);
  double min_per_d = 0;
  if (block_scale_fields(type).min_offset >= 0) {
    const double mean_b = mean(values_with(0.0f, 1.0f));
    if (mean_b != 0) min_per_d = -mean(a) / mean_b;
  }
  const std::vector<float> centered = values_with(1.0f, static_cast<float>(min_per_d));
  const double centered_mean = mean(centered);
  double variance = 0;
  for (float x : centered) variance += (x - centered_mean) * (x - centered_mean);
  variance /= static_cast<double>(centered.size());
  const double d = variance > 0 ? stddev / std::sqrt(variance) : 1.0;
  set_block_scales(type, data, static_cast<float>(d), static_cast<float>(d * min_per_d));
  return data;
}

}  // namespace moe::testing
