#include "gl_weight_formats.hpp"

#include <cstddef>
#include <span>
#include <utility>

#include "moe/gguf_blocks.hpp"
#include "moe/iq_grids.hpp"

namespace moe::gl {

namespace {

// Block sizes and field offsets as "<TYPE>_BYTES", "<TYPE>_<FIELD>" (byte counts).
#define MOE_GL_BYTES(name, Block) {name "_BYTES", sizeof(Block)}
#define MOE_GL_FIELD(name, Block, field) {name, offsetof(Block, field)}
const std::pair<const char*, size_t> kBlockLayouts[] = {
    // 32-element blocks
    MOE_GL_BYTES("Q8_0", BlockQ8_0),
    MOE_GL_FIELD("Q8_0_D", BlockQ8_0, d),
    MOE_GL_FIELD("Q8_0_QS", BlockQ8_0, qs),
    MOE_GL_BYTES("Q4_0", BlockQ4_0),
    MOE_GL_FIELD("Q4_0_D", BlockQ4_0, d),
    MOE_GL_FIELD("Q4_0_QS", BlockQ4_0, qs),
    MOE_GL_BYTES("Q4_1", BlockQ4_1),
    MOE_GL_FIELD("Q4_1_D", BlockQ4_1, d),
    MOE_GL_FIELD("Q4_1_M", BlockQ4_1, m),
    MOE_GL_FIELD("Q4_1_QS", BlockQ4_1, qs),
    MOE_GL_BYTES("Q5_0", BlockQ5_0),
    MOE_GL_FIELD("Q5_0_D", BlockQ5_0, d),
    MOE_GL_FIELD("Q5_0_QH", BlockQ5_0, qh),
    MOE_GL_FIELD("Q5_0_QS", BlockQ5_0, qs),
    MOE_GL_BYTES("Q5_1", BlockQ5_1),
    MOE_GL_FIELD("Q5_1_D", BlockQ5_1, d),
    MOE_GL_FIELD("Q5_1_M", BlockQ5_1, m),
    MOE_GL_FIELD("Q5_1_QH", BlockQ5_1, qh),
    MOE_GL_FIELD("Q5_1_QS", BlockQ5_1, qs),
    MOE_GL_BYTES("IQ4_NL", BlockIq4Nl),
    MOE_GL_FIELD("IQ4_NL_D", BlockIq4Nl, d),
    MOE_GL_FIELD("IQ4_NL_QS", BlockIq4Nl, qs),
    MOE_GL_BYTES("MXFP4", BlockMxfp4),
    MOE_GL_FIELD("MXFP4_E", BlockMxfp4, e),
    MOE_GL_FIELD("MXFP4_QS", BlockMxfp4, qs),
    // K-quants
    MOE_GL_BYTES("Q2_K", BlockQ2_K),
    MOE_GL_FIELD("Q2_K_SCALES", BlockQ2_K, scales),
    MOE_GL_FIELD("Q2_K_QS", BlockQ2_K, qs),
    MOE_GL_FIELD("Q2_K_D", BlockQ2_K, d),  // d and dmin, read as one word
    MOE_GL_BYTES("Q3_K", BlockQ3_K),
    MOE_GL_FIELD("Q3_K_HMASK", BlockQ3_K, hmask),
    MOE_GL_FIELD("Q3_K_QS", BlockQ3_K, qs),
    MOE_GL_FIELD("Q3_K_SCALES", BlockQ3_K, scales),
    MOE_GL_FIELD("Q3_K_D", BlockQ3_K, d),
    MOE_GL_BYTES("Q4_K", BlockQ4_K),
    MOE_GL_FIELD("Q4_K_D", BlockQ4_K, d),  // d and dmin, read as one word
    MOE_GL_FIELD("Q4_K_SCALES", BlockQ4_K, scales),
    MOE_GL_FIELD("Q4_K_QS", BlockQ4_K, qs),
    MOE_GL_BYTES("Q5_K", BlockQ5_K),
    MOE_GL_FIELD("Q5_K_QH", BlockQ5_K, qh),
    MOE_GL_FIELD("Q5_K_QS", BlockQ5_K, qs),
    MOE_GL_BYTES("Q6_K", BlockQ6_K),
    MOE_GL_FIELD("Q6_K_QL", BlockQ6_K, ql),
    MOE_GL_FIELD("Q6_K_QH", BlockQ6_K, qh),
    MOE_GL_FIELD("Q6_K_SCALES", BlockQ6_K, scales),
    MOE_GL_FIELD("Q6_K_D", BlockQ6_K, d),
    MOE_GL_BYTES("Q8_K", BlockQ8_K),
    MOE_GL_FIELD("Q8_K_D", BlockQ8_K, d),
    MOE_GL_FIELD("Q8_K_QS", BlockQ8_K, qs),
    // IQ types
    MOE_GL_BYTES("IQ4_XS", BlockIq4Xs),
    MOE_GL_FIELD("IQ4_XS_D", BlockIq4Xs, d),
    MOE_GL_FIELD("IQ4_XS_SCALES_H", BlockIq4Xs, scales_h),
    MOE_GL_FIELD("IQ4_XS_SCALES_L", BlockIq4Xs, scales_l),
    MOE_GL_FIELD("IQ4_XS_QS", BlockIq4Xs, qs),
    MOE_GL_BYTES("IQ2_XXS", BlockIq2Xxs),
    MOE_GL_FIELD("IQ2_XXS_D", BlockIq2Xxs, d),
    MOE_GL_FIELD("IQ2_XXS_QS", BlockIq2Xxs, qs),
    MOE_GL_BYTES("IQ2_XS", BlockIq2Xs),
    MOE_GL_FIELD("IQ2_XS_D", BlockIq2Xs, d),
    MOE_GL_FIELD("IQ2_XS_QS", BlockIq2Xs, qs),
    MOE_GL_FIELD("IQ2_XS_SCALES", BlockIq2Xs, scales),
    MOE_GL_BYTES("IQ2_S", BlockIq2S),
    MOE_GL_FIELD("IQ2_S_D", BlockIq2S, d),
    MOE_GL_FIELD("IQ2_S_QS", BlockIq2S, qs),
    MOE_GL_FIELD("IQ2_S_QH", BlockIq2S, qh),
    MOE_GL_FIELD("IQ2_S_SCALES", BlockIq2S, scales),
    MOE_GL_BYTES("IQ3_XXS", BlockIq3Xxs),
    MOE_GL_FIELD("IQ3_XXS_D", BlockIq3Xxs, d),
    MOE_GL_FIELD("IQ3_XXS_QS", BlockIq3Xxs, qs),
    MOE_GL_BYTES("IQ3_S", BlockIq3S),
    MOE_GL_FIELD("IQ3_S_D", BlockIq3S, d),
    MOE_GL_FIELD("IQ3_S_QS", BlockIq3S, qs),
    MOE_GL_FIELD("IQ3_S_QH", BlockIq3S, qh),
    MOE_GL_FIELD("IQ3_S_SIGNS", BlockIq3S, signs),
    MOE_GL_FIELD("IQ3_S_SCALES", BlockIq3S, scales),
    MOE_GL_BYTES("IQ1_S", BlockIq1S),
    MOE_GL_FIELD("IQ1_S_D", BlockIq1S, d),
    MOE_GL_FIELD("IQ1_S_QS", BlockIq1S, qs),
    MOE_GL_FIELD("IQ1_S_QH", BlockIq1S, qh),
    MOE_GL_BYTES("IQ1_M", BlockIq1M),
    MOE_GL_FIELD("IQ1_M_QS", BlockIq1M, qs),
    MOE_GL_FIELD("IQ1_M_QH", BlockIq1M, qh),
    MOE_GL_FIELD("IQ1_M_SCALES", BlockIq1M, scales),
    // Ternary
    MOE_GL_BYTES("TQ1_0", BlockTq1_0),
    MOE_GL_FIELD("TQ1_0_QS", BlockTq1_0, qs),
    MOE_GL_FIELD("TQ1_0_QH", BlockTq1_0, qh),
    MOE_GL_FIELD("TQ1_0_D", BlockTq1_0, d),
    MOE_GL_BYTES("TQ2_0", BlockTq2_0),
    MOE_GL_FIELD("TQ2_0_QS", BlockTq2_0, qs),
    MOE_GL_FIELD("TQ2_0_D", BlockTq2_0, d),
};
#undef MOE_GL_BYTES
#undef MOE_GL_FIELD

// Where the shader reads two fields as one word, or one type's fields at another's offsets.
static_assert(offsetof(BlockQ5_K, d) == offsetof(BlockQ4_K, d) &&
              offsetof(BlockQ5_K, scales) == offsetof(BlockQ4_K, scales));
static_assert(offsetof(BlockQ4_K, dmin) == offsetof(BlockQ4_K, d) + 2);
static_assert(offsetof(BlockQ2_K, dmin) == offsetof(BlockQ2_K, d) + 2);
// Every block but MXFP4's has an even size, so its 16-bit fields sit at even offsets.
static_assert(sizeof(BlockIq1S) % 2 == 0 && sizeof(BlockIq2Xs) % 2 == 0 &&
              sizeof(BlockIq1M) % 2 == 0 && sizeof(BlockIq4Xs) % 2 == 0);

// The grids in the order they sit in the buffer, each as words.
struct Grid {
  const char* name;
  std::span<const uint32_t> words;
};

template <typename Entry, size_t N>
std::span<const uint32_t> words_of(const Entry (&grid)[N]) {
  static_assert(sizeof(Entry) % 4 == 0);
  // Little-endian hosts only (as the GGUF reader): a 64-bit entry is its low word, then its high.
  return {reinterpret_cast<const uint32_t*>(grid), N * sizeof(Entry) / 4};
}

std::vector<Grid> grids() {
  return {{"IQ2_XXS_GRID", words_of(iq::kIq2XxsGrid)}, {"IQ2_XS_GRID", words_of(iq::kIq2XsGrid)},
          {"IQ2_S_GRID", words_of(iq::kIq2SGrid)},     {"IQ3_XXS_GRID", words_of(iq::kIq3XxsGrid)},
          {"IQ3_S_GRID", words_of(iq::kIq3SGrid)},     {"IQ1_S_GRID", words_of(iq::kIq1SGrid)}};
}

// "int[16](-127, -104, ...)"
std::string glsl_int_array(std::span<const int8_t> values) {
  std::string text = "int[" + std::to_string(values.size()) + "](";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i > 0 ? ", " : "") + std::to_string(values[i]);
  return text + ")";
}

}  // namespace

