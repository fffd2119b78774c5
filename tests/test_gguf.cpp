// The GGUF layer: value and tensor round trips through the writer and reader, the f16/bf16/Q8_0
// conversions, and the messages the reader gives for specific corruptions.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "moe/error.hpp"
#include "moe/ggml_types.hpp"
#include "moe/gguf.hpp"
#include "moe/gguf_blocks.hpp"
#include "moe/little_endian.hpp"

namespace fs = std::filesystem;
using moe::GgmlType;
using moe::gguf::GgufFile;
using moe::gguf::GgufWriter;
using moe::gguf::Value;
using moe::gguf::ValueType;

namespace {

// A fresh directory under the system temp folder, removed with everything in it at the end.
class TempDir {
public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "moescope-gguf-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

private:
  fs::path path_;
};

// Little-endian bytes by hand, for files the writer refuses to produce.
class RawGguf {
public:
  RawGguf& u8(uint8_t v) { return bytes(&v, 1); }
  RawGguf& u32(uint32_t v) { return le(v, 4); }
  RawGguf& u64(uint64_t v) { return le(v, 8); }
  RawGguf& str(std::string_view s) {
    u64(s.size());
    return bytes(s.data(), s.size());
  }
  RawGguf& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    bytes("GGUF", 4);
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  RawGguf& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  RawGguf& tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type,
                  uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  RawGguf& pad_to(size_t alignment) {
    while (data.size() % alignment) data.push_back(0);
    return *this;
  }
  RawGguf& zeros(size_t n) {
    data.insert(data.end(), n, 0);
    return *this;
  }
  RawGguf& bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    data.insert(data.end(), b, b + n);
    return *this;
  }
  std::vector<uint8_t> data;

private:
  RawGguf& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) data.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
};

// The message of the moe::Error that parsing `bytes` throws ("" if it parses).
std::string parse_error(const std::vector<uint8_t>& bytes, std::string name = "test.gguf") {
  try {
    GgufFile::parse(bytes, std::move(name));
  } catch (const moe::Error& error) {
    return error.what();
  }
  return "";
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

void expect_error_mentions(const std::vector<uint8_t>& bytes,
                           std::initializer_list<std::string_view> parts) {
  const std::string message = parse_error(bytes);
  ASSERT_FALSE(message.empty()) << "the file parsed";
  EXPECT_CONTAINS(message, "test.gguf");
  EXPECT_CONTAINS(message, "byte offset");
  for (auto part : parts) EXPECT_CONTAINS(message, std::string(part));
}

std::vector<float> random_values(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(n);
  for (auto& v : values) v = normal(rng);
  return values;
}

std::vector<float> dequantized(const moe::gguf::TensorInfo& tensor) {
  std::vector<float> out(tensor.n_elements);
  moe::dequantize_row(tensor.type, tensor.data, out.data(), static_cast<int64_t>(out.size()));
  return out;
}

Value nested(int depth) {
  if (depth == 0) return Value::array(ValueType::INT32, {Value::i32(7)});
  return Value::array(ValueType::ARRAY, {nested(depth - 1)});
}

// Every value type the format has, including nested and empty arrays and empty strings.
std::vector<std::pair<std::string, Value>> all_value_kinds() {
  using V = Value;
  return {
      {"t.u8", V::u8(255)},
      {"t.i8", V::i8(-128)},
      {"t.u16", V::u16(65535)},
      {"t.i16", V::i16(-32768)},
      {"t.u32", V::u32(4000000000u)},
      {"t.i32", V::i32(-2000000000)},
      {"t.u64", V::u64(std::numeric_limits<uint64_t>::max())},
      {"t.i64", V::i64(std::numeric_limits<int64_t>::min())},
      {"t.f32", V::f32(-1.5e-7f)},
      {"t.f64", V::f64(3.141592653589793)},
      {"t.true", V::boolean(true)},
      {"t.false", V::boolean(false)},
      {"t.string", V::string("Mixture of Experts \xe2\x9c\x93")},
      {"t.empty_string", V::string("")},
      {"t.string_with_nul", V::string(std::string("a\0b", 3))},
      {"t.empty_array", V::array(ValueType::FLOAT32, {})},
      {"t.u8s", V::array(ValueType::UINT8, {V::u8(0), V::u8(1), V::u8(200)})},
      {"t.i8s", V::array(ValueType::INT8, {V::i8(-1), V::i8(5)})},
      {"t.u16s", V::array(ValueType::UINT16, {V::u16(1), V::u16(60000)})},
      {"t.i16s", V::array(ValueType::INT16, {V::i16(-300)})},
      {"t.u32s", V::array(ValueType::UINT32, {V::u32(1), V::u32(2), V::u32(3)})},
      {"t.i32s", V::array(ValueType::INT32, {V::i32(-1), V::i32(0), V::i32(1)})},
      {"t.u64s", V::array(ValueType::UINT64, {V::u64(1ull << 40)})},
      {"t.i64s", V::array(ValueType::INT64, {V::i64(-(1ll << 40))})},
      {"t.f32s", V::array(ValueType::FLOAT32, {V::f32(0.5f), V::f32(-0.0f),
                                               V::f32(std::numeric_limits<float>::infinity())})},
      {"t.f64s", V::array(ValueType::FLOAT64, {V::f64(1e300), V::f64(-2.5)})},
      {"t.bools", V::array(ValueType::BOOL, {V::boolean(true), V::boolean(false)})},
      {"t.strings",
       V::array(ValueType::STRING, {V::string("<s>"), V::string(""), V::string("\xc4\xa0the")})},
      {"t.nested",
       V::array(ValueType::ARRAY,
                {V::array(ValueType::INT32, {V::i32(1), V::i32(2)}),
                 V::array(ValueType::STRING, {V::string("x")}), V::array(ValueType::UINT8, {}),
                 V::array(ValueType::ARRAY, {V::array(ValueType::FLOAT32, {V::f32(1.0f)})})})},
      {"t.deepest", nested(7)},  // eight arrays inside each other: the most the reader accepts
  };
}

}  // namespace

TEST(GgufValues, EveryValueTypeRoundTrips) {
  GgufWriter writer;
  const auto kinds = all_value_kinds();
  for (const auto& [key, value] : kinds) writer.set(key, value);
  const std::vector<uint8_t> bytes = writer.to_bytes();
  const GgufFile file = GgufFile::parse(bytes, "values.gguf");
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 32u);
  ASSERT_EQ(file.metadata().size(), kinds.size());  // no general.alignment at the default
  for (size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(file.metadata()[i].first, kinds[i].first);
    EXPECT_EQ(file.metadata()[i].second, kinds[i].second) << kinds[i].first;
    ASSERT_NE(file.find(kinds[i].first), nullptr);
    EXPECT_EQ(file.find(kinds[i].first)->type(), kinds[i].second.type());
  }
  EXPECT_EQ(file.find("t.string_with_nul")->as_string().size(), 3u);
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_EQ(file.find("missing"), nullptr);
}

