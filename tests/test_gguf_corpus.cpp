// A mutation corpus for the GGUF reader: a valid file from the writer, then truncations at every
// offset, single-byte and random corruptions, byte runs, and extreme values patched into every
// count, length, type, dimension and offset field. Each mutant must either parse, with every
// tensor view inside the buffer, or throw moe::Error; anything else (another exception, a crash,
// a sanitizer report) fails. Links only moe_gguf, so that it builds quickly under sanitizers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "moe/error.hpp"
#include "moe/ggml_types.hpp"
#include "moe/gguf.hpp"

using moe::GgmlType;
using moe::gguf::GgufFile;
using moe::gguf::GgufWriter;
using moe::gguf::Value;
using moe::gguf::ValueType;

namespace {

std::vector<float> ramp(size_t n, float scale) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i) values[i] = scale * (static_cast<float>(i % 17) - 8.0f);
  return values;
}

// The valid file all mutants start from: several metadata types, a string array, a nested
// array, and tensors of several types and ranks.
std::vector<uint8_t> make_seed(uint32_t alignment) {
  GgufWriter writer(alignment);
  writer.set_string("general.architecture", "olmoe");
  writer.set_string("general.name", "");
  writer.set_u32("olmoe.block_count", 2);
  writer.set_u64("olmoe.context_length", 4096);
  writer.set_i32("olmoe.expert_shared_count", -1);
  writer.set_f32("olmoe.attention.layer_norm_rms_epsilon", 1e-5f);
  writer.set_bool("olmoe.expert_weights_norm", true);
  writer.set("general.file_type", Value::u16(7));
  writer.set("general.quantization_version", Value::i8(2));
  writer.set("general.size", Value::f64(1.5e9));
  writer.set_string_array("tokenizer.ggml.tokens", {"<s>", "</s>", "", "\xc4\xa0the", "a"});
  writer.set_f32_array("tokenizer.ggml.scores", {0.0f, -1.0f, -2.5f});
  writer.set_i32_array("tokenizer.ggml.token_type", {});
  writer.set("test.nested",
             Value::array(ValueType::ARRAY,
                          {Value::array(ValueType::UINT8, {Value::u8(1), Value::u8(2)}),
                           Value::array(ValueType::STRING, {Value::string("x"), Value::string("")}),
                           Value::array(ValueType::ARRAY,
                                        {Value::array(ValueType::INT64, {Value::i64(-5)})})}));
  writer.add_tensor_f32("token_embd.weight", {8, 5}, ramp(40, 0.25f));
  writer.add_tensor_f32("blk.0.attn_norm.weight", {32}, ramp(32, 0.5f), GgmlType::F16);
  writer.add_tensor_f32("blk.0.ffn_gate_inp.weight", {4, 2, 2}, ramp(16, 1.0f), GgmlType::BF16);
  writer.add_tensor_f32("blk.0.ffn_up_exps.weight", {64, 2, 2}, ramp(256, 0.1f), GgmlType::Q8_0);
  writer.add_tensor_f32("blk.1.ffn_down_exps.weight", {32, 1, 1, 2}, ramp(64, 0.1f),
                        GgmlType::Q8_0);
  writer.add_tensor("output.bias", GgmlType::I8, {3}, {1, 2, 3});
  return writer.to_bytes();
}

// One field of the file: where it is, how wide, and whether a length/count/dim etc.
enum class FieldKind { Count, Length, ValueType, ElementType, Dims, Dim, TensorType, Offset };
struct Field {
  size_t offset;
  unsigned width;  // 4 or 8
  FieldKind kind;
};

// Walks a valid file (independently of the reader) and lists its structural fields.
class FieldWalker {
public:
  explicit FieldWalker(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}

  std::vector<Field> walk() {
    pos_ = 8;
    const uint64_t n_tensors = field(8, FieldKind::Count);
    const uint64_t n_kv = field(8, FieldKind::Count);
    for (uint64_t i = 0; i < n_kv; ++i) {
      string();
      value(static_cast<ValueType>(field(4, FieldKind::ValueType)));
    }
    for (uint64_t i = 0; i < n_tensors; ++i) {
      string();
      const uint64_t n_dims = field(4, FieldKind::Dims);
      for (uint64_t d = 0; d < n_dims; ++d) field(8, FieldKind::Dim);
      field(4, FieldKind::TensorType);
      field(8, FieldKind::Offset);
    }
    header_end = pos_;
    return fields_;
  }
  size_t header_end = 0;

private:
  const std::vector<uint8_t>& bytes_;
  size_t pos_ = 0;
  std::vector<Field> fields_;

