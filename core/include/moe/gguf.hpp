#pragma once
// GGUF v2/v3 files: a reader over mmap (zero-copy tensor views, every field bounds-checked)
// and a writer that produces files llama.cpp can load.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "moe/ggml_types.hpp"

namespace moe::gguf {

// Metadata value type ids as stored in the file.
enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view value_type_name(ValueType type);

// Limits the reader enforces, so that a hostile file cannot make it allocate without bound.
inline constexpr uint32_t kMaxDims = 4;                        // tensor dimensions
inline constexpr uint32_t kMaxArrayDepth = 8;                  // arrays nested in arrays
inline constexpr uint64_t kMaxMetadataElements = 16ull << 20;  // array elements, all keys together
inline constexpr uint64_t kMaxMetadataStringBytes = 256ull << 20;  // string bytes, all keys together
inline constexpr uint64_t kMaxMetadataEntries = 1ull << 20;    // key/value pairs
inline constexpr uint64_t kMaxTensors = 1ull << 20;            // tensor infos

class Value;
struct Array {
  ValueType element_type = ValueType::UINT8;
  std::vector<Value> items;  // nested arrays allowed

  bool operator==(const Array&) const = default;
};

// One metadata value. Integers keep their exact type; accessors convert with range checks
// and throw moe::Error on a mismatch (e.g. asking a string for a number).
class Value {
public:
  Value() = default;
  static Value u8(uint8_t v); static Value i8(int8_t v);
  static Value u16(uint16_t v); static Value i16(int16_t v);
  static Value u32(uint32_t v); static Value i32(int32_t v);
  static Value u64(uint64_t v); static Value i64(int64_t v);
  static Value f32(float v); static Value f64(double v);
  static Value boolean(bool v);
  static Value string(std::string v);
  static Value array(ValueType element_type, std::vector<Value> items);

  ValueType type() const { return type_; }
  bool is_integer() const;
  bool is_number() const;  // integer or float

  uint64_t as_uint() const;       // any non-negative integer
  int64_t as_int() const;         // any integer that fits
  double as_double() const;       // any number
  bool as_bool() const;
  const std::string& as_string() const;
  const Array& as_array() const;

  bool operator==(const Value&) const = default;  // same type and same value (NaN != NaN)

private:
  using Storage = std::variant<uint64_t, int64_t, double, bool, std::string, Array>;
  Value(ValueType type, Storage data) : type_(type), data_(std::move(data)) {}

  ValueType type_ = ValueType::UINT8;
  Storage data_ = uint64_t{0};
};

struct TensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> dims;  // ggml `ne` order: fastest-varying dimension first
  uint64_t offset = 0;         // from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // view into the mapped file (valid while the GgufFile lives)

  std::span<const uint8_t> bytes() const { return {data, static_cast<size_t>(n_bytes)}; }
};

// A parsed GGUF file. Movable, not copyable; tensor views stay valid while it lives.
class GgufFile {
public:
  // Maps the file read-only. Throws moe::Error naming the file, the field and the byte offset
  // for anything truncated, corrupt or out of range.
  static GgufFile open(const std::filesystem::path& path);
  // Parses bytes owned by the caller (kept alive by the caller). For tests and the fuzzer.
  static GgufFile parse(std::span<const uint8_t> bytes, std::string source_name = "<memory>");

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  const std::string& source_name() const { return source_name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t file_size() const { return bytes_.size(); }

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;
  const Value& require(std::string_view key) const;  // throws "missing key 'k' in file"

  // Typed getters: throw when missing or of the wrong type; *_or return the fallback if missing.
  std::string get_string(std::string_view key) const;
  uint64_t get_uint(std::string_view key) const;
  double get_double(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  uint64_t get_uint_or(std::string_view key, uint64_t fallback) const;
  double get_double_or(std::string_view key, double fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;
  std::string get_string_or(std::string_view key, std::string fallback) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

private:
  GgufFile() = default;
  struct Mapping;
  std::unique_ptr<Mapping> mapping_;  // null when parsing caller-owned bytes
  std::span<const uint8_t> bytes_;
  std::string source_name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> metadata_index_;  // views into metadata_ keys
  std::unordered_map<std::string_view, size_t> tensor_index_;    // views into tensors_ names
  friend class Parser;
};

// Builds a GGUF v3 file in memory and writes it atomically (temporary file, then rename).
// Tensors are laid out in insertion order, each aligned and padded with zeros; tensor names are
// limited to 63 bytes as in ggml. Arrays of arrays are written as the format allows, but
// llama.cpp refuses them: files meant for llama.cpp should not use them.
class GgufWriter {
public:
  explicit GgufWriter(uint32_t alignment = 32);

  void set(std::string key, Value value);  // replaces an existing key, keeps insertion order
  void set_string(std::string key, std::string value);
  void set_u32(std::string key, uint32_t value);
  void set_i32(std::string key, int32_t value);
  void set_u64(std::string key, uint64_t value);
  void set_f32(std::string key, float value);
  void set_bool(std::string key, bool value);
  void set_string_array(std::string key, const std::vector<std::string>& values);
  void set_f32_array(std::string key, const std::vector<float>& values);
  void set_i32_array(std::string key, const std::vector<int32_t>& values);

  // Raw tensor data, already in `type`'s layout (size checked against dims and type).
  void add_tensor(std::string name, GgmlType type, std::vector<uint64_t> dims,
                  std::vector<uint8_t> data);
  // f32 values converted to `store_as` (F32, F16, BF16 or Q8_0).
  void add_tensor_f32(std::string name, std::vector<uint64_t> dims, std::span<const float> values,
                      GgmlType store_as = GgmlType::F32);

  std::vector<uint8_t> to_bytes() const;
  void write(const std::filesystem::path& path) const;  // throws moe::Error on I/O failure

private:
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> dims;
    std::vector<uint8_t> data;
  };
  uint32_t alignment_;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace moe::gguf