TEST(GgufValues, TypedSettersAndGetters) {
  GgufWriter writer;
  writer.set_string("general.architecture", "qwen2moe");
  writer.set_u32("n", 8);
  writer.set_i32("neg", -3);
  writer.set_u64("big", 1ull << 50);
  writer.set_f32("eps", 1e-6f);
  writer.set_bool("flag", true);
  writer.set_string_array("tokens", {"a", "b", ""});
  writer.set_f32_array("scores", {0.5f, -1.0f});
  writer.set_i32_array("types", {1, 2, 3});
  writer.set_u32("n", 16);  // replaces, keeps its place
  const auto bytes = writer.to_bytes();
  const GgufFile file = GgufFile::parse(bytes, "getters.gguf");

  ASSERT_EQ(file.metadata().size(), 9u);
  EXPECT_EQ(file.metadata()[1].first, "n");
  EXPECT_EQ(file.get_uint("n"), 16u);
  EXPECT_EQ(file.get_string("general.architecture"), "qwen2moe");
  EXPECT_EQ(file.get_uint("big"), 1ull << 50);
  EXPECT_FLOAT_EQ(static_cast<float>(file.get_double("eps")), 1e-6f);
  EXPECT_DOUBLE_EQ(file.get_double("n"), 16.0);  // integers convert to double
  EXPECT_TRUE(file.get_bool("flag"));
  EXPECT_EQ(file.require("neg").as_int(), -3);
  EXPECT_EQ(file.require("tokens").as_array().items.at(1).as_string(), "b");
  EXPECT_EQ(file.require("tokens").as_array().element_type, ValueType::STRING);
  EXPECT_EQ(file.require("types").as_array().items.at(2).as_int(), 3);
  EXPECT_FLOAT_EQ(static_cast<float>(file.require("scores").as_array().items.at(1).as_double()),
                  -1.0f);

  EXPECT_EQ(file.get_uint_or("absent", 42), 42u);
  EXPECT_EQ(file.get_string_or("absent", "x"), "x");
  EXPECT_DOUBLE_EQ(file.get_double_or("absent", 0.25), 0.25);
  EXPECT_FALSE(file.get_bool_or("absent", false));
  EXPECT_EQ(file.get_uint_or("n", 42), 16u);

  try {
    file.get_uint("absent");
    FAIL() << "no error for a missing key";
  } catch (const moe::Error& e) {
    EXPECT_CONTAINS(e.what(), "missing key 'absent'");
    EXPECT_CONTAINS(e.what(), "getters.gguf");
  }
  try {
    file.get_uint("neg");  // negative: not an unsigned value
    FAIL() << "no error for a negative value";
  } catch (const moe::Error& e) {
    EXPECT_CONTAINS(e.what(), "key 'neg'");
    EXPECT_CONTAINS(e.what(), "getters.gguf");
  }
  EXPECT_THROW(file.get_string("n"), moe::Error);
  EXPECT_THROW(file.get_double("general.architecture"), moe::Error);
  EXPECT_THROW(file.get_bool("n"), moe::Error);
  EXPECT_THROW(file.get_uint_or("general.architecture", 1), moe::Error);  // present, wrong type
}

TEST(GgufValues, AccessorsCheckRanges) {
  EXPECT_EQ(Value::u8(7).as_int(), 7);
  EXPECT_EQ(Value::i64(5).as_uint(), 5u);
  EXPECT_THROW(Value::i8(-1).as_uint(), moe::Error);
  EXPECT_THROW(Value::u64(std::numeric_limits<uint64_t>::max()).as_int(), moe::Error);
  EXPECT_EQ(Value::u64(uint64_t{1} << 63).as_uint(), uint64_t{1} << 63);
  EXPECT_THROW(Value::f32(1.0f).as_uint(), moe::Error);
  EXPECT_THROW(Value::boolean(true).as_int(), moe::Error);
  EXPECT_THROW(Value::string("1").as_double(), moe::Error);
  EXPECT_THROW(Value::u8(1).as_bool(), moe::Error);
  EXPECT_THROW(Value::u8(1).as_array(), moe::Error);
  EXPECT_TRUE(Value::i16(1).is_integer());
  EXPECT_FALSE(Value::f64(1).is_integer());
  EXPECT_TRUE(Value::f64(1).is_number());
  EXPECT_FALSE(Value::boolean(true).is_number());
  EXPECT_EQ(moe::gguf::value_type_name(ValueType::FLOAT64), "FLOAT64");
  // An array's items must all be of its element type.
  EXPECT_THROW(Value::array(ValueType::INT32, {Value::i32(1), Value::u32(2)}), moe::Error);
}

TEST(GgufTensors, StoredTypesRoundTripWithinTheirPrecision) {
  const std::vector<float> f32 = random_values(64 * 3, 1);
  const std::vector<float> f16 = random_values(32 * 4, 2, 10.0f);
  const std::vector<float> bf16 = random_values(96, 3, 1000.0f);
  const std::vector<float> q8 = random_values(64 * 2 * 2, 4);
  GgufWriter writer;
  writer.set_string("general.architecture", "test");
  writer.add_tensor_f32("a.f32", {64, 3}, f32);
  writer.add_tensor_f32("b.f16", {32, 4}, f16, GgmlType::F16);
  writer.add_tensor_f32("c.bf16", {96}, bf16, GgmlType::BF16);
  writer.add_tensor_f32("d.q8_0", {64, 2, 2}, q8, GgmlType::Q8_0);
  std::vector<uint8_t> raw = {1, 2, 3, 4, 5, 6, 7, 8};
  writer.add_tensor("e.i8", GgmlType::I8, {4, 2}, raw);

  TempDir dir;
  const fs::path path = dir.path() / "tensors.gguf";
  writer.write(path);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"tensors.gguf"});  // no temporary left
  const GgufFile file = GgufFile::open(path);
  EXPECT_EQ(file.source_name(), path.string());
  EXPECT_EQ(file.file_size(), fs::file_size(path));
  ASSERT_EQ(file.tensors().size(), 5u);

  const auto* a = file.find_tensor("a.f32");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->type, GgmlType::F32);
  EXPECT_EQ(a->dims, (std::vector<uint64_t>{64, 3}));
  EXPECT_EQ(a->n_elements, 192u);
  EXPECT_EQ(a->n_bytes, 192u * 4);
  EXPECT_EQ(dequantized(*a), f32);

  const auto* b = file.find_tensor("b.f16");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->n_bytes, 128u * 2);
  const auto b_values = dequantized(*b);
  for (size_t i = 0; i < f16.size(); ++i) {
    EXPECT_NEAR(b_values[i], f16[i], std::fabs(f16[i]) * 0x1p-11f + 0x1p-24f) << i;
  }

  const auto* c = file.find_tensor("c.bf16");
  ASSERT_NE(c, nullptr);
  const auto c_values = dequantized(*c);
  for (size_t i = 0; i < bf16.size(); ++i) {
    EXPECT_NEAR(c_values[i], bf16[i], std::fabs(bf16[i]) * 0x1p-8f) << i;
  }

  const auto* d = file.find_tensor("d.q8_0");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->n_bytes, 8u * 34);
  EXPECT_EQ(d->dims, (std::vector<uint64_t>{64, 2, 2}));
  const auto d_values = dequantized(*d);
  for (size_t block = 0; block < q8.size() / 32; ++block) {
    float max_abs = 0;
    for (size_t j = 0; j < 32; ++j) max_abs = std::max(max_abs, std::fabs(q8[block * 32 + j]));
    const float step = max_abs / 127.0f;
    for (size_t j = 0; j < 32; ++j) {
      const size_t i = block * 32 + j;
      // Half a step from rounding q, plus the f16 rounding of the scale times |q| <= 127.
      EXPECT_NEAR(d_values[i], q8[i], step * (0.5f + 127.0f * 0x1p-11f)) << i;
    }
  }

  const auto* e = file.find_tensor("e.i8");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(std::vector<uint8_t>(e->bytes().begin(), e->bytes().end()), raw);
  EXPECT_EQ(file.find_tensor("nope"), nullptr);

  // Tensors keep insertion order, offsets increase and are aligned, views lie inside the file.
  uint64_t previous_end = 0;
  for (const auto& tensor : file.tensors()) {
    EXPECT_EQ(tensor.offset % 32, 0u) << tensor.name;
    EXPECT_GE(tensor.offset, previous_end) << tensor.name;
    previous_end = tensor.offset + tensor.n_bytes;
  }
  EXPECT_EQ(file.tensors()[0].name, "a.f32");
  EXPECT_EQ(file.tensors()[4].name, "e.i8");

  // Moving the file keeps views and lookups valid.
  GgufFile moved = std::move(const_cast<GgufFile&>(file));
  EXPECT_EQ(moved.find_tensor("a.f32")->bytes().size(), 192u * 4);
  EXPECT_EQ(dequantized(*moved.find_tensor("a.f32")), f32);
  EXPECT_EQ(moved.get_string("general.architecture"), "test");
}

