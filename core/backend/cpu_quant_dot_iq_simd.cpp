// Vectorized dot products of the IQ and TQ types (the scalar ones are in cpu_quant_dot.cpp),
// compiled once per SIMD level like cpu_quant_dot_simd.cpp. The integer sums are exact, so
// these differ from the scalar kernels only in the order the float block terms are added.
//
// IQ4_NL and IQ4_XS look their 4-bit indices up in kIq4NlValues with one byte shuffle. The grid
// and ternary types (IQ3_*, IQ2_*, IQ1_*, TQ*) decode each super-block to integer codes with
// the portable decoder (moe/gguf_blocks.hpp's super_block_decoder) and multiply those
// vectorized. Signed codes × signed activations: maddubs takes |code| and the activation with
// the code's sign; |code| <= 127 and |a| <= 127, so no 16-bit pair sum reaches 2^15.
#include "cpu_quant_dot.hpp"
#include "cpu_simd_helpers.hpp"

namespace moe::cpu::detail::MOE_SIMD_NS {

namespace {

// The 32 codes of IQ4_NL's (and each IQ4_XS group's) 16 index bytes, in element order.
__m256i iq4_codes(const uint8_t* qs) {
  const __m256i values = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4NlValues)));
  return _mm256_shuffle_epi8(values, nibbles_32(qs));
}

// --- One block unpacked once, multiplied with each token of a tile ------------------------------
//
// As the K-quant kernels (cpu_quant_dot_simd.cpp): a block is unpacked once per tile of tokens
// and each token's arithmetic is the same code, so a token gets bit-identical results alone (the
// one-token kernel is a tile of 1) or in any batch.

// An IQ4_NL block: its 32 codes (magnitudes and the codes for their signs) and its scale.
struct UnpackedBlock32 {
  __m256i magnitudes;
  __m256i codes;
  float d;
};

__attribute__((always_inline)) inline void unpack_iq4_nl(const uint8_t* w, UnpackedBlock32& block) {
  block.codes = iq4_codes(w + offsetof(BlockIq4Nl, qs));
  block.magnitudes = _mm256_sign_epi8(block.codes, block.codes);
  block.d = load_f16(w + offsetof(BlockIq4Nl, d));
}

__attribute__((always_inline)) inline void add_block(const UnpackedBlock32& block,
                                                     const ActivationBlock32& a, __m256& acc) {
  const __m256i pairs =
      _mm256_maddubs_epi16(block.magnitudes, _mm256_sign_epi8(load_256(a.q), block.codes));
  const __m256i products = add_dot_pairs_16(_mm256_setzero_si256(), pairs, _mm256_set1_epi16(1));
  acc = _mm256_fmadd_ps(_mm256_set1_ps(block.d * a.d), _mm256_cvtepi32_ps(products), acc);
}

// A 256-element super-block: 8 × 32 codes, the int16 scale of each element pair, the float d
// (the decoded d of SuperBlockCodes).
struct UnpackedSuperBlock {
  __m256i magnitudes[8];
  __m256i codes[8];
  __m256i scales[8];
  float d;
};

__attribute__((always_inline)) inline void unpack_iq4_xs(const uint8_t* w,
                                                         UnpackedSuperBlock& block) {
  const uint8_t* scales_l = w + offsetof(BlockIq4Xs, scales_l);
  const uint16_t scales_h = load_u16(w + offsetof(BlockIq4Xs, scales_h));
  for (int g = 0; g < 8; ++g) {
    const int low = (scales_l[g / 2] >> (4 * (g % 2))) & 0xf;
    const int scale = (low | ((scales_h >> (2 * g)) & 3) << 4) - 32;
    block.scales[g] = _mm256_set1_epi16(static_cast<int16_t>(scale));
    block.codes[g] = iq4_codes(w + offsetof(BlockIq4Xs, qs) + 16 * g);
    block.magnitudes[g] = _mm256_sign_epi8(block.codes[g], block.codes[g]);
  }
  block.d = load_f16(w + offsetof(BlockIq4Xs, d));
}

// The grid and ternary types: the portable decoder (the grid lookups are scattered loads
// either way), then the codes into registers.
template <GgmlType kType>
void unpack_decoded(const uint8_t* w, UnpackedSuperBlock& block) {
  SuperBlockCodes decoded;
  super_block_decoder(kType)(w, decoded);
  for (int i = 0; i < 8; ++i) {
    block.codes[i] = load_256(decoded.codes + 32 * i);
    block.magnitudes[i] = _mm256_sign_epi8(block.codes[i], block.codes[i]);
    block.scales[i] = _mm256_set_m128i(_mm_set1_epi16(decoded.scales[2 * i + 1]),
                                       _mm_set1_epi16(decoded.scales[2 * i]));
  }
  block.d = decoded.d;
}

__attribute__((always_inline)) inline void add_block(const UnpackedSuperBlock& block,
                                                     const ActivationBlock256& a, __m256& acc) {
  __m256i sum = _mm256_setzero_si256();
  for (int i = 0; i < 8; ++i) {
    const __m256i pairs = _mm256_maddubs_epi16(
        block.magnitudes[i], _mm256_sign_epi8(load_256(a.q + 32 * i), block.codes[i]));
    sum = add_dot_pairs_16(sum, pairs, block.scales[i]);
  }
  acc = _mm256_fmadd_ps(_mm256_set1_ps(a.d * block.d), _mm256_cvtepi32_ps(sum), acc);
}

