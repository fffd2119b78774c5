// Vectorized versions of the quantized dot products in cpu_quant_dot.cpp, compiled once per SIMD
// level (AVX2, AVX-VNNI, AVX-512 VNNI; see cpu_simd_helpers.hpp). Same arithmetic: integer
// products per scale group, float scales per block). The integer sums are exact, so these
// differ from the scalar kernels only in the order the float block terms are added.
//
// The core instruction is maddubs (unsigned 8-bit × signed 8-bit, adjacent pairs summed to
// 16 bits); the unsigned side is the weight code, which is never above 63, so no pair sum can
// saturate. Signed weights (Q8_0, Q4_0, Q5_0) move their sign onto the activation first.
#include "cpu_quant_dot.hpp"

#include "cpu_simd_helpers.hpp"

namespace moe::cpu::detail::MOE_SIMD_NS {

namespace {

// Block layouts are moe/gguf_blocks.hpp's. load_f16, load_256, horizontal_sum, nibbles_32,
// bits_to_bytes and the integer dot products come from cpu_simd_helpers.hpp, shared with the
// many-token and float kernels, which must match these bit for bit.

// Signed bytes × signed bytes, summed in groups of four to 8 × int32.
__m256i dot_signed_signed(__m256i x, __m256i y) {
  return dot_unsigned_signed(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// --- 32-element blocks: one float scale per block -----------------------------------------------

float dot_q8_0(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < cols / 32; ++b, w += sizeof(BlockQ8_0)) {
    prefetch_ahead<sizeof(BlockQ8_0)>(w);
    const __m256i products =
        dot_signed_signed(load_256(w + offsetof(BlockQ8_0, qs)), load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w + offsetof(BlockQ8_0, d)) * a[b].d),
                          _mm256_cvtepi32_ps(products), acc);
  }
  return horizontal_sum(acc);
}

float dot_q4_0(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < cols / 32; ++b, w += sizeof(BlockQ4_0)) {
    prefetch_ahead<sizeof(BlockQ4_0)>(w);
    const __m256i q = _mm256_sub_epi8(nibbles_32(w + offsetof(BlockQ4_0, qs)), _mm256_set1_epi8(8));
    const __m256i products = dot_signed_signed(q, load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w + offsetof(BlockQ4_0, d)) * a[b].d),
                          _mm256_cvtepi32_ps(products), acc);
  }
  return horizontal_sum(acc);
}

float dot_q4_1(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  for (int64_t b = 0; b < cols / 32; ++b, w += sizeof(BlockQ4_1)) {
    prefetch_ahead<sizeof(BlockQ4_1)>(w);
    const __m256i products =
        dot_unsigned_signed(nibbles_32(w + offsetof(BlockQ4_1, qs)), load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w + offsetof(BlockQ4_1, d)) * a[b].d),
                          _mm256_cvtepi32_ps(products), acc);
    offsets += load_f16(w + offsetof(BlockQ4_1, m)) * a[b].sum;
  }
  return horizontal_sum(acc) + offsets;
}

float dot_q5_0(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < cols / 32; ++b, w += sizeof(BlockQ5_0)) {
    prefetch_ahead<sizeof(BlockQ5_0)>(w);
    // (code | bit << 4) - 16 == code - 16 where the bit is clear: set the byte's high nibble.
    const __m256i clear = _mm256_andnot_si256(bits_to_bytes(load_u32(w + offsetof(BlockQ5_0, qh))),
                                              _mm256_set1_epi8(-16));
    const __m256i q = _mm256_or_si256(nibbles_32(w + offsetof(BlockQ5_0, qs)), clear);
    const __m256i products = dot_signed_signed(q, load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w + offsetof(BlockQ5_0, d)) * a[b].d),
                          _mm256_cvtepi32_ps(products), acc);
  }
  return horizontal_sum(acc);
}