TEST(GgufTensors, AlignmentIsHonoured) {
  for (uint32_t alignment : {32u, 64u}) {
    GgufWriter writer(alignment);
    writer.set_string("general.name", "aligned");
    writer.add_tensor_f32("x", {3}, std::vector<float>{1, 2, 3});
    writer.add_tensor_f32("y", {5}, std::vector<float>{1, 2, 3, 4, 5});
    writer.add_tensor_f32("z", {32}, random_values(32, 9), GgmlType::Q8_0);
    const auto bytes = writer.to_bytes();
    EXPECT_EQ(bytes.size() % alignment, 0u);
    const GgufFile file = GgufFile::parse(bytes);
    EXPECT_EQ(file.alignment(), alignment);
    EXPECT_EQ(file.find("general.alignment") != nullptr, alignment != 32);
    if (alignment != 32) {
      EXPECT_EQ(file.require("general.alignment").type(), ValueType::UINT32);
      EXPECT_EQ(file.get_uint("general.alignment"), alignment);
    }
    for (const auto& tensor : file.tensors()) {
      EXPECT_EQ(tensor.offset % alignment, 0u);
      EXPECT_EQ(static_cast<size_t>(tensor.data - bytes.data()) % alignment, 0u);
    }
    EXPECT_EQ(dequantized(*file.find_tensor("y")), (std::vector<float>{1, 2, 3, 4, 5}));
  }
  // Setting general.alignment by hand must agree with the writer's alignment.
  GgufWriter agreeing(64);
  agreeing.set_u32("general.alignment", 64);
  EXPECT_EQ(GgufFile::parse(agreeing.to_bytes()).alignment(), 64u);
  GgufWriter disagreeing(64);
  disagreeing.set_u32("general.alignment", 16);
  EXPECT_THROW(disagreeing.to_bytes(), moe::Error);
  EXPECT_THROW(GgufWriter(48), moe::Error);
  EXPECT_THROW(GgufWriter(0), moe::Error);
}

TEST(GgufTensors, WriterRejectsInconsistentTensors) {
  GgufWriter writer;
  const std::vector<float> four = {1, 2, 3, 4};
  EXPECT_THROW(writer.add_tensor_f32("short", {5}, four), moe::Error);
  EXPECT_THROW(writer.add_tensor_f32("", {4}, four), moe::Error);
  EXPECT_THROW(writer.add_tensor_f32("zero", {4, 0}, four), moe::Error);
  EXPECT_THROW(writer.add_tensor_f32("five", {1, 1, 1, 1, 4}, four), moe::Error);
  EXPECT_THROW(writer.add_tensor_f32("q", {4}, four, GgmlType::Q8_0), moe::Error);  // not 32
  EXPECT_THROW(writer.add_tensor_f32("k", {256}, random_values(256, 1), GgmlType::Q4_K),
               moe::Error);
  EXPECT_THROW(writer.add_tensor("raw", GgmlType::F16, {4}, std::vector<uint8_t>(7)), moe::Error);
  EXPECT_THROW(writer.add_tensor("bad", static_cast<GgmlType>(4), {4}, {}), moe::Error);
  EXPECT_THROW(writer.add_tensor_f32(std::string(64, 'n'), {4}, four), moe::Error);
  writer.add_tensor_f32(std::string(63, 'n'), {4}, four);
  writer.add_tensor_f32("ok", {4}, four);
  EXPECT_THROW(writer.add_tensor_f32("ok", {4}, four), moe::Error);
  EXPECT_THROW(writer.set("", Value::u8(1)), moe::Error);
  EXPECT_EQ(GgufFile::parse(writer.to_bytes()).tensors().size(), 2u);
}

TEST(GgufFormat, VersionTwoIsAcceptedAndVersionOneRejected) {
  GgufWriter writer;
  writer.set_string("k", "v");
  writer.add_tensor_f32("t", {2}, std::vector<float>{1, 2});
  std::vector<uint8_t> bytes = writer.to_bytes();
  bytes[4] = 2;
  const GgufFile v2 = GgufFile::parse(bytes);
  EXPECT_EQ(v2.version(), 2u);
  EXPECT_EQ(v2.get_string("k"), "v");
  EXPECT_EQ(dequantized(v2.tensors().at(0)), (std::vector<float>{1, 2}));

  bytes[4] = 1;
  expect_error_mentions(bytes, {"version 1", "not supported"});
  bytes[4] = 4;
  expect_error_mentions(bytes, {"unsupported GGUF version 4"});
  bytes[4] = 0;
  bytes[7] = 3;
  expect_error_mentions(bytes, {"big-endian"});
}