  uint64_t field(unsigned width, FieldKind kind) {
    fields_.push_back({pos_, width, kind});
    uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i) v |= static_cast<uint64_t>(bytes_.at(pos_ + i)) << (8 * i);
    pos_ += width;
    return v;
  }
  void string() { pos_ += field(8, FieldKind::Length); }
  void value(ValueType type) {
    switch (type) {
      case ValueType::UINT8:
      case ValueType::INT8:
      case ValueType::BOOL:
        pos_ += 1;
        return;
      case ValueType::UINT16:
      case ValueType::INT16:
        pos_ += 2;
        return;
      case ValueType::UINT32:
      case ValueType::INT32:
      case ValueType::FLOAT32:
        pos_ += 4;
        return;
      case ValueType::UINT64:
      case ValueType::INT64:
      case ValueType::FLOAT64:
        pos_ += 8;
        return;
      case ValueType::STRING:
        string();
        return;
      case ValueType::ARRAY: {
        const auto element = static_cast<ValueType>(field(4, FieldKind::ElementType));
        const uint64_t count = field(8, FieldKind::Count);
        for (uint64_t i = 0; i < count; ++i) value(element);
        return;
      }
    }
    FAIL() << "the seed file has an unknown value type";
  }
};

void patch(std::vector<uint8_t>& bytes, const Field& field, uint64_t value) {
  for (unsigned i = 0; i < field.width; ++i)
    bytes[field.offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

// Everything a caller may do with a parsed file stays inside the buffer.
void check_parsed(const GgufFile& file, const uint8_t* begin, size_t size,
                  const std::string& what) {
  const uint8_t* end = begin + size;
  ASSERT_TRUE(file.alignment() != 0 && (file.alignment() & (file.alignment() - 1)) == 0) << what;
  for (const auto& [key, value] : file.metadata()) {
    ASSERT_FALSE(key.empty()) << what;
    ASSERT_EQ(file.find(key), &value) << what;  // keys are unique
  }
  for (const auto& tensor : file.tensors()) {
    const auto layout = moe::type_layout(static_cast<uint32_t>(tensor.type));
    ASSERT_TRUE(layout.has_value()) << what;
    ASSERT_LE(tensor.dims.size(), moe::gguf::kMaxDims) << what;
    uint64_t n = 1;
    for (uint64_t d : tensor.dims) n *= d;
    ASSERT_EQ(n, tensor.n_elements) << what;
    ASSERT_EQ(tensor.n_elements % layout->block_size, 0u) << what;
    ASSERT_EQ(tensor.n_bytes, tensor.n_elements / layout->block_size * layout->block_bytes) << what;
    ASSERT_EQ(tensor.offset % file.alignment(), 0u) << what;
    ASSERT_GE(tensor.data, begin) << what << " tensor " << tensor.name;
    ASSERT_LE(tensor.data, end) << what << " tensor " << tensor.name;
    ASSERT_LE(tensor.n_bytes, static_cast<uint64_t>(end - tensor.data))
        << what << " tensor " << tensor.name;
    ASSERT_EQ(file.find_tensor(tensor.name), &tensor) << what;
    if (moe::is_supported_for_compute(tensor.type) && tensor.n_elements <= (1u << 16)) {
      std::vector<float> values(tensor.n_elements);
      moe::dequantize_row(tensor.type, tensor.data, values.data(),
                          static_cast<int64_t>(values.size()));
    }
  }
}

enum class Outcome { Parsed, Rejected };

// Parses a copy of `bytes` in an allocation of exactly its size, so that a sanitizer sees any
// read past the end.
Outcome try_parse(const std::vector<uint8_t>& bytes, const std::string& what) {
  const size_t size = bytes.size();
  std::unique_ptr<uint8_t[]> exact(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(exact.get(), bytes.data(), size);
  try {
    const GgufFile file = GgufFile::parse({exact.get(), size}, "mutant.gguf");
    check_parsed(file, exact.get(), size, what);
    return Outcome::Parsed;
  } catch (const moe::Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("mutant.gguf"), std::string::npos) << what << ": " << message;
    return Outcome::Rejected;
  } catch (const std::exception& error) {
    ADD_FAILURE() << what << ": threw a " << typeid(error).name()
                  << " that is not moe::Error: " << error.what();
  }
  return Outcome::Rejected;
}

class GgufCorpus : public ::testing::TestWithParam<uint32_t> {
protected:
  void SetUp() override {
    seed_ = make_seed(GetParam());
    FieldWalker walker(seed_);
    fields_ = walker.walk();
    header_end_ = walker.header_end;
    ASSERT_EQ(try_parse(seed_, "the seed"), Outcome::Parsed);
    const GgufFile file = GgufFile::parse(seed_);
    ASSERT_EQ(file.tensors().size(), 6u);
    const auto& last = file.tensors().back();
    data_end_ = static_cast<size_t>(last.data - seed_.data()) + last.n_bytes;
  }
  std::vector<uint8_t> seed_;
  std::vector<Field> fields_;
  size_t header_end_ = 0;
  size_t data_end_ = 0;  // where the last tensor's data ends
};

TEST_P(GgufCorpus, EveryTruncationIsRejected) {
  for (size_t cut = 0; cut < seed_.size(); ++cut) {
    std::vector<uint8_t> mutant(seed_.begin(), seed_.begin() + static_cast<ptrdiff_t>(cut));
    const Outcome outcome = try_parse(mutant, "truncated to " + std::to_string(cut) + " bytes");
    // Only the padding after the last tensor may be cut without damage.
    if (cut < data_end_) {
      ASSERT_EQ(outcome, Outcome::Rejected) << "truncated to " << cut << " bytes";
    }
  }
}

TEST_P(GgufCorpus, SingleByteChangesInTheHeader) {
  for (size_t at = 0; at < header_end_; ++at) {
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<uint8_t> mutant = seed_;
      const uint8_t original = mutant[at];
      mutant[at] = kind == 0 ? 0x00 : kind == 1 ? 0xff : kind == 2 ? original ^ 0x80 : original + 1;
      if (mutant[at] == original) continue;
      try_parse(mutant, "byte " + std::to_string(at) + " set to " + std::to_string(mutant[at]));
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(GgufCorpus, SeededRandomCorruptions) {
  std::mt19937_64 rng(0x6775'6675 + GetParam());
  auto below = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  size_t rejected = 0;
  constexpr int kMutants = 3000;
  for (int i = 0; i < kMutants; ++i) {
    std::vector<uint8_t> mutant = seed_;
    std::string what = "random mutant " + std::to_string(i) + ":";
    const int edits = 1 + static_cast<int>(below(6));
    for (int e = 0; e < edits; ++e) {
      // Most edits land in the header, where the structure is.
      const size_t limit = below(4) ? header_end_ : mutant.size();
      const size_t at = below(limit);
      switch (below(5)) {
        case 0:  // flip one bit
          mutant[at] ^= static_cast<uint8_t>(1u << below(8));
          what += " flip@" + std::to_string(at);
          break;
        case 1:  // random byte
          mutant[at] = static_cast<uint8_t>(rng());
          what += " set@" + std::to_string(at);
          break;
        case 2: {  // a run of random bytes or of 0xff
          const size_t length = std::min<size_t>(1 + below(16), mutant.size() - at);
          const bool ones = below(2);
          for (size_t k = 0; k < length; ++k)
            mutant[at + k] = ones ? 0xff : static_cast<uint8_t>(rng());
          what += " run@" + std::to_string(at) + "+" + std::to_string(length);
          break;
        }
        case 3: {  // delete a few bytes (shifts everything after)
          const size_t length = std::min<size_t>(1 + below(8), mutant.size() - at);
          mutant.erase(mutant.begin() + static_cast<ptrdiff_t>(at),
                       mutant.begin() + static_cast<ptrdiff_t>(at + length));
          what += " erase@" + std::to_string(at);
          break;
        }
        default: {  // insert a few bytes
          const size_t length = 1 + below(8);
          mutant.insert(mutant.begin() + static_cast<ptrdiff_t>(at), length,
                        static_cast<uint8_t>(rng()));
          what += " insert@" + std::to_string(at);
          break;
        }
      }
      if (mutant.empty()) break;
    }
    if (try_parse(mutant, what) == Outcome::Rejected) ++rejected;
    if (HasFatalFailure()) return;
  }
  // The corruptions must mostly be caught: a reader that accepts anything would fail here.
  EXPECT_GT(rejected, kMutants / 2);
}

TEST_P(GgufCorpus, ExtremeValuesInEveryField) {
  ASSERT_GT(fields_.size(), 50u);
  const uint64_t size = seed_.size();
  for (const Field& field : fields_) {
    uint64_t original = 0;
    for (unsigned i = 0; i < field.width; ++i)
      original |= static_cast<uint64_t>(seed_[field.offset + i]) << (8 * i);
    std::vector<uint64_t> values = {
        0, 1, original + 1, original - 1, 13, 31, 0x7fffffffull, 0x80000000ull, 0xffffffffull};
    if (field.width == 8) {
      values.insert(values.end(), {size, size + 1, size - field.offset, 1ull << 32, 1ull << 40,
                                   (1ull << 63) - 1, 1ull << 63, ~0ull, ~0ull - 31});
    }
    for (uint64_t value : values) {
      if (field.width == 4) value &= 0xffffffffull;
      if (value == original) continue;
      std::vector<uint8_t> mutant = seed_;
      patch(mutant, field, value);
      const std::string what =
          "field at byte " + std::to_string(field.offset) + " set to " + std::to_string(value);
      const Outcome outcome = try_parse(mutant, what);
      if (HasFatalFailure()) return;
      // Lengths and counts past the end of the file can never be valid.
      const bool impossible =
          (field.kind == FieldKind::Length || field.kind == FieldKind::Count) && value > size;
      const bool never_valid = (field.kind == FieldKind::Dims && value > 4) ||
                               (field.kind == FieldKind::Dim && value == 0) ||
                               (field.kind == FieldKind::ValueType && value > 12) ||
                               (field.kind == FieldKind::ElementType && value > 12) ||
                               (field.kind == FieldKind::TensorType &&
                                !moe::type_layout(static_cast<uint32_t>(value))) ||
                               (field.kind == FieldKind::Offset && value % GetParam() != 0);
      if (impossible || never_valid) {
        EXPECT_EQ(outcome, Outcome::Rejected) << what;
      }
    }
  }
}

TEST_P(GgufCorpus, MappedMutantsBehaveLikeBuffers) {
  // The mmap path: write a few truncations and corruptions to disk and open them.
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("moescope-corpus-" + std::to_string(::getpid()) + "-" + std::to_string(GetParam()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "mutant.gguf";
  std::mt19937 rng(GetParam());
  for (int i = 0; i < 40; ++i) {
    std::vector<uint8_t> mutant = seed_;
    if (i % 2) {
      mutant.resize(1 + rng() % (seed_.size() - 1));
    } else {
      mutant[rng() % header_end_] ^= 0xff;
    }
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(mutant.data()),
               static_cast<std::streamsize>(mutant.size()));
    std::optional<GgufFile> from_memory;
    try {
      from_memory.emplace(GgufFile::parse(mutant));
    } catch (const moe::Error&) {
    }
    try {
      const GgufFile file = GgufFile::open(path);
      ASSERT_TRUE(from_memory.has_value()) << "mutant " << i << " parsed only from the file";
      ASSERT_EQ(file.metadata(), from_memory->metadata());
      ASSERT_EQ(file.tensors().size(), from_memory->tensors().size());
      for (size_t t = 0; t < file.tensors().size(); ++t) {
        const auto& mapped = file.tensors()[t];
        const auto& buffered = from_memory->tensors()[t];
        EXPECT_EQ(mapped.name, buffered.name);
        EXPECT_EQ(mapped.offset, buffered.offset);
        ASSERT_EQ(mapped.n_bytes, buffered.n_bytes);
        EXPECT_EQ(std::memcmp(mapped.data, buffered.data, mapped.n_bytes), 0);
      }
    } catch (const moe::Error& error) {
      EXPECT_FALSE(from_memory.has_value()) << "mutant " << i << " parsed only from memory";
      EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
    }
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Alignments, GgufCorpus, ::testing::Values(32u, 64u),
                         [](const auto& info) { return "align" + std::to_string(info.param); });

}  // namespace