float dot_q5_1(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock32*>(activation);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  for (int64_t b = 0; b < cols / 32; ++b, w += sizeof(BlockQ5_1)) {
    prefetch_ahead<sizeof(BlockQ5_1)>(w);
    const __m256i high = _mm256_and_si256(bits_to_bytes(load_u32(w + offsetof(BlockQ5_1, qh))),
                                          _mm256_set1_epi8(16));
    const __m256i q = _mm256_or_si256(nibbles_32(w + offsetof(BlockQ5_1, qs)), high);
    const __m256i products = dot_unsigned_signed(q, load_256(a[b].q));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(load_f16(w + offsetof(BlockQ5_1, d)) * a[b].d),
                          _mm256_cvtepi32_ps(products), acc);
    offsets += load_f16(w + offsetof(BlockQ5_1, m)) * a[b].sum;
  }
  return horizontal_sum(acc) + offsets;
}

// --- 256-element super-blocks: integer group scales, one float scale per super-block ----------

// 32 consecutive codes whose first 16 belong to group g and last 16 to group g + 1 (Q2_K, Q3_K,
// Q6_K) times the activations, each half weighted by its group's scale, added to sum: 8 × int32.
__m256i add_scaled_pair_of_groups(__m256i sum, __m256i codes, const int8_t* activations,
                                  int scale_first, int scale_second) {
  const __m256i products = _mm256_maddubs_epi16(codes, load_256(activations));
  const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(scale_second)),
                                          _mm_set1_epi16(static_cast<int16_t>(scale_first)));
  return add_dot_pairs_16(sum, products, scales);
}

float dot_q2_k(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  const __m256i two_bits = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < cols / 256; ++b, w += sizeof(BlockQ2_K)) {
    prefetch_ahead<sizeof(BlockQ2_K)>(w);
    const uint8_t* scales = w + offsetof(BlockQ2_K, scales);
    int32_t mins = 0;
    for (int g = 0; g < 16; ++g) mins += (scales[g] >> 4) * a[b].group_sums[g];
    __m256i sum = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i packed = load_256(w + offsetof(BlockQ2_K, qs) + 32 * half);
      for (int shift = 0; shift < 4; ++shift) {
        const __m256i codes = _mm256_and_si256(_mm256_srli_epi16(packed, 2 * shift), two_bits);
        const int g = 8 * half + 2 * shift;
        sum = add_scaled_pair_of_groups(sum, codes, a[b].q + 128 * half + 32 * shift,
                                        scales[g] & 0xf, scales[g + 1] & 0xf);
      }
    }
    const float d = a[b].d * load_f16(w + offsetof(BlockQ2_K, d));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
    offsets += a[b].d * load_f16(w + offsetof(BlockQ2_K, dmin)) * static_cast<float>(mins);
  }
  return horizontal_sum(acc) - offsets;
}

float dot_q3_k(const uint8_t* w, const void* activation, int64_t cols) {
  const auto* a = static_cast<const ActivationBlock256*>(activation);
  __m256 acc = _mm256_setzero_ps();
  const __m256i two_bits = _mm256_set1_epi8(3);
  const __m256i one_bit = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < cols / 256; ++b, w += sizeof(BlockQ3_K)) {
    prefetch_ahead<sizeof(BlockQ3_K)>(w);
    int scale[16];
    int32_t offset = 0;  // codes are stored + 4 here (0..7), so subtract 4 Σ scale * Σa
    const uint8_t* packed = w + offsetof(BlockQ3_K, scales);
    for (int g = 0; g < 16; ++g) {
      scale[g] = q3_k_scale(packed, g);
      offset += scale[g] * a[b].group_sums[g];
    }
    const __m256i hmask = load_256(w + offsetof(BlockQ3_K, hmask));
    __m256i sum = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i low_bits = load_256(w + offsetof(BlockQ3_K, qs) + 32 * half);
      for (int shift = 0; shift < 4; ++shift) {
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(low_bits, 2 * shift), two_bits);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hmask, 4 * half + shift), one_bit);
        const __m256i codes = _mm256_or_si256(low, _mm256_slli_epi16(high, 2));
        const int g = 8 * half + 2 * shift;
        sum = add_scaled_pair_of_groups(sum, codes, a[b].q + 128 * half + 32 * shift, scale[g],
                                        scale[g + 1]);
      }
    }
    sum = _mm256_sub_epi32(sum, _mm256_setr_epi32(4 * offset, 0, 0, 0, 0, 0, 0, 0));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(a[b].d * load_f16(w + offsetof(BlockQ3_K, d))),
                          _mm256_cvtepi32_ps(sum), acc);
  }
  return horizontal_sum(acc);
}