TEST(GgufFormat, HeaderAndMetadataCorruptionsAreNamed) {
  // Each file is valid but for one field; the message says what is wrong and where.
  expect_error_mentions({'G', 'G', 'M', 'L', 3, 0, 0, 0}, {"not a GGUF file", "magic"});
  expect_error_mentions({'G', 'G'}, {"not a GGUF file", "2 bytes"});
  auto truncated = RawGguf().header(3, 0, 0).data;
  truncated.resize(12);
  expect_error_mentions(truncated, {"file ends inside the header", "byte offset 8"});
  expect_error_mentions(RawGguf().header(3, 1000, 0).data, {"tensor count 1000 is impossible"});
  expect_error_mentions(RawGguf().header(3, 1ull << 40, 0).data,
                        {"tensor count 1099511627776 exceeds the limit"});
  expect_error_mentions(RawGguf().header(3, 0, ~0ull).data,
                        {"metadata count 18446744073709551615 exceeds the limit"});
  expect_error_mentions(RawGguf().header(3, 0, 1000).kv_u32("a", 1).data,
                        {"metadata count 1000 is impossible"});
  expect_error_mentions(RawGguf().header(3, 0, 1).str("").u32(4).u32(1).data, {"empty key"});
  expect_error_mentions(RawGguf().header(3, 0, 1).u64(1ull << 62).zeros(20).data,
                        {"is 4611686018427387904 bytes long, but only 20 bytes are left"});
  expect_error_mentions(RawGguf().header(3, 0, 2).kv_u32("a", 1).kv_u32("a", 2).data,
                        {"duplicate metadata key 'a'"});
  // The offset is the one of the field: 24 (header) + 8 + 3 (key "k.x") = 35.
  expect_error_mentions(RawGguf().header(3, 0, 1).str("k.x").u32(13).u32(0).data,
                        {"key 'k.x'", "unknown value type id 13", "byte offset 35"});
  expect_error_mentions(
      RawGguf().header(3, 0, 1).str("general.name").u32(8).u64(1000).zeros(10).data,
      {"key 'general.name'", "string value is 1000 bytes long, but only 10 bytes are left"});
  expect_error_mentions(RawGguf().header(3, 0, 1).str("arr").u32(9).u32(77).u64(0).data,
                        {"key 'arr'", "unknown array element type id 77"});
  expect_error_mentions(RawGguf()
                            .header(3, 0, 1)
                            .str("tokenizer.ggml.tokens")
                            .u32(9)
                            .u32(8)
                            .u64(1ull << 61)
                            .zeros(16)
                            .data,
                        {"key 'tokenizer.ggml.tokens'", "array of 2305843009213693952 STRING"});
  expect_error_mentions(RawGguf().header(3, 0, 1).str("a").u32(9).u32(10).u64(~0ull).zeros(16).data,
                        {"array of 18446744073709551615 UINT64", "2^64"});
  expect_error_mentions(
      RawGguf().header(3, 0, 1).str("toks").u32(9).u32(8).u64(2).str("ok").u64(999).zeros(3).data,
      {"key 'toks' element 1", "string value is 999 bytes long"});
  expect_error_mentions(RawGguf().header(3, 0, 1).str("b").u32(7).u8(2).data,
                        {"key 'b'", "BOOL value is 2"});
  RawGguf deep;
  deep.header(3, 0, 1).str("deep").u32(9);
  for (int level = 0; level < 8; ++level) deep.u32(9).u64(1);
  deep.u32(5).u64(0);
  expect_error_mentions(deep.data, {"key 'deep' element 0", "nested more than 8"});
  // A count the file could back but that exceeds the budget for metadata elements.
  RawGguf many;
  many.header(3, 0, 1).str("many").u32(9).u32(0).u64(moe::gguf::kMaxMetadataElements + 1);
  many.zeros(moe::gguf::kMaxMetadataElements + 1);
  expect_error_mentions(many.data, {"key 'many'", "exceeds the limit of 16777216"});
}

TEST(GgufFormat, AlignmentCorruptionsAreNamed) {
  expect_error_mentions(RawGguf().header(3, 0, 1).kv_u32("general.alignment", 48).data,
                        {"general.alignment is 48", "power of two", "byte offset 24"});
  expect_error_mentions(RawGguf().header(3, 0, 1).kv_u32("general.alignment", 0).data,
                        {"general.alignment is 0"});
  expect_error_mentions(RawGguf().header(3, 0, 1).str("general.alignment").u32(8).str("32").data,
                        {"general.alignment is a STRING"});
  expect_error_mentions(
      RawGguf().header(3, 0, 1).str("general.alignment").u32(5).u32(0xffffffc0u).data,
      {"general.alignment is -64"});
  // Other integer types holding a power of two are accepted.
  const auto u64_alignment =
      RawGguf().header(3, 0, 1).str("general.alignment").u32(10).u64(16).data;
  EXPECT_EQ(GgufFile::parse(u64_alignment).alignment(), 16u);
}

TEST(GgufFormat, TensorCorruptionsAreNamed) {
  auto one_tensor = [](std::vector<uint64_t> dims, uint32_t type, uint64_t offset,
                       std::string name = "w") {
    RawGguf file;
    file.header(3, 1, 0).tensor(name, std::move(dims), type, offset).pad_to(32).zeros(64);
    return file.data;
  };
  EXPECT_NO_THROW(GgufFile::parse(one_tensor({4, 4}, 0, 0)));  // the unmodified file
  expect_error_mentions(one_tensor({4}, 0, 0, ""), {"tensor 0 has an empty name"});
  expect_error_mentions(one_tensor({1, 1, 1, 1, 4}, 0, 0, "blk.0.ffn_gate_exps.weight"),
                        {"tensor 'blk.0.ffn_gate_exps.weight' has 5 dimensions"});
  expect_error_mentions(one_tensor({4, 0}, 0, 0), {"tensor 'w' dimension 1 is 0"});
  expect_error_mentions(one_tensor({1ull << 63}, 0, 0),
                        {"tensor 'w' dimension 0 is 9223372036854775808, too large"});
  expect_error_mentions(one_tensor({1ull << 32, 1ull << 32}, 0, 0), {"tensor 'w'", "overflows"});
  for (uint32_t bad_type : {4u, 5u, 31u, 32u, 33u, 36u, 0xffffffffu}) {
    expect_error_mentions(one_tensor({4}, bad_type, 0),
                          {"tensor 'w' has unknown ggml type id " + std::to_string(bad_type)});
  }
  expect_error_mentions(one_tensor({48}, 8, 0),
                        {"tensor 'w' of type Q8_0", "not a multiple of the block size 32"});
  expect_error_mentions(one_tensor({1ull << 61}, 28, 0), {"tensor 'w' is too large"});  // F64
  expect_error_mentions(one_tensor({4}, 0, 16),
                        {"tensor 'w' data offset 16 is not a multiple of the alignment 32"});
  expect_error_mentions(one_tensor({32}, 0, 0),
                        {"tensor 'w' data", "extends beyond the end of the file"});
  expect_error_mentions(one_tensor({4}, 0, 1ull << 40),
                        {"tensor 'w' data offset 1099511627776 lies beyond the end"});
  RawGguf twice;
  twice.header(3, 2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).pad_to(32).zeros(64);
  expect_error_mentions(twice.data, {"duplicate tensor 'w'"});
  // Names from the file are shown with control bytes escaped.
  expect_error_mentions(one_tensor({4}, 99, 0, "a\nb"), {"tensor 'a\\x0ab'"});
}

TEST(GgufFormat, MinimalFilesParse) {
  EXPECT_NO_THROW(GgufFile::parse(RawGguf().header(3, 0, 0).data));
  const GgufFile one_key = GgufFile::parse(RawGguf().header(3, 0, 1).kv_u32("a", 5).data);
  EXPECT_EQ(one_key.get_uint("a"), 5u);
  // A tensor may have 0 dimensions (a scalar) in files written by other tools.
  RawGguf scalar;
  scalar.header(3, 1, 0).tensor("s", {}, 0, 0).pad_to(32).zeros(4);
  const GgufFile file = GgufFile::parse(scalar.data);
  EXPECT_EQ(file.tensors().at(0).n_elements, 1u);
  EXPECT_EQ(file.tensors().at(0).n_bytes, 4u);
}