const std::vector<GgmlType>& matmul_types() {
  static const std::vector<GgmlType> types = {
      // plain
      GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::F64, GgmlType::I8, GgmlType::I16,
      GgmlType::I32,
      // 32-element blocks
      GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
      GgmlType::IQ4_NL, GgmlType::MXFP4,
      // K-quants
      GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
      GgmlType::Q8_K,
      // IQ super-blocks
      GgmlType::IQ4_XS, GgmlType::IQ3_XXS, GgmlType::IQ3_S, GgmlType::IQ2_XXS, GgmlType::IQ2_XS,
      GgmlType::IQ2_S, GgmlType::IQ1_S, GgmlType::IQ1_M,
      // ternary
      GgmlType::TQ1_0, GgmlType::TQ2_0};
  return types;
}

std::string weight_format_defines() {
  std::string text;
  for (GgmlType type : matmul_types())
    text += "#define TYPE_" + type_name(type) + " " + std::to_string(static_cast<int>(type)) + "\n";
  for (const auto& [name, value] : kBlockLayouts)
    text += "#define " + std::string(name) + " " + std::to_string(value) + "u\n";
  size_t offset = 0;
  for (const Grid& grid : grids()) {
    text += "#define " + std::string(grid.name) + " " + std::to_string(offset) + "u\n";
    offset += grid.words.size();
  }
  text += "#define IQ_GRID_BINDING " + std::to_string(kIqGridBinding) + "\n";
  text += "#define IQ4_NL_VALUES " + glsl_int_array(kIq4NlValues) + "\n";
  text += "#define MXFP4_DOUBLED_VALUES " + glsl_int_array(kMxfp4DoubledValues) + "\n";
  return text;
}

std::vector<uint32_t> iq_grid_words() {
  std::vector<uint32_t> words;
  for (const Grid& grid : grids()) words.insert(words.end(), grid.words.begin(), grid.words.end());
  return words;
}

}  // namespace moe::gl