// --- Q4_K, Q5_K, Q6_K: one code path for one token (decode) and for tiles of tokens (prefill) ---
//
// A super-block is unpacked once into registers (codes, per-element-pair scales, the weights of
// the offset term) and then multiplied with each token's activations. One token is a tile of 1
// known at compile time, so the unpacked block stays in registers; `dot` is that kernel too. A
// token therefore gets bit-identical results alone or in any batch: the per-token arithmetic is
// the same code.
//
// The group scales are kept as bytes in one register and spread over a group's 16-bit lanes
// with one byte shuffle each: moving each scale through a general-purpose register (extract,
// move, broadcast: three vector operations per group) was a third of the kernels' vector work.

// Shuffle controls: `kind` spreads bytes of a 16-byte register (broadcast to both 128-bit
// lanes) over 16-bit lanes, zero-extended (0x80 selects zero).
struct ShuffleControls {
  alignas(32) uint8_t bytes[8][32];
};

// Q4_K / Q5_K scale of group g (see q4_k_scales_and_mins for where it sits) in every lane.
constexpr ShuffleControls q4_k_scale_controls() {
  ShuffleControls controls{};
  for (int g = 0; g < 8; ++g) {
    const auto source = static_cast<uint8_t>(g < 4 ? g : g + 4);
    for (int i = 0; i < 32; i += 2) {
      controls.bytes[g][i] = source;
      controls.bytes[g][i + 1] = 0x80;
    }
  }
  return controls;
}

// Q4_K / Q5_K mins for the offset term, in row 0: 16-bit lane j gets the min of 32-element group
// j / 2, the group of activation sum j (elements 16j .. 16j + 15).
constexpr ShuffleControls q4_k_min_controls() {
  ShuffleControls controls{};
  for (int lane = 0; lane < 16; ++lane) {
    const int group = lane / 2;
    controls.bytes[0][2 * lane] = static_cast<uint8_t>(group < 4 ? group + 4 : group + 8);
    controls.bytes[0][2 * lane + 1] = 0x80;
  }
  return controls;
}

// 16-bit word p of each 128-bit lane in every 16-bit lane of that lane.
constexpr ShuffleControls word_controls() {
  ShuffleControls controls{};
  for (int p = 0; p < 8; ++p) {
    for (int i = 0; i < 32; i += 2) {
      controls.bytes[p][i] = static_cast<uint8_t>(2 * p);
      controls.bytes[p][i + 1] = static_cast<uint8_t>(2 * p + 1);
    }
  }
  return controls;
}

constexpr ShuffleControls kQ4kScaleControls = q4_k_scale_controls();
constexpr ShuffleControls kQ4kMinControls = q4_k_min_controls();
constexpr ShuffleControls kWordControls = word_controls();

__m256i control(const ShuffleControls& controls, int index) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(controls.bytes[index]));
}

// Q4_K / Q5_K: the 6-bit scales and mins of the 8 groups (k_quant_scale_and_min), one byte each:
// bytes 0-3 scales 0-3, 4-7 mins 0-3, 8-11 scales 4-7, 12-15 mins 4-7. The 12 packed bytes hold
// the low 6 bits of scales 0-3 and mins 0-3 in bytes 0-7, whose top 2 bits are the high bits of
// scales 4-7 and mins 4-7, and the low 4 bits of those in the nibbles of bytes 8-11.
__m128i q4_k_scales_and_mins(const uint8_t* packed) {
  uint64_t low;
  uint32_t high;
  __builtin_memcpy(&low, packed, 8);
  __builtin_memcpy(&high, packed + 8, 4);
  const uint64_t first = low & 0x3f3f3f3f3f3f3f3fULL;
  // Low half: the low nibbles of bytes 8-11; high half: their high nibbles.
  const uint64_t nibbles = (high | (uint64_t{high} << 28)) & 0x0f0f0f0f0f0f0f0fULL;
  const uint64_t second = nibbles | ((low >> 2) & 0x3030303030303030ULL);
  return _mm_set_epi64x(static_cast<long long>(second), static_cast<long long>(first));
}