TEST(GgufFiles, OpenErrorsNameTheFile) {
  TempDir dir;
  const fs::path missing = dir.path() / "missing.gguf";
  try {
    GgufFile::open(missing);
    FAIL() << "opened a missing file";
  } catch (const moe::Error& e) {
    EXPECT_CONTAINS(e.what(), "cannot open " + missing.string());
    EXPECT_CONTAINS(e.what(), "No such file");
  }
  try {
    GgufFile::open(dir.path());
    FAIL() << "opened a directory";
  } catch (const moe::Error& e) {
    EXPECT_CONTAINS(e.what(), dir.path().string());
    EXPECT_CONTAINS(e.what(), "directory");
  }
  const fs::path empty = dir.path() / "empty.gguf";
  std::ofstream(empty).close();
  try {
    GgufFile::open(empty);
    FAIL() << "opened an empty file";
  } catch (const moe::Error& e) {
    EXPECT_CONTAINS(e.what(), empty.string());
    EXPECT_CONTAINS(e.what(), "empty");
  }
  const fs::path fifo = dir.path() / "pipe.gguf";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    GgufFile::open(fifo);  // must not block waiting for a writer
    FAIL() << "opened a FIFO";
  } catch (const moe::Error& e) {
    EXPECT_CONTAINS(e.what(), fifo.string());
    EXPECT_CONTAINS(e.what(), "not a regular file");
  }
  const fs::path text = dir.path() / "notes.txt";
  std::ofstream(text) << "hello, this is not a model";
  try {
    GgufFile::open(text);
    FAIL() << "opened a text file";
  } catch (const moe::Error& e) {
    EXPECT_CONTAINS(e.what(), text.string());
    EXPECT_CONTAINS(e.what(), "not a GGUF file");
  }
}

TEST(GgufFiles, FailedWritesThrowAndLeaveNothingBehind) {
  GgufWriter writer;
  writer.set_string("general.name", "x");
  writer.add_tensor_f32("t", {4}, std::vector<float>{1, 2, 3, 4});
  TempDir dir;

  const fs::path no_folder = dir.path() / "no" / "such" / "model.gguf";
  try {
    writer.write(no_folder);
    FAIL() << "wrote into a missing folder";
  } catch (const moe::Error& e) {
    EXPECT_CONTAINS(e.what(), no_folder.string());
    EXPECT_CONTAINS(e.what(), "No such file or directory");
  }
  // The destination is a directory: the rename fails after the data was written.
  const fs::path occupied = dir.path() / "occupied.gguf";
  fs::create_directory(occupied);
  fs::create_directory(occupied / "inside");
  try {
    writer.write(occupied);
    FAIL() << "replaced a directory";
  } catch (const moe::Error& e) {
    EXPECT_CONTAINS(e.what(), occupied.string());
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"occupied.gguf"});  // the temporary is gone
  EXPECT_THROW(writer.write(dir.path() / ""), moe::Error);

  if (::geteuid() != 0) {  // root writes anywhere; permissions only bind other users
    const fs::path locked = dir.path() / "locked";
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    try {
      writer.write(locked / "model.gguf");
      FAIL() << "wrote into a read-only folder";
    } catch (const moe::Error& e) {
      EXPECT_CONTAINS(e.what(), (locked / "model.gguf").string());
      EXPECT_CONTAINS(e.what(), "Permission denied");
    }
    fs::permissions(locked, fs::perms::owner_all);
    EXPECT_TRUE(fs::is_empty(locked));
  }
  if (fs::exists("/proc/self")) {  // a file system where nothing can be created
    EXPECT_THROW(writer.write("/proc/self/moescope-test.gguf"), moe::Error);
  }

  // A successful write replaces an existing file, and leaves only it.
  const fs::path target = dir.path() / "model.gguf";
  std::ofstream(target) << "old contents";
  writer.write(target);
  EXPECT_EQ(GgufFile::open(target).get_string("general.name"), "x");
  EXPECT_FALSE(fs::exists(dir.path() / "no"));
  const auto entries = dir.entries();
  EXPECT_EQ(entries.size(), 2u);  // model.gguf and occupied.gguf
}

TEST(GgufFiles, WrittenBytesMatchToBytes) {
  GgufWriter writer(64);
  for (const auto& [key, value] : all_value_kinds()) writer.set(key, value);
  writer.add_tensor_f32("a", {64}, random_values(64, 5), GgmlType::Q8_0);
  writer.add_tensor_f32("b", {3, 2}, random_values(6, 6), GgmlType::BF16);
  TempDir dir;
  writer.write(dir.path() / "m.gguf");
  std::ifstream in(dir.path() / "m.gguf", std::ios::binary);
  const std::vector<uint8_t> written((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
  EXPECT_EQ(written, writer.to_bytes());
}

TEST(GgmlTypes, LayoutsAndNames) {
  EXPECT_EQ(moe::type_layout(0)->block_bytes, 4u);
  EXPECT_EQ(moe::type_layout(8)->block_size, 32u);
  EXPECT_EQ(moe::type_layout(8)->block_bytes, 34u);
  EXPECT_EQ(moe::type_layout(12)->block_size, 256u);
  EXPECT_EQ(moe::type_layout(12)->block_bytes, 144u);
  EXPECT_EQ(moe::type_layout(14)->block_bytes, 210u);
  EXPECT_EQ(moe::type_layout(30)->block_bytes, 2u);
  EXPECT_EQ(moe::type_layout(35)->block_bytes, 66u);
  EXPECT_EQ(moe::type_layout(39)->block_size, 32u);  // MXFP4
  EXPECT_EQ(moe::type_layout(39)->block_bytes, 17u);
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 1000u}) {
    EXPECT_FALSE(moe::type_layout(id)) << id;
  }
  EXPECT_EQ(moe::type_name(GgmlType::Q4_K), "Q4_K");
  EXPECT_EQ(moe::type_name(GgmlType::BF16), "BF16");
  EXPECT_EQ(moe::type_name(GgmlType::TQ2_0), "TQ2_0");
  EXPECT_EQ(moe::type_name(42), "unknown type 42");
  EXPECT_TRUE(moe::is_supported_for_compute(GgmlType::Q8_0));
  EXPECT_TRUE(moe::is_supported_for_compute(GgmlType::Q4_K));
  EXPECT_TRUE(moe::is_supported_for_compute(GgmlType::IQ2_XXS));
  EXPECT_FALSE(moe::is_supported_for_compute(GgmlType::Q8_1));
  EXPECT_TRUE(moe::is_supported_for_compute(GgmlType::TQ1_0));
  EXPECT_FALSE(moe::is_supported_for_compute(GgmlType::I64));
}

// The shared loads read little-endian fields at any address.
TEST(GgmlTypes, LittleEndianLoadsAtAnyAddress) {
  const uint8_t bytes[] = {0xff, 0x02, 0x03, 0x04, 0x05, 0x00, 0x3c, 0x00, 0x00, 0x80, 0x3f};
  EXPECT_EQ(moe::load_u16(bytes + 1), 0x0302u);
  EXPECT_EQ(moe::load_u32(bytes + 1), 0x05040302u);
  EXPECT_EQ(moe::load_f16(bytes + 5), 1.0f);
  EXPECT_EQ(moe::load_f32(bytes + 7), 1.0f);
  uint8_t stored[3] = {};
  moe::store_u16(stored + 1, 0xabcd);
  EXPECT_EQ(stored[1], 0xcd);
  EXPECT_EQ(stored[2], 0xab);
}

