// Activation quantization, the portable scalar dot-product kernels (the reference for the
// vectorized ones) and the choice of kernel per type and SIMD level. Weight block layouts and
// element orders are in moe/gguf_blocks.hpp; here the integer products are summed per scale
// group and each group's scale is applied once.
#include "cpu_quant_dot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <iterator>

#include "moe/error.hpp"
#include "moe/gguf_blocks.hpp"
#include "moe/little_endian.hpp"

namespace moe::cpu {

namespace {

// The weight row as its blocks.
template <typename Block>
const Block* blocks_of(const uint8_t* row) {
  return reinterpret_cast<const Block*>(row);
}

// round(x * inverse) clamped to [-127, 127]; NaN gives 0.
int8_t quantize_value(float x, float inverse) {
  float q = std::nearbyint(x * inverse);
  if (!(q >= -127.0f)) q = std::isnan(q) ? 0.0f : -127.0f;
  return static_cast<int8_t>(std::min(q, 127.0f));
}

float max_abs(const float* x, int n) {
  float result = 0.0f;
  for (int i = 0; i < n; ++i) result = std::max(result, std::fabs(x[i]));
  return result;
}

// The value of largest magnitude, the first one on a tie (0 when all are 0 or NaN).
float signed_max_abs(const float* x, int n) {
  float largest = 0.0f, value = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > largest) largest = std::fabs(x[i]), value = x[i];
  }
  return value;
}

// F16 / BF16 weights read f32 activations rounded to their type (cpu_float_dot.cpp), in batches of up
// to 16 tokens; above that convert + Eigen wins. One weight row against many tokens reads 4
// bytes of activation per multiply-add, from L2 once the batch outgrows L1, while Eigen's
// blocked product reuses each loaded activation for several rows. Measured (1024 x 2048 F16,
// one thread, CPU time, median of 5), time direct / convert: 0.50 at 1 token, 0.69 at 8,
// 0.88-0.93 at 16, 1.0 at 24, 1.08 at 32, 1.40 at 128.
QuantDot float_entry(GgmlType type) {
  return {.block_size = detail::kFloatDotBlock,
          .activation_block_bytes = detail::kFloatDotBlock * sizeof(float),
          .dot = detail::scalar_float_row_dot(type),
          .format = type == GgmlType::F16 ? ActivationFormat::F16Values
                                          : ActivationFormat::BF16Values,
          .max_tokens = 16};
}

// --- 32-element weight blocks -------------------------------------------------------------------

// The code of element i of a Q4_*/Q5_* block: low nibble of qs[i] for i < 16, high nibble of
// qs[i - 16] after; the fifth bit (Q5_*) is bit i of qh.
int nibble(const uint8_t* qs, int i) { return i < 16 ? (qs[i] & 0xf) : (qs[i - 16] >> 4); }
int fifth_bit(uint32_t qh, int i) { return static_cast<int>((qh >> i) & 1u) << 4; }

float dot_q8_0(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  const auto* blocks = blocks_of<BlockQ8_0>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < cols / kBlockElements; ++b) {
    int32_t products = 0;
    for (int i = 0; i < 32; ++i) products += blocks[b].qs[i] * a[b].q[i];
    sum += load_f16(blocks[b].d) * a[b].d * static_cast<float>(products);
  }
  return sum;
}

float dot_q4_0(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  const auto* blocks = blocks_of<BlockQ4_0>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < cols / kBlockElements; ++b) {
    int32_t products = 0;
    for (int i = 0; i < 32; ++i) products += (nibble(blocks[b].qs, i) - 8) * a[b].q[i];
    sum += load_f16(blocks[b].d) * a[b].d * static_cast<float>(products);
  }
  return sum;
}

float dot_q4_1(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  const auto* blocks = blocks_of<BlockQ4_1>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < cols / kBlockElements; ++b) {
    int32_t products = 0;
    for (int i = 0; i < 32; ++i) products += nibble(blocks[b].qs, i) * a[b].q[i];
    sum += load_f16(blocks[b].d) * a[b].d * static_cast<float>(products) +
           load_f16(blocks[b].m) * a[b].sum;
  }
  return sum;
}