// One K-quant super-block unpacked: 8 × 32 codes (unsigned) in element order, the int16 scale
// of each element pair, the offset term's weights per 16-element activation group, the scales.
// Q4_K / Q5_K: token value = a.d * (d * Σ scale·code·a + offset_d * Σ_g offset_weight·Σa_g);
// Q6_K: the offset (codes are stored + 32) is exact in integers and joins the sum (no offset_d).
struct UnpackedSuperBlock {
  __m256i codes[8];
  __m256i scales[8];
  __m256i offset_weights;  // 16 × int16
  float d;
  float offset_d;
};

// Q5_K shares Q4_K's d, dmin and scales; Block is BlockQ4_K or BlockQ5_K.
template <typename Block>
__attribute__((always_inline)) inline void unpack_q4_k_q5_k(const uint8_t* w,
                                                            UnpackedSuperBlock& block) {
  constexpr bool kFiveBits = std::is_same_v<Block, BlockQ5_K>;
  const __m256i scale_bytes =
      _mm256_broadcastsi128_si256(q4_k_scales_and_mins(w + offsetof(Block, scales)));
  for (int g = 0; g < 8; ++g)
    block.scales[g] = _mm256_shuffle_epi8(scale_bytes, control(kQ4kScaleControls, g));
  block.offset_weights = _mm256_shuffle_epi8(scale_bytes, control(kQ4kMinControls, 0));
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);
  for (int chunk = 0; chunk < 4; ++chunk) {
    const __m256i packed = load_256(w + offsetof(Block, qs) + 32 * chunk);
    block.codes[2 * chunk] = _mm256_and_si256(packed, low_nibble);
    block.codes[2 * chunk + 1] = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_nibble);
  }
  if constexpr (kFiveBits) {
    // Bit g of each byte is the fifth bit (16) of group g: shifted into bit 4 of its byte
    // (16-bit shifts of at most 4 bring no neighbouring bit to bit 4).
    const __m256i fifth_bits = load_256(w + offsetof(Block, qh));
    const __m256i bit_4 = _mm256_set1_epi8(16);
    block.codes[0] = _mm256_or_si256(block.codes[0], _mm256_and_si256(_mm256_slli_epi16(fifth_bits, 4), bit_4));
    block.codes[1] = _mm256_or_si256(block.codes[1], _mm256_and_si256(_mm256_slli_epi16(fifth_bits, 3), bit_4));
    block.codes[2] = _mm256_or_si256(block.codes[2], _mm256_and_si256(_mm256_slli_epi16(fifth_bits, 2), bit_4));
    block.codes[3] = _mm256_or_si256(block.codes[3], _mm256_and_si256(_mm256_slli_epi16(fifth_bits, 1), bit_4));
    block.codes[4] = _mm256_or_si256(block.codes[4], _mm256_and_si256(fifth_bits, bit_4));
    block.codes[5] = _mm256_or_si256(block.codes[5], _mm256_and_si256(_mm256_srli_epi16(fifth_bits, 1), bit_4));
    block.codes[6] = _mm256_or_si256(block.codes[6], _mm256_and_si256(_mm256_srli_epi16(fifth_bits, 2), bit_4));
    block.codes[7] = _mm256_or_si256(block.codes[7], _mm256_and_si256(_mm256_srli_epi16(fifth_bits, 3), bit_4));
  }
  block.d = load_f16(w + offsetof(Block, d));
  block.offset_d = -load_f16(w + offsetof(Block, dmin));
}