// The K-quants' packed 6-bit group scales, encoded here as ggml lays them out and decoded by
// the one helper every decoder and kernel uses.
TEST(GgmlTypes, KQuantScaleUnpacking) {
  const int scales[8] = {1, 62, 33, 7, 63, 40, 17, 5};
  const int mins[8] = {0, 9, 63, 21, 44, 2, 31, 60};
  uint8_t packed[12] = {};
  for (int g = 0; g < 4; ++g) {
    packed[g] = static_cast<uint8_t>(scales[g] | (scales[g + 4] >> 4) << 6);
    packed[g + 4] = static_cast<uint8_t>(mins[g] | (mins[g + 4] >> 4) << 6);
    packed[g + 8] = static_cast<uint8_t>((scales[g + 4] & 0xf) | (mins[g + 4] & 0xf) << 4);
  }
  for (int g = 0; g < 8; ++g) {
    const moe::ScaleAndMin decoded = moe::k_quant_scale_and_min(packed, g);
    EXPECT_EQ(decoded.scale, scales[g]) << g;
    EXPECT_EQ(decoded.min, mins[g]) << g;
  }

  // Q3_K: 16 signed scales stored + 32, low 4 bits in nibbles of bytes 0-7, high 2 in 8-11.
  const int signed_scales[16] = {-32, 31, 0, -1, 5, -17, 12, 30, -9, 3, -25, 16, 7, -4, 22, -30};
  uint8_t q3_packed[12] = {};
  for (int g = 0; g < 16; ++g) {
    const int code = signed_scales[g] + 32;
    q3_packed[g % 8] |= static_cast<uint8_t>((code & 0xf) << (g < 8 ? 0 : 4));
    q3_packed[8 + g % 4] |= static_cast<uint8_t>((code >> 4) << (2 * (g / 4)));
  }
  for (int g = 0; g < 16; ++g) EXPECT_EQ(moe::q3_k_scale(q3_packed, g), signed_scales[g]) << g;
}

TEST(GgmlTypes, ConversionsRejectBadArguments) {
  std::vector<float> values(64, 1.0f);
  std::vector<uint8_t> buffer(1024);
  EXPECT_THROW(moe::quantize_row(GgmlType::Q8_0, values.data(), buffer.data(), 40), moe::Error);
  EXPECT_THROW(moe::dequantize_row(GgmlType::Q8_0, buffer.data(), values.data(), 33), moe::Error);
  EXPECT_THROW(moe::dequantize_row(GgmlType::Q8_1, buffer.data(), values.data(), 32), moe::Error);
  EXPECT_THROW(moe::quantize_row(static_cast<GgmlType>(4), values.data(), buffer.data(), 32),
               moe::Error);
}

TEST(GgmlTypes, Q8_0BlockLayout) {
  // One block by hand: f16 scale 0.5 (0x3800), then q = -3, 0, 127, ...
  std::vector<uint8_t> block(34, 0);
  block[0] = 0x00;
  block[1] = 0x38;
  block[2] = static_cast<uint8_t>(-3);
  block[4] = 127;
  std::vector<float> out(32);
  moe::dequantize_row(GgmlType::Q8_0, block.data(), out.data(), 32);
  EXPECT_EQ(out[0], -1.5f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], 63.5f);
  // Quantizing: d = max|x| / 127, q = round(x / d); zeros stay zeros.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = -63.4f;
  std::vector<uint8_t> packed(34);
  moe::quantize_row(GgmlType::Q8_0, x.data(), packed.data(), 32);
  EXPECT_EQ(moe::f16_to_f32(static_cast<uint16_t>(packed[0] | packed[1] << 8)), 1.0f);
  EXPECT_EQ(static_cast<int8_t>(packed[2]), 127);
  EXPECT_EQ(static_cast<int8_t>(packed[3]), -63);
  EXPECT_EQ(static_cast<int8_t>(packed[4]), 0);
  std::vector<float> zeros(32, 0.0f);
  moe::quantize_row(GgmlType::Q8_0, zeros.data(), packed.data(), 32);
  moe::dequantize_row(GgmlType::Q8_0, packed.data(), out.data(), 32);
  EXPECT_EQ(out, zeros);
}

namespace {

// A block of `type` filled with zeros, f16 fields set through `set_f16`.
struct Block {
  explicit Block(GgmlType type)
      : type(type), bytes(moe::type_layout(static_cast<uint32_t>(type))->block_bytes, 0) {}
  void set_f16(size_t at, float value) {
    const uint16_t bits = moe::f32_to_f16(value);
    bytes.at(at) = static_cast<uint8_t>(bits);
    bytes.at(at + 1) = static_cast<uint8_t>(bits >> 8);
  }
  std::vector<float> values() const {
    std::vector<float> out(moe::type_layout(static_cast<uint32_t>(type))->block_size);
    moe::dequantize_row(type, bytes.data(), out.data(), static_cast<int64_t>(out.size()));
    return out;
  }
  GgmlType type;
  std::vector<uint8_t> bytes;
};

}  // namespace

// Hand-built blocks with hand-computed values. (The decoders were also compared bit for bit with
// ggml's on random blocks, outside this repository.)
TEST(GgmlTypes, SmallBlockFormats) {
  Block q4_0(GgmlType::Q4_0);  // x = d * (nibble - 8); byte j: element j low, j + 16 high
  q4_0.set_f16(0, 0.5f);
  q4_0.bytes[2] = 0x1f;
  EXPECT_EQ(q4_0.values()[0], 3.5f);
  EXPECT_EQ(q4_0.values()[16], -3.5f);
  EXPECT_EQ(q4_0.values()[1], -4.0f);

  Block q4_1(GgmlType::Q4_1);  // x = d * nibble + m
  q4_1.set_f16(0, 1.0f);
  q4_1.set_f16(2, -2.0f);
  q4_1.bytes[4 + 3] = 0x52;
  EXPECT_EQ(q4_1.values()[3], 0.0f);
  EXPECT_EQ(q4_1.values()[19], 3.0f);
  EXPECT_EQ(q4_1.values()[0], -2.0f);

  Block q5_0(GgmlType::Q5_0);  // fifth bit of element i is bit i of qh
  q5_0.set_f16(0, 1.0f);
  q5_0.bytes[2] = 0x01;      // element 0
  q5_0.bytes[4] = 0x02;      // element 17
  q5_0.bytes[6 + 1] = 0x30;  // element 1: 0, element 17: 3
  EXPECT_EQ(q5_0.values()[0], 0.0f);
  EXPECT_EQ(q5_0.values()[16], -16.0f);
  EXPECT_EQ(q5_0.values()[17], 3.0f);
  EXPECT_EQ(q5_0.values()[1], -16.0f);

  Block q5_1(GgmlType::Q5_1);
  q5_1.set_f16(0, 1.0f);
  q5_1.set_f16(2, 0.5f);
  q5_1.bytes[7] = 0x80;       // qh bit 31
  q5_1.bytes[8 + 15] = 0xf0;  // element 15: 0, element 31: 15
  EXPECT_EQ(q5_1.values()[31], 31.5f);
  EXPECT_EQ(q5_1.values()[15], 0.5f);

  Block mxfp4(GgmlType::MXFP4);  // 2^(e - 127) * E2M1 value
  mxfp4.bytes[0] = 127;
  mxfp4.bytes[1] = 0x97;  // element 0: code 7 = 6.0, element 16: code 9 = -0.5
  mxfp4.bytes[2] = 0x53;  // element 1: code 3 = 1.5, element 17: code 5 = 3.0
  EXPECT_EQ(mxfp4.values()[0], 6.0f);
  EXPECT_EQ(mxfp4.values()[16], -0.5f);
  EXPECT_EQ(mxfp4.values()[1], 1.5f);
  EXPECT_EQ(mxfp4.values()[17], 3.0f);
  mxfp4.bytes[0] = 130;
  EXPECT_EQ(mxfp4.values()[0], 48.0f);
}