// out[t * out_stride] = row · activation t for n tokens `stride` bytes apart, in tiles of kTile.
template <typename Unpacked, typename Activation, void (*kUnpack)(const uint8_t*, Unpacked&),
          size_t kBlockBytes, int kTile>
void dot_tiles(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
               float* out, size_t out_stride) {
  constexpr int64_t kElements = sizeof(Activation::q);
  for (int first = 0; first < n; first += kTile) {
    const int tile = n - first < kTile ? n - first : kTile;
    __m256 acc[kTile];
    for (int t = 0; t < tile; ++t) acc[t] = _mm256_setzero_ps();
    const uint8_t* block_bytes = w;
    for (int64_t b = 0; b < cols / kElements; ++b, block_bytes += kBlockBytes) {
      prefetch_ahead<kBlockBytes>(block_bytes);
      Unpacked block;
      kUnpack(block_bytes, block);
      for (int t = 0; t < tile; ++t) {
        const auto& a = reinterpret_cast<const Activation*>(
            activations + static_cast<size_t>(first + t) * stride)[b];
        add_block(block, a, acc[t]);
      }
    }
    for (int t = 0; t < tile; ++t)
      out[static_cast<size_t>(first + t) * out_stride] = horizontal_sum(acc[t]);
  }
}

template <typename Unpacked, typename Activation, void (*kUnpack)(const uint8_t*, Unpacked&),
          size_t kBlockBytes>
void dot_many(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
              float* out, size_t out_stride) {
  if (n == 1) {
    dot_tiles<Unpacked, Activation, kUnpack, kBlockBytes, 1>(w, activations, stride, n, cols, out,
                                                             out_stride);
  } else {
    dot_tiles<Unpacked, Activation, kUnpack, kBlockBytes, 8>(w, activations, stride, n, cols, out,
                                                             out_stride);
  }
}

template <typename Unpacked, typename Activation, void (*kUnpack)(const uint8_t*, Unpacked&),
          size_t kBlockBytes>
float dot_one(const uint8_t* w, const void* activation, int64_t cols) {
  float result;
  dot_tiles<Unpacked, Activation, kUnpack, kBlockBytes, 1>(
      w, static_cast<const uint8_t*>(activation), 0, 1, cols, &result, 1);
  return result;
}

struct Kernels {
  RowDot one;
  RowDotMany many;
};

template <typename Unpacked, typename Activation, void (*kUnpack)(const uint8_t*, Unpacked&),
          size_t kBlockBytes>
constexpr Kernels kernels() {
  return {dot_one<Unpacked, Activation, kUnpack, kBlockBytes>,
          dot_many<Unpacked, Activation, kUnpack, kBlockBytes>};
}

template <GgmlType kType, typename Block>
constexpr Kernels decoded_kernels() {
  return kernels<UnpackedSuperBlock, ActivationBlock256, unpack_decoded<kType>, sizeof(Block)>();
}

Kernels kernels_for(GgmlType type) {
  switch (type) {
    case GgmlType::IQ4_NL:
      return kernels<UnpackedBlock32, ActivationBlock32, unpack_iq4_nl, sizeof(BlockIq4Nl)>();
    case GgmlType::IQ4_XS:
      return kernels<UnpackedSuperBlock, ActivationBlock256, unpack_iq4_xs, sizeof(BlockIq4Xs)>();
    case GgmlType::IQ3_XXS:
      return decoded_kernels<GgmlType::IQ3_XXS, BlockIq3Xxs>();
    case GgmlType::IQ3_S:
      return decoded_kernels<GgmlType::IQ3_S, BlockIq3S>();
    case GgmlType::IQ2_XXS:
      return decoded_kernels<GgmlType::IQ2_XXS, BlockIq2Xxs>();
    case GgmlType::IQ2_XS:
      return decoded_kernels<GgmlType::IQ2_XS, BlockIq2Xs>();
    case GgmlType::IQ2_S:
      return decoded_kernels<GgmlType::IQ2_S, BlockIq2S>();
    case GgmlType::IQ1_S:
      return decoded_kernels<GgmlType::IQ1_S, BlockIq1S>();
    case GgmlType::IQ1_M:
      return decoded_kernels<GgmlType::IQ1_M, BlockIq1M>();
    case GgmlType::TQ1_0:
      return decoded_kernels<GgmlType::TQ1_0, BlockTq1_0>();
    case GgmlType::TQ2_0:
      return decoded_kernels<GgmlType::TQ2_0, BlockTq2_0>();
    default:
      return {nullptr, nullptr};
  }
}

}  // namespace

RowDot iq_row_dot(GgmlType type) { return kernels_for(type).one; }

RowDotMany iq_row_dot_many(GgmlType type) { return kernels_for(type).many; }

}  // namespace moe::cpu::detail::MOE_SIMD_NS