// Q6_K (element order: k_quant_codes): per 128-element half, 64 bytes of low nibbles and 32
// bytes of high 2-bit pairs; an int8 scale per 16 elements.
__attribute__((always_inline)) inline void unpack_q6_k(const uint8_t* w,
                                                       UnpackedSuperBlock& block) {
  const __m128i raw_scales =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + offsetof(BlockQ6_K, scales)));
  // Even scales in the low 128-bit lane, odd ones in the high lane, as int16: word p of each
  // lane is then the scale pair of elements [32p, 32p + 16) and [32p + 16, 32p + 32).
  const __m128i even_then_odd = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const __m256i pair_scales = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(raw_scales, even_then_odd));
  for (int p = 0; p < 8; ++p)
    block.scales[p] = _mm256_shuffle_epi8(pair_scales, control(kWordControls, p));
  block.offset_weights = _mm256_cvtepi8_epi16(raw_scales);
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);
  const __m256i bits_4_5 = _mm256_set1_epi8(0x30);
  for (int half = 0; half < 2; ++half) {
    const __m256i low_bytes[2] = {load_256(w + offsetof(BlockQ6_K, ql) + 64 * half),
                                  load_256(w + offsetof(BlockQ6_K, ql) + 64 * half + 32)};
    const __m256i high_bytes = load_256(w + offsetof(BlockQ6_K, qh) + 32 * half);
    // Bits 2j, 2j+1 of the high bytes go to bits 4, 5 (16-bit shifts bring no neighbouring
    // bit there).
    const __m256i high[4] = {_mm256_and_si256(_mm256_slli_epi16(high_bytes, 4), bits_4_5),
                             _mm256_and_si256(_mm256_slli_epi16(high_bytes, 2), bits_4_5),
                             _mm256_and_si256(high_bytes, bits_4_5),
                             _mm256_and_si256(_mm256_srli_epi16(high_bytes, 2), bits_4_5)};
    for (int j = 0; j < 4; ++j) {
      const __m256i source = low_bytes[j & 1];
      const __m256i low = j < 2 ? _mm256_and_si256(source, low_nibble)
                                : _mm256_and_si256(_mm256_srli_epi16(source, 4), low_nibble);
      block.codes[4 * half + j] = _mm256_or_si256(low, high[j]);
    }
  }
  block.d = load_f16(w + offsetof(BlockQ6_K, d));
  block.offset_d = 0;
}

// acc += a.d·d · sum, plus the offset term: in float for Q4_K / Q5_K, whose offsets have their
// own scale; in the integer sum for Q6_K, whose codes are stored + 32 (Σ (code - 32)·scale·a).
template <bool kIntegerOffset>
__attribute__((always_inline)) inline void add_scaled_sum(__m256i sum, __m256i offset_weights,
                                                          float d, float offset_d,
                                                          const ActivationBlock256& a,
                                                          __m256& acc) {
  const __m256i offsets = _mm256_madd_epi16(offset_weights, load_256(a.group_sums));
  if constexpr (kIntegerOffset) sum = _mm256_sub_epi32(sum, _mm256_slli_epi32(offsets, 5));
  acc = _mm256_fmadd_ps(_mm256_set1_ps(a.d * d), _mm256_cvtepi32_ps(sum), acc);
  if constexpr (!kIntegerOffset) {
    acc = _mm256_fmadd_ps(_mm256_set1_ps(a.d * offset_d), _mm256_cvtepi32_ps(offsets), acc);
  }
}

// One token's super-block: acc += a.d·d · Σ scale·code·a plus the offset term. One accumulator:
// the tiles of 8 have no registers to spare.
template <bool kIntegerOffset>
__attribute__((always_inline)) inline void add_super_block(const UnpackedSuperBlock& block,
                                                           const ActivationBlock256& a,
                                                           __m256& acc) {
  __m256i sum = _mm256_setzero_si256();
  for (int i = 0; i < 8; ++i) {
    const __m256i products = _mm256_maddubs_epi16(block.codes[i], load_256(a.q + 32 * i));
    sum = add_dot_pairs_16(sum, products, block.scales[i]);
  }
  add_scaled_sum<kIntegerOffset>(sum, block.offset_weights, block.d, block.offset_d, a, acc);
}