TEST(GgmlTypes, KQuantFormats) {
  Block q2_k(GgmlType::Q2_K);  // scales@0 (scale | min << 4), qs@16, d@80, dmin@82
  q2_k.set_f16(80, 1.0f);
  q2_k.set_f16(82, 0.5f);
  q2_k.bytes[0] = 0x23;
  q2_k.bytes[2] = 0x01;
  q2_k.bytes[4] = 0x14;
  q2_k.bytes[7] = 0x02;
  q2_k.bytes[8] = 0x05;
  q2_k.bytes[16 + 0] = 0xe4;   // 2-bit codes 0, 1, 2, 3 for elements 0, 32, 64, 96
  q2_k.bytes[16 + 16] = 0x80;  // element 112: code 2
  q2_k.bytes[16 + 32] = 0x03;  // element 128: code 3
  const auto q2 = q2_k.values();
  EXPECT_EQ(q2[0], -1.0f);
  EXPECT_EQ(q2[32], 1.0f);
  EXPECT_EQ(q2[64], 7.5f);
  EXPECT_EQ(q2[112], 4.0f);
  EXPECT_EQ(q2[128], 15.0f);

  Block q3_k(GgmlType::Q3_K);  // hmask@0, qs@32, scales@96, d@108
  q3_k.set_f16(108, 1.0f);
  q3_k.bytes[96 + 0] = 0x01;  // group 0: low 1
  q3_k.bytes[96 + 8] = 0x02;  // group 0: high 2 -> 33 - 32 = 1
  q3_k.bytes[96 + 1] = 0x50;  // group 9: low 5
  q3_k.bytes[96 + 9] = 0x10;  // group 9: high 1 (bits 2*(9/4)) -> 21 - 32 = -11
  q3_k.bytes[32 + 0] = 0x02;
  q3_k.bytes[32 + 1] = 0x02;
  q3_k.bytes[32 + 48] = 0x03;
  q3_k.bytes[0] = 0x01;   // element 0 has its high bit: no -4
  q3_k.bytes[16] = 0x10;  // element 144 has its high bit
  const auto q3 = q3_k.values();
  EXPECT_EQ(q3[0], 2.0f);
  EXPECT_EQ(q3[1], -2.0f);
  EXPECT_EQ(q3[144], -33.0f);
  EXPECT_EQ(q3[2], -4.0f);          // code 0, no high bit: -4
  EXPECT_EQ(q3[16], 4.0f * 32.0f);  // the same in group 1, whose scale is 0 - 32

  Block q4_k(GgmlType::Q4_K);  // d@0, dmin@2, scales@4, qs@16
  q4_k.set_f16(0, 1.0f);
  q4_k.set_f16(2, 0.5f);
  q4_k.bytes[4 + 0] = 3;     // group 0 scale 3
  q4_k.bytes[4 + 4] = 2;     // group 0 min 2
  q4_k.bytes[4 + 1] = 0x41;  // group 1 scale 1; top bits: group 5 scale +16
  q4_k.bytes[4 + 9] = 0x32;  // group 5: scale low 2, min low 3
  q4_k.bytes[16 + 0] = 0x75;
  q4_k.bytes[16 + 64] = 0x40;
  const auto q4 = q4_k.values();
  EXPECT_EQ(q4[0], 14.0f);
  EXPECT_EQ(q4[32], 7.0f);
  EXPECT_EQ(q4[160], 70.5f);

  Block q5_k(GgmlType::Q5_K);  // as Q4_K, with qh@16 and qs@48
  q5_k.bytes = std::vector<uint8_t>(176, 0);
  std::copy(q4_k.bytes.begin(), q4_k.bytes.begin() + 16, q5_k.bytes.begin());
  q5_k.bytes[16 + 0] = 0x21;  // fifth bit for element 0 (group 0) and 160 (group 5)
  q5_k.bytes[48 + 0] = 0x75;
  q5_k.bytes[48 + 64] = 0x40;
  const auto q5 = q5_k.values();
  EXPECT_EQ(q5[0], 62.0f);
  EXPECT_EQ(q5[32], 7.0f);
  EXPECT_EQ(q5[160], 358.5f);

  Block q6_k(GgmlType::Q6_K);  // ql@0, qh@128, scales@192 (int8), d@208
  q6_k.set_f16(208, 0.5f);
  q6_k.bytes[192 + 0] = 2;
  q6_k.bytes[192 + 2] = static_cast<uint8_t>(-1);
  q6_k.bytes[192 + 4] = 3;
  q6_k.bytes[192 + 6] = 1;
  q6_k.bytes[192 + 8] = static_cast<uint8_t>(-2);
  q6_k.bytes[0] = 0xa3;
  q6_k.bytes[32] = 0x0c;
  q6_k.bytes[64] = 0x01;
  q6_k.bytes[128] = 0xe6;  // high 2 bits 2, 1, 2, 3 for elements 0, 32, 64, 96
  const auto q6 = q6_k.values();
  EXPECT_EQ(q6[0], 3.0f);
  EXPECT_EQ(q6[32], 2.0f);
  EXPECT_EQ(q6[64], 15.0f);
  EXPECT_EQ(q6[96], 8.0f);
  EXPECT_EQ(q6[128], 31.0f);

  Block q8_k(GgmlType::Q8_K);  // f32 d@0, int8 qs@4
  const float quarter = 0.25f;
  std::memcpy(q8_k.bytes.data(), &quarter, 4);
  q8_k.bytes[4] = static_cast<uint8_t>(-4);
  q8_k.bytes[4 + 255] = 100;
  EXPECT_EQ(q8_k.values()[0], -1.0f);
  EXPECT_EQ(q8_k.values()[255], 25.0f);
}