float dot_q5_0(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  const auto* blocks = blocks_of<BlockQ5_0>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < cols / kBlockElements; ++b) {
    const uint32_t qh = load_u32(blocks[b].qh);
    int32_t products = 0;
    for (int i = 0; i < 32; ++i)
      products += ((nibble(blocks[b].qs, i) | fifth_bit(qh, i)) - 16) * a[b].q[i];
    sum += load_f16(blocks[b].d) * a[b].d * static_cast<float>(products);
  }
  return sum;
}

float dot_q5_1(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  const auto* blocks = blocks_of<BlockQ5_1>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < cols / kBlockElements; ++b) {
    const uint32_t qh = load_u32(blocks[b].qh);
    int32_t products = 0;
    for (int i = 0; i < 32; ++i)
      products += (nibble(blocks[b].qs, i) | fifth_bit(qh, i)) * a[b].q[i];
    sum += load_f16(blocks[b].d) * a[b].d * static_cast<float>(products) +
           load_f16(blocks[b].m) * a[b].sum;
  }
  return sum;
}

// IQ4_NL: 4-bit indices into kIq4NlValues, in Q4_0's nibble order.
float dot_iq4_nl(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  const auto* blocks = blocks_of<BlockIq4Nl>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < cols / kBlockElements; ++b) {
    int32_t products = 0;
    for (int i = 0; i < 32; ++i) products += kIq4NlValues[nibble(blocks[b].qs, i)] * a[b].q[i];
    sum += load_f16(blocks[b].d) * a[b].d * static_cast<float>(products);
  }
  return sum;
}

// MXFP4: 4-bit E2M1 codes (doubled to integers) with a power-of-two block scale.
float dot_mxfp4(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  const auto* blocks = blocks_of<BlockMxfp4>(w);
  float sum = 0.0f;
  for (int64_t b = 0; b < cols / kBlockElements; ++b) {
    int32_t products = 0;
    for (int i = 0; i < 32; ++i)
      products += kMxfp4DoubledValues[nibble(blocks[b].qs, i)] * a[b].q[i];
    sum += mxfp4_half_scale(blocks[b].e) * a[b].d * static_cast<float>(products);
  }
  return sum;
}

// --- 256-element super-blocks -------------------------------------------------------------------

// Σ q_i * a_i over the `size` elements of group g, given q for the whole super-block.
int32_t group_products(const int8_t* q, const int8_t* a, int group, int size = 16) {
  int32_t products = 0;
  for (int i = size * group; i < size * group + size; ++i) products += q[i] * a[i];
  return products;
}