#if defined(__AVX512BW__) && defined(__AVX512VNNI__)
// AVX-512: the super-block's groups in pairs in 512-bit registers, half the multiply
// instructions of the 256-bit path, for one token and for tiles. Lane i of the 256-bit sum is
// the same integer as there (the two halves, even and odd groups, are added at the end), so the
// results are bit-identical to the other levels'.
struct UnpackedSuperBlockPairs {
  __m512i codes[4];   // groups 2c (low 256 bits) and 2c + 1 (high 256 bits)
  __m512i scales[4];  // their int16 scales, likewise
  __m256i offset_weights;
  float d;
  float offset_d;
};

// Controls `first` and `first + 1` side by side.
__m512i control_pair(const ShuffleControls& controls, int first) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(control(controls, first)),
                            control(controls, first + 1), 1);
}

// 16-bit shift counts: `low` in the low 256 bits, `high` in the high ones.
__m512i shift_counts(short low, short high) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(low)),
                            _mm256_set1_epi16(high), 1);
}

__attribute__((always_inline)) inline void unpack_q4_k_pairs(const uint8_t* w,
                                                             UnpackedSuperBlockPairs& block) {
  const __m128i scales_and_mins = q4_k_scales_and_mins(w + offsetof(BlockQ4_K, scales));
  const __m512i scale_bytes = _mm512_broadcast_i32x4(scales_and_mins);
  for (int c = 0; c < 4; ++c)
    block.scales[c] = _mm512_shuffle_epi8(scale_bytes, control_pair(kQ4kScaleControls, 2 * c));
  block.offset_weights = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(scales_and_mins),
                                             control(kQ4kMinControls, 0));
  // Chunk c's low nibbles are group 2c, its high nibbles group 2c + 1.
  const __m512i low_nibble = _mm512_set1_epi8(0x0f);
  const __m512i shifts = shift_counts(0, 4);
  for (int c = 0; c < 4; ++c) {
    const __m512i packed = _mm512_broadcast_i64x4(load_256(w + offsetof(BlockQ4_K, qs) + 32 * c));
    block.codes[c] = _mm512_and_si512(_mm512_srlv_epi16(packed, shifts), low_nibble);
  }
  block.d = load_f16(w + offsetof(BlockQ4_K, d));
  block.offset_d = -load_f16(w + offsetof(BlockQ4_K, dmin));
}

__attribute__((always_inline)) inline void unpack_q6_k_pairs(const uint8_t* w,
                                                             UnpackedSuperBlockPairs& block) {
  const __m128i raw_scales =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + offsetof(BlockQ6_K, scales)));
  const __m128i even_then_odd = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const __m512i pair_scales = _mm512_broadcast_i64x4(
      _mm256_cvtepi8_epi16(_mm_shuffle_epi8(raw_scales, even_then_odd)));
  for (int c = 0; c < 4; ++c)
    block.scales[c] = _mm512_shuffle_epi8(pair_scales, control_pair(kWordControls, 2 * c));
  block.offset_weights = _mm256_cvtepi8_epi16(raw_scales);
  const __m512i low_nibble = _mm512_set1_epi8(0x0f);
  const __m512i bits_4_5 = _mm512_set1_epi8(0x30);
  for (int half = 0; half < 2; ++half) {
    // As unpack_q6_k: codes 4h, 4h + 1 are the low nibbles of the two 32-byte rows with high
    // bits 0-1 and 2-3; codes 4h + 2, 4h + 3 their high nibbles with high bits 4-5 and 6-7.
    const __m512i low_bytes = _mm512_loadu_si512(w + offsetof(BlockQ6_K, ql) + 64 * half);
    const __m512i high_bytes =
        _mm512_broadcast_i64x4(load_256(w + offsetof(BlockQ6_K, qh) + 32 * half));
    const __m512i high_01 = _mm512_and_si512(_mm512_sllv_epi16(high_bytes, shift_counts(4, 2)), bits_4_5);
    const __m512i high_23 = _mm512_and_si512(_mm512_srlv_epi16(high_bytes, shift_counts(0, 2)), bits_4_5);
    block.codes[2 * half] = _mm512_or_si512(_mm512_and_si512(low_bytes, low_nibble), high_01);
    block.codes[2 * half + 1] = _mm512_or_si512(
        _mm512_and_si512(_mm512_srli_epi16(low_bytes, 4), low_nibble), high_23);
  }
  block.d = load_f16(w + offsetof(BlockQ6_K, d));
  block.offset_d = 0;
}