TEST(GgmlTypes, RowsAreBlocksInOrderAndMayBeUnaligned) {
  std::mt19937 rng(7);
  for (GgmlType type :
       {GgmlType::Q4_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q3_K, GgmlType::Q4_K,
        GgmlType::Q6_K, GgmlType::MXFP4, GgmlType::F16, GgmlType::I16, GgmlType::F64}) {
    const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
    const size_t n_blocks = 3;
    std::vector<uint8_t> storage(1 + n_blocks * layout.block_bytes);
    for (auto& b : storage) b = static_cast<uint8_t>(rng() & 0x3f);  // keeps f16 scales finite
    const uint8_t* row = storage.data() + 1;                         // deliberately misaligned
    std::vector<float> whole(n_blocks * layout.block_size);
    moe::dequantize_row(type, row, whole.data(), static_cast<int64_t>(whole.size()));
    for (size_t b = 0; b < n_blocks; ++b) {
      std::vector<float> single(layout.block_size);
      moe::dequantize_row(type, row + b * layout.block_bytes, single.data(), layout.block_size);
      for (size_t i = 0; i < layout.block_size; ++i) {
        ASSERT_EQ(std::bit_cast<uint32_t>(single[i]),
                  std::bit_cast<uint32_t>(whole[b * layout.block_size + i]))
            << moe::type_name(type) << " block " << b << " element " << i;
      }
    }
    EXPECT_TRUE(moe::is_supported_for_compute(type)) << moe::type_name(type);
  }
  const int16_t i16[2] = {-300, 7};
  const int32_t i32[2] = {-70000, 9};
  std::vector<float> out(2);
  moe::dequantize_row(GgmlType::I16, i16, out.data(), 2);
  EXPECT_EQ(out, (std::vector<float>{-300.0f, 7.0f}));
  moe::dequantize_row(GgmlType::I32, i32, out.data(), 2);
  EXPECT_EQ(out, (std::vector<float>{-70000.0f, 9.0f}));
}

TEST(HalfFloats, F16SpecialValuesAndRounding) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(moe::f32_to_f16(0.0f), 0x0000);
  EXPECT_EQ(moe::f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(moe::f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(moe::f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(moe::f32_to_f16(inf), 0x7c00);
  EXPECT_EQ(moe::f32_to_f16(-inf), 0xfc00);
  EXPECT_TRUE(std::isnan(moe::f16_to_f32(moe::f32_to_f16(nan))));
  EXPECT_TRUE(std::isnan(moe::f16_to_f32(moe::f32_to_f16(-nan))));
  // A NaN whose payload lives only in the low bits must not become infinity.
  EXPECT_TRUE(std::isnan(moe::f16_to_f32(moe::f32_to_f16(std::bit_cast<float>(0x7f800001u)))));
  EXPECT_EQ(moe::f16_to_f32(0x7c00), inf);
  EXPECT_EQ(moe::f16_to_f32(0xfc00), -inf);
  EXPECT_TRUE(std::isnan(moe::f16_to_f32(0x7c01)));
  EXPECT_TRUE(std::isnan(moe::f16_to_f32(0xfe00)));
  // Largest finite, overflow, and the rounding boundary between them.
  EXPECT_EQ(moe::f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(moe::f32_to_f16(65519.0f), 0x7bff);
  EXPECT_EQ(moe::f32_to_f16(65520.0f), 0x7c00);
  EXPECT_EQ(moe::f32_to_f16(1e10f), 0x7c00);
  EXPECT_EQ(moe::f32_to_f16(-1e10f), 0xfc00);
  // Subnormals: 2^-24 is the smallest; 2^-25 is a tie and rounds to even (zero).
  EXPECT_EQ(moe::f16_to_f32(0x0001), 0x1p-24f);
  EXPECT_EQ(moe::f16_to_f32(0x03ff), 0x3ffp-24f);
  EXPECT_EQ(moe::f16_to_f32(0x8001), -0x1p-24f);
  EXPECT_EQ(moe::f32_to_f16(0x1p-24f), 0x0001);
  EXPECT_EQ(moe::f32_to_f16(0x1p-25f), 0x0000);
  EXPECT_EQ(moe::f32_to_f16(-0x1p-25f), 0x8000);
  EXPECT_EQ(moe::f32_to_f16(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(moe::f32_to_f16(0x3p-25f), 0x0002);  // 1.5 * 2^-24: tie, to even
  EXPECT_EQ(moe::f32_to_f16(0x5p-25f), 0x0002);  // 2.5 * 2^-24: tie, to even
  EXPECT_EQ(moe::f32_to_f16(1e-10f), 0x0000);
  EXPECT_EQ(moe::f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
  // Largest subnormal rounding up into the smallest normal.
  EXPECT_EQ(moe::f32_to_f16(0x1p-14f - 0x1p-26f), 0x0400);
  EXPECT_EQ(moe::f32_to_f16(0x1p-14f), 0x0400);
  // Normals: ties to even, and a carry into the exponent.
  EXPECT_EQ(moe::f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
  EXPECT_EQ(moe::f32_to_f16(1.0f + 0x3p-11f), 0x3c02);
  EXPECT_EQ(moe::f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
  EXPECT_EQ(moe::f32_to_f16(2.0f - 0x1p-12f), 0x4000);
  EXPECT_EQ(moe::f32_to_f16(0.1f), 0x2e66);
  // Every half value survives f16 -> f32 -> f16 exactly (NaNs stay NaNs).
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto half = static_cast<uint16_t>(bits);
    const float value = moe::f16_to_f32(half);
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(moe::f16_to_f32(moe::f32_to_f16(value)))) << bits;
    } else {
      ASSERT_EQ(moe::f32_to_f16(value), half) << bits;
    }
  }
}

TEST(HalfFloats, Bf16SpecialValuesAndRounding) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(moe::f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(moe::f32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(moe::f32_to_bf16(inf), 0x7f80);
  EXPECT_EQ(moe::f32_to_bf16(-inf), 0xff80);
  EXPECT_EQ(moe::bf16_to_f32(0x7f80), inf);
  EXPECT_TRUE(std::isnan(moe::bf16_to_f32(moe::f32_to_bf16(std::nanf("")))));
  // Payload only in the bits that are cut: must stay NaN, not become infinity.
  EXPECT_TRUE(std::isnan(moe::bf16_to_f32(moe::f32_to_bf16(std::bit_cast<float>(0x7f800001u)))));
  EXPECT_TRUE(std::isnan(moe::bf16_to_f32(moe::f32_to_bf16(std::bit_cast<float>(0xff800001u)))));
  EXPECT_EQ(moe::f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);  // tie, to even (down)
  EXPECT_EQ(moe::f32_to_bf16(1.0f + 0x3p-8f), 0x3f82);  // tie, to even (up)
  EXPECT_EQ(moe::f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  EXPECT_EQ(moe::f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds to inf
  EXPECT_EQ(moe::f32_to_bf16(std::bit_cast<float>(0x00010000u)), 0x0001);  // subnormal
  EXPECT_EQ(moe::f32_to_bf16(std::bit_cast<float>(0x00008000u)), 0x0000);  // tie to even
  EXPECT_EQ(moe::f32_to_bf16(std::bit_cast<float>(0x00018000u)), 0x0002);  // tie to even
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto b = static_cast<uint16_t>(bits);
    const float value = moe::bf16_to_f32(b);
    EXPECT_EQ(std::bit_cast<uint32_t>(value), bits << 16);
    if (!std::isnan(value)) {
      ASSERT_EQ(moe::f32_to_bf16(value), b) << bits;
    }
  }
}