// Q2_K: 2-bit codes, per 16 elements a 4-bit scale (low nibble) and 4-bit min (high nibble).
float dot_q2_k(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  const auto* blocks = blocks_of<BlockQ2_K>(w);
  float sum = 0.0f;
  int8_t q[kSuperBlockElements];
  for (int64_t b = 0; b < cols / kSuperBlockElements; ++b) {
    k_quant_codes(blocks[b], q);
    const uint8_t* scales = blocks[b].scales;
    int32_t scaled = 0, mins = 0;
    for (int g = 0; g < 16; ++g) {
      scaled += (scales[g] & 0xf) * group_products(q, a[b].q, g);
      mins += (scales[g] >> 4) * a[b].group_sums[g];
    }
    sum += a[b].d * (load_f16(blocks[b].d) * static_cast<float>(scaled) -
                     load_f16(blocks[b].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// Q3_K: 3-bit signed codes, 6-bit signed group scales.
float dot_q3_k(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  const auto* blocks = blocks_of<BlockQ3_K>(w);
  float sum = 0.0f;
  int8_t q[kSuperBlockElements];
  for (int64_t b = 0; b < cols / kSuperBlockElements; ++b) {
    k_quant_codes(blocks[b], q);
    int32_t scaled = 0;
    for (int g = 0; g < 16; ++g)
      scaled += q3_k_scale(blocks[b].scales, g) * group_products(q, a[b].q, g);
    sum += a[b].d * load_f16(blocks[b].d) * static_cast<float>(scaled);
  }
  return sum;
}

// Q4_K / Q5_K: 8 groups of 32 with 6-bit scales and mins.
template <typename Block>
float dot_q4_k_q5_k(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  const auto* blocks = blocks_of<Block>(w);
  float sum = 0.0f;
  int8_t q[kSuperBlockElements];
  for (int64_t b = 0; b < cols / kSuperBlockElements; ++b) {
    const Block& block = blocks[b];
    k_quant_codes(block, q);
    int32_t scaled = 0, mins = 0;
    for (int group = 0; group < 8; ++group) {
      const auto [scale, min] = k_quant_scale_and_min(block.scales, group);
      scaled += scale * group_products(q, a[b].q, group, 32);
      mins += min * (a[b].group_sums[2 * group] + a[b].group_sums[2 * group + 1]);
    }
    sum += a[b].d * (load_f16(block.d) * static_cast<float>(scaled) -
                     load_f16(block.dmin) * static_cast<float>(mins));
  }
  return sum;
}

constexpr RowDot dot_q4_k = dot_q4_k_q5_k<BlockQ4_K>;
constexpr RowDot dot_q5_k = dot_q4_k_q5_k<BlockQ5_K>;

// Q6_K: 6-bit codes minus 32, int8 scale per 16 elements.
float dot_q6_k(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  const auto* blocks = blocks_of<BlockQ6_K>(w);
  float sum = 0.0f;
  int8_t q[kSuperBlockElements];
  for (int64_t b = 0; b < cols / kSuperBlockElements; ++b) {
    k_quant_codes(blocks[b], q);
    int32_t scaled = 0;
    for (int g = 0; g < 16; ++g) scaled += blocks[b].scales[g] * group_products(q, a[b].q, g);
    sum += a[b].d * load_f16(blocks[b].d) * static_cast<float>(scaled);
  }
  return sum;
}

// The IQ and TQ super-blocks (IQ4_XS, IQ3_*, IQ2_*, IQ1_*, TQ*): their integer codes and
// scales per 16 elements (super_block_codes, moe/gguf_blocks.hpp), whose products are exact.
template <GgmlType kType>
float dot_super_block(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  const SuperBlockDecoder decode = super_block_decoder(kType);
  const size_t block_bytes = type_layout(static_cast<uint32_t>(kType))->block_bytes;
  float sum = 0.0f;
  SuperBlockCodes block;
  for (int64_t b = 0; b < cols / kSuperBlockElements; ++b) {
    decode(w + static_cast<size_t>(b) * block_bytes, block);
    int32_t scaled = 0;
    for (int g = 0; g < 16; ++g) scaled += block.scales[g] * group_products(block.codes, a[b].q, g);
    sum += a[b].d * block.d * static_cast<float>(scaled);
  }
  return sum;
}

constexpr GgmlType kTypes[] = {
    GgmlType::Q4_0,    GgmlType::Q4_1,   GgmlType::Q5_0,   GgmlType::Q5_1,    GgmlType::Q8_0,
    GgmlType::Q2_K,    GgmlType::Q3_K,   GgmlType::Q4_K,   GgmlType::Q5_K,    GgmlType::Q6_K,
    GgmlType::F16,     GgmlType::BF16,   GgmlType::IQ4_NL, GgmlType::IQ4_XS,  GgmlType::IQ3_XXS,
    GgmlType::IQ3_S,   GgmlType::IQ2_XXS, GgmlType::IQ2_XS, GgmlType::IQ2_S,  GgmlType::IQ1_S,
    GgmlType::IQ1_M,   GgmlType::TQ1_0,  GgmlType::TQ2_0,  GgmlType::MXFP4};
using KernelTable = std::array<QuantDot, std::size(kTypes)>;

// The portable kernels, in the order of kTypes.
const KernelTable& scalar_table() {
  constexpr size_t k32 = sizeof(ActivationBlock32), k256 = sizeof(ActivationBlock256);
  constexpr auto kInt32 = ActivationFormat::Int8Blocks32;
  constexpr auto kInt256 = ActivationFormat::Int8Blocks256;
  static const KernelTable table = {{
      {32, k32, dot_q4_0, nullptr, kInt32},
      {32, k32, dot_q4_1, nullptr, kInt32},
      {32, k32, dot_q5_0, nullptr, kInt32},
      {32, k32, dot_q5_1, nullptr, kInt32},
      {32, k32, dot_q8_0, nullptr, kInt32},
      {256, k256, dot_q2_k, nullptr, kInt256},
      {256, k256, dot_q3_k, nullptr, kInt256},
      {256, k256, dot_q4_k, nullptr, kInt256},
      {256, k256, dot_q5_k, nullptr, kInt256},
      {256, k256, dot_q6_k, nullptr, kInt256},
      float_entry(GgmlType::F16),
      float_entry(GgmlType::BF16),
      {32, k32, dot_iq4_nl, nullptr, kInt32},
      {256, k256, dot_super_block<GgmlType::IQ4_XS>, nullptr, kInt256},
      {256, k256, dot_super_block<GgmlType::IQ3_XXS>, nullptr, kInt256},
      {256, k256, dot_super_block<GgmlType::IQ3_S>, nullptr, kInt256},
      {256, k256, dot_super_block<GgmlType::IQ2_XXS>, nullptr, kInt256},
      {256, k256, dot_super_block<GgmlType::IQ2_XS>, nullptr, kInt256},
      {256, k256, dot_super_block<GgmlType::IQ2_S>, nullptr, kInt256},
      {256, k256, dot_super_block<GgmlType::IQ1_S>, nullptr, kInt256},
      {256, k256, dot_super_block<GgmlType::IQ1_M>, nullptr, kInt256},
      {256, k256, dot_super_block<GgmlType::TQ1_0>, nullptr, kInt256},
      {256, k256, dot_super_block<GgmlType::TQ2_0>, nullptr, kInt256},
      {32, k32, dot_mxfp4, nullptr, kInt32},
  }};
  return table;
}

// The table of one SIMD level: its kernels where it has them, the scalar ones elsewhere; a float
// type without a vectorized kernel gets no entry (convert + Eigen beats a scalar loop).
struct LevelKernels {
  RowDot (*row_dot)(GgmlType);
  RowDot (*iq_row_dot)(GgmlType);
  RowDotMany (*iq_row_dot_many)(GgmlType);
  RowDotMany (*row_dot_many)(GgmlType);
  RowDotMany (*block_dot_many)(GgmlType);
  RowDot (*float_row_dot)(GgmlType);
  RowDotMany (*float_row_dot_many)(GgmlType);
  QuantizeRow (*activation_quantizer)(ActivationFormat);
};

KernelTable level_table(const LevelKernels* level) {
  KernelTable table = scalar_table();
  for (size_t i = 0; i < std::size(kTypes); ++i) {
    QuantDot& entry = table[i];
    if (is_float_format(entry.format)) {
      entry.dot = level ? level->float_row_dot(kTypes[i]) : nullptr;
      entry.dot_many = level ? level->float_row_dot_many(kTypes[i]) : nullptr;
      continue;
    }
    if (level == nullptr) continue;
    entry.quantize = level->activation_quantizer(entry.format);
    if (RowDot fast = level->row_dot(kTypes[i])) entry.dot = fast;
    entry.dot_many = level->row_dot_many(kTypes[i]);
    if (RowDot fast = level->iq_row_dot(kTypes[i])) {
      entry.dot = fast;
      entry.dot_many = level->iq_row_dot_many(kTypes[i]);
    }
    if (entry.dot_many == nullptr) entry.dot_many = level->block_dot_many(kTypes[i]);
  }
  return table;
}

#define MOE_LEVEL_KERNELS(ns)                                                          \
  LevelKernels {                                                                       \
    detail::ns::row_dot, detail::ns::iq_row_dot, detail::ns::iq_row_dot_many,          \
        detail::ns::row_dot_many, detail::ns::block_dot_many, detail::ns::float_row_dot, \
        detail::ns::float_row_dot_many, detail::ns::activation_quantizer              \
  }

// Each level's table is built the first time it is asked for: building it calls that level's
// code (compiled with its instructions), so only ever for a level this CPU supports.
const KernelTable& table_for(SimdLevel level) {
  switch (level) {
#if MOESCOPE_X86_SIMD_LEVELS
    case SimdLevel::Avx2: {
      static const LevelKernels kernels = MOE_LEVEL_KERNELS(avx2);
      static const KernelTable table = level_table(&kernels);
      return table;
    }
    case SimdLevel::AvxVnni: {
      static const LevelKernels kernels = MOE_LEVEL_KERNELS(avx_vnni);
      static const KernelTable table = level_table(&kernels);
      return table;
    }
    case SimdLevel::Avx512Vnni: {
      static const LevelKernels kernels = MOE_LEVEL_KERNELS(avx512_vnni);
      static const KernelTable table = level_table(&kernels);
      return table;
    }
#endif
    default: {
      static const KernelTable table = level_table(nullptr);
      return table;
    }
  }
}
#undef MOE_LEVEL_KERNELS

const QuantDot* find(const KernelTable& table, GgmlType type) {
  for (size_t i = 0; i < std::size(kTypes); ++i) {
    if (kTypes[i] == type) return table[i].dot != nullptr ? &table[i] : nullptr;
  }
  return nullptr;
}

}  // namespace

void quantize_activations_32(const float* x, ActivationBlock32* out, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    const float largest = max_abs(x, 32);
    const float d = largest / 127.0f;
    const float inverse = largest != 0.0f ? 127.0f / largest : 0.0f;
    int32_t total = 0;
    for (int i = 0; i < 32; ++i) {
      out[b].q[i] = quantize_value(x[i], inverse);
      total += out[b].q[i];
    }
    out[b].d = f16_to_f32(f32_to_f16(d));
    out[b].sum = f16_to_f32(f32_to_f16(d * static_cast<float>(total)));
  }
}

void quantize_activations_256(const float* x, ActivationBlock256* out, int64_t n) {
  for (int64_t b = 0; b < n / 256; ++b, x += 256) {
    const float extreme = signed_max_abs(x, 256);
    const float inverse = extreme != 0.0f ? -127.0f / extreme : 0.0f;
    for (int g = 0; g < 16; ++g) {
      int32_t total = 0;
      for (int i = 16 * g; i < 16 * g + 16; ++i) {
        out[b].q[i] = quantize_value(x[i], inverse);
        total += out[b].q[i];
      }
      out[b].group_sums[g] = static_cast<int16_t>(total);
    }
    out[b].d = extreme != 0.0f ? 1.0f / inverse : 0.0f;
  }
}

const QuantDot* quant_dot_for(GgmlType type, SimdLevel level) {
  require_cpu_support(level);
  return find(table_for(level), type);
}

const QuantDot* scalar_quant_dot_for(GgmlType type) { return find(scalar_table(), type); }

void quantize_activations(const QuantDot& kernel, const float* x, void* out, int64_t n) {
  if (n % kernel.block_size != 0) {
    throw Error("quantize_activations: " + std::to_string(n) + " values are not whole blocks of " +
                std::to_string(kernel.block_size));
  }
  if (kernel.quantize != nullptr) {
    kernel.quantize(x, out, n);
    return;
  }
  switch (kernel.format) {
    case ActivationFormat::Int8Blocks32:
      quantize_activations_32(x, static_cast<ActivationBlock32*>(out), n);
      return;
    case ActivationFormat::Int8Blocks256:
      quantize_activations_256(x, static_cast<ActivationBlock256*>(out), n);
      return;
    case ActivationFormat::F16Values:
    case ActivationFormat::BF16Values: {
      float* values = static_cast<float*>(out);
      std::memcpy(values, x, static_cast<size_t>(n) * sizeof(float));
      round_activations_for(kernel.format == ActivationFormat::F16Values ? GgmlType::F16
                                                                         : GgmlType::BF16,
                            values, n);
      return;
    }
  }
}

void round_activations_for(GgmlType weight_type, float* x, int64_t n) {
  if (weight_type == GgmlType::F16) {
    for (int64_t i = 0; i < n; ++i) x[i] = f16_to_f32(f32_to_f16(x[i]));
  } else if (weight_type == GgmlType::BF16) {
    for (int64_t i = 0; i < n; ++i) x[i] = bf16_to_f32(f32_to_bf16(x[i]));
  }
}

}  // namespace moe::cpu