template <bool kIntegerOffset>
__attribute__((always_inline)) inline void add_super_block(
    const UnpackedSuperBlockPairs& block, const ActivationBlock256& a, __m256& acc) {
  __m512i sum = _mm512_setzero_si512();
  for (int c = 0; c < 4; ++c) {
    const __m512i products =
        _mm512_maddubs_epi16(block.codes[c], _mm512_loadu_si512(a.q + 64 * c));
    sum = _mm512_dpwssd_epi32(sum, products, block.scales[c]);
  }
  const __m256i sum_256 =
      _mm256_add_epi32(_mm512_castsi512_si256(sum), _mm512_extracti64x4_epi64(sum, 1));
  add_scaled_sum<kIntegerOffset>(sum_256, block.offset_weights, block.d, block.offset_d, a, acc);
}

#endif

// Keeps each code register as unpacked in a tile: otherwise GCC re-derives the codes from the
// packed bytes for every token of the tile (measured 10% slower prefill kernels).
__attribute__((always_inline)) inline void keep_in_registers(UnpackedSuperBlock& block) {
  for (int i = 0; i < 8; ++i) __asm__("" : "+x"(block.codes[i]));
}
#if defined(__AVX512BW__) && defined(__AVX512VNNI__)
__attribute__((always_inline)) inline void keep_in_registers(UnpackedSuperBlockPairs&) {}
#endif

template <typename Block>
using Unpacker = void (*)(const uint8_t*, Block&);

// out[t * out_stride] = row · activation t, for n tokens whose activation rows are `stride`
// bytes apart. Tokens go in tiles, each super-block unpacked once per tile (into an
// UnpackedSuperBlock, or at the AVX-512 level for Q4_K / Q6_K an UnpackedSuperBlockPairs).
template <typename Block, Unpacker<Block> kUnpack, size_t kBlockBytes, bool kIntegerOffset,
          int kTile>
void dot_tiles_k(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
                 float* out, size_t out_stride) {
  for (int first = 0; first < n; first += kTile) {
    const int tile = n - first < kTile ? n - first : kTile;
    __m256 acc[kTile];
    for (int t = 0; t < tile; ++t) acc[t] = _mm256_setzero_ps();
    const uint8_t* block_bytes = w;
    for (int64_t b = 0; b < cols / 256; ++b, block_bytes += kBlockBytes) {
      prefetch_ahead<kBlockBytes>(block_bytes);
      Block block;
      kUnpack(block_bytes, block);
      if constexpr (kTile > 1) keep_in_registers(block);
      for (int t = 0; t < tile; ++t) {
        const auto& a = reinterpret_cast<const ActivationBlock256*>(
            activations + static_cast<size_t>(first + t) * stride)[b];
        add_super_block<kIntegerOffset>(block, a, acc[t]);
      }
    }
    for (int t = 0; t < tile; ++t)
      out[static_cast<size_t>(first + t) * out_stride] = horizontal_sum(acc[t]);
  }
}

// One token (decode) gets a tile of 1 known at compile time, so the unpacked super-block stays
// in registers; the arithmetic per token is the same as in the tiles of 8.
template <typename Block, Unpacker<Block> kUnpack, size_t kBlockBytes, bool kIntegerOffset>
void dot_many_k(const uint8_t* w, const uint8_t* activations, size_t stride, int n, int64_t cols,
                float* out, size_t out_stride) {
  if (n == 1) {
    dot_tiles_k<Block, kUnpack, kBlockBytes, kIntegerOffset, 1>(w, activations, stride, n, cols,
                                                                out, out_stride);
  } else {
    dot_tiles_k<Block, kUnpack, kBlockBytes, kIntegerOffset, 8>(w, activations, stride, n, cols,
                                                                out, out_stride);
  }
}

// The one-token kernel as a RowDot.
template <typename Block, Unpacker<Block> kUnpack, size_t kBlockBytes, bool kIntegerOffset>
float dot_one_k(const uint8_t* w, const void* activation, int64_t cols) {
  float result;
  dot_tiles_k<Block, kUnpack, kBlockBytes, kIntegerOffset, 1>(
      w, static_cast<const uint8_t*>(activation), 0, 1, cols, &result, 1);
  return result;
}

#if defined(__AVX512BW__) && defined(__AVX512VNNI__)
using Q4kQ6kBlock = UnpackedSuperBlockPairs;
constexpr Unpacker<Q4kQ6kBlock> kUnpackQ4k = unpack_q4_k_pairs;
constexpr Unpacker<Q4kQ6kBlock> kUnpackQ6k = unpack_q6_k_pairs;
#else
using Q4kQ6kBlock = UnpackedSuperBlock;
constexpr Unpacker<Q4kQ6kBlock> kUnpackQ4k = unpack_q4_k_q5_k<BlockQ4_K>;
constexpr Unpacker<Q4kQ6kBlock> kUnpackQ6k = unpack_q6_k;
#endif
constexpr size_t kQ4kBytes = sizeof(BlockQ4_K), kQ5kBytes = sizeof(BlockQ5_K);
constexpr size_t kQ6kBytes = sizeof(BlockQ6_K);
constexpr RowDotMany kQ4kMany = dot_many_k<Q4kQ6kBlock, kUnpackQ4k, kQ4kBytes, false>;
constexpr RowDotMany kQ6kMany = dot_many_k<Q4kQ6kBlock, kUnpackQ6k, kQ6kBytes, true>;
constexpr RowDot kQ4kOne = dot_one_k<Q4kQ6kBlock, kUnpackQ4k, kQ4kBytes, false>;
constexpr RowDot kQ6kOne = dot_one_k<Q4kQ6kBlock, kUnpackQ6k, kQ6kBytes, true>;
// Q5_K's fifth bits have no pair unpacker yet: the 256-bit blocks at every level.
constexpr RowDotMany kQ5kMany =
    dot_many_k<UnpackedSuperBlock, unpack_q4_k_q5_k<BlockQ5_K>, kQ5kBytes, false>;
constexpr RowDot kQ5kOne =
    dot_one_k<UnpackedSuperBlock, unpack_q4_k_q5_k<BlockQ5_K>, kQ5kBytes, false>;

}  // namespace

RowDot row_dot(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0:
      return dot_q4_0;
    case GgmlType::Q4_1:
      return dot_q4_1;
    case GgmlType::Q5_0:
      return dot_q5_0;
    case GgmlType::Q5_1:
      return dot_q5_1;
    case GgmlType::Q8_0:
      return dot_q8_0;
    case GgmlType::Q2_K:
      return dot_q2_k;
    case GgmlType::Q3_K:
      return dot_q3_k;
    case GgmlType::Q4_K:
      return kQ4kOne;
    case GgmlType::Q5_K:
      return kQ5kOne;
    case GgmlType::Q6_K:
      return kQ6kOne;
    default:
      return nullptr;
  }
}

RowDotMany row_dot_many(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_K:
      return kQ4kMany;
    case GgmlType::Q5_K:
      return kQ5kMany;
    case GgmlType::Q6_K:
      return kQ6kMany;
    default:
      return nullptr;
  }
}

}  // namespace moe::cpu::detail::MOE_SIMD_NS
