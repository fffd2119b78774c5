// GGUF reader: maps a file read-only and parses it with every field bounds- and overflow-checked.
// A truncated, corrupt or hostile file gives a moe::Error naming the file, the field, the byte
// offset and, where known, the key or tensor; never a crash or an allocation the file cannot back.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

#include "format.hpp"
#include "moe/error.hpp"
#include "moe/gguf.hpp"

namespace moe::gguf {

struct GgufFile::Mapping {
  void* address = nullptr;
  size_t size = 0;

  Mapping(void* a, size_t s) : address(a), size(s) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { ::munmap(address, size); }
};

namespace {

constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// Smallest encodings, used to reject counts that the remaining bytes cannot possibly hold.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;  // key length, 1-byte key, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 4 + 8;  // name, n_dims, type, offset

void append_hex(std::string& out, uint8_t byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += kHex[byte >> 4];
  out += kHex[byte & 15];
}

std::string shown_name(std::string_view text) {
  // Keys and names come from the file: show them bounded and with control bytes escaped.
  constexpr size_t kMaxShown = 80;
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      append_hex(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "'";
}

bool is_known_value_type(uint32_t id) { return id <= static_cast<uint32_t>(ValueType::FLOAT64); }

// Bytes that one element of `type` takes at least in the file.
uint64_t min_encoded_size(ValueType type) {
  if (type == ValueType::STRING) return 8;  // the u64 length
  if (type == ValueType::ARRAY) return 12;  // u32 element type + u64 count
  return format::scalar_size(type);
}

// Capacity to reserve for `count` entries announced by the file: counts are only checked
// against the bytes left, so memory grows with the entries actually read beyond a small start.
size_t reservation(uint64_t count) { return static_cast<size_t>(std::min<uint64_t>(count, 4096)); }

}  // namespace

class Parser {
public:
  Parser(GgufFile& file) : file_(file), bytes_(file.bytes_) {}

  void run() {
    read_header();
    read_metadata();
    read_alignment();
    read_tensor_infos();
    place_tensors();
  }

private:
  GgufFile& file_;
  std::span<const uint8_t> bytes_;
  uint64_t pos_ = 0;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  uint64_t metadata_elements_ = 0;
  uint64_t metadata_string_bytes_ = 0;
  // Where we are, for messages: the key being read and the array element indices inside it.
  std::string_view key_;
  std::vector<uint64_t> element_path_;
  std::vector<uint64_t> key_offsets_;          // byte offset of each metadata entry
  std::vector<uint64_t> tensor_offset_field_;  // byte offset of each tensor's `offset` field

  [[noreturn]] void fail(uint64_t offset, const std::string& what) const {
    throw Error(file_.source_name_ + ": " + what + " (at byte offset " + std::to_string(offset) +
                ")");
  }

  // "key 'k' element 3 element 7: " while inside metadata, "" elsewhere.
  std::string where() const {
    if (key_.empty()) return "";
    std::string out = "key " + shown_name(key_);
    for (uint64_t index : element_path_) out += " element " + std::to_string(index);
    return out + ": ";
  }

  uint64_t size() const { return bytes_.size(); }
  uint64_t remaining() const { return size() - pos_; }

  void need(uint64_t n, const char* what) const {
    if (n > remaining()) {
      fail(pos_, where() + "file ends inside " + what + ": needs " + std::to_string(n) +
                     " bytes, " + std::to_string(remaining()) + " left");
    }
  }

  uint64_t read_le(unsigned n, const char* what) {
    need(n, what);
    uint64_t value = 0;
    for (unsigned i = 0; i < n; ++i) value |= static_cast<uint64_t>(bytes_[pos_ + i]) << (8 * i);
    pos_ += n;
    return value;
  }
  uint8_t u8(const char* what) { return static_cast<uint8_t>(read_le(1, what)); }
  uint16_t u16(const char* what) { return static_cast<uint16_t>(read_le(2, what)); }
  uint32_t u32(const char* what) { return static_cast<uint32_t>(read_le(4, what)); }
  uint64_t u64(const char* what) { return read_le(8, what); }

  // A string as it is stored: u64 length then bytes (no terminator).
  std::string_view string_view(const char* what) {
    const uint64_t length_offset = pos_;
    const uint64_t length = u64(what);
    if (length > remaining()) {
      fail(length_offset, where() + what + " is " + std::to_string(length) +
                              " bytes long, but only " + std::to_string(remaining()) +
                              " bytes are left in the file");
    }
    std::string_view text(reinterpret_cast<const char*>(bytes_.data() + pos_),
                          static_cast<size_t>(length));
    pos_ += length;
    return text;
  }

  void read_header() {
    if (size() < 4) {
      fail(0, "not a GGUF file: it is only " + std::to_string(size()) + " bytes long");
    }
    if (std::memcmp(bytes_.data(), "GGUF", 4) != 0) {
      std::string shown;
      for (int i = 0; i < 4; ++i) {
        if (i) shown += ' ';
        append_hex(shown, bytes_[i]);
      }
      fail(0, "not a GGUF file: the magic bytes are " + shown + ", expected 'GGUF'");
    }
    pos_ = 4;
    const uint32_t version = u32("the header (version)");
    if (version == 1) {
      fail(4,
           "GGUF version 1 is not supported (it uses 32-bit counts); convert the file to "
           "version 3 with a current llama.cpp");
    }
    if (version == 0x02000000u || version == 0x03000000u) {
      fail(4, "big-endian GGUF files are not supported");
    }
    if (version != 2 && version != 3) {
      fail(4, "unsupported GGUF version " + std::to_string(version) + " (supported: 2 and 3)");
    }
    file_.version_ = version;
    tensor_count_ = u64("the header (tensor count)");
    kv_count_ = u64("the header (metadata count)");
    if (tensor_count_ > kMaxTensors) {
      fail(8, "tensor count " + std::to_string(tensor_count_) + " exceeds the limit of " +
                  std::to_string(kMaxTensors));
    }
    if (kv_count_ > kMaxMetadataEntries) {
      fail(16, "metadata count " + std::to_string(kv_count_) + " exceeds the limit of " +
                   std::to_string(kMaxMetadataEntries));
    }
    // Every entry takes some bytes; a count the rest of the file cannot hold is corrupt.
    if (tensor_count_ > remaining() / kMinTensorInfoBytes) {
      fail(8, "tensor count " + std::to_string(tensor_count_) + " is impossible: " +
                  std::to_string(remaining()) + " bytes are left after the header");
    }
    if (kv_count_ > remaining() / kMinKvBytes ||
        kv_count_ * kMinKvBytes > remaining() - tensor_count_ * kMinTensorInfoBytes) {
      fail(16, "metadata count " + std::to_string(kv_count_) + " is impossible: " +
                   std::to_string(remaining()) + " bytes are left after the header");
    }
  }

  void read_metadata() {
    file_.metadata_.reserve(reservation(kv_count_));
    file_.metadata_index_.reserve(reservation(kv_count_));
    for (uint64_t i = 0; i < kv_count_; ++i) {
      const uint64_t key_offset = pos_;
      const std::string label = "the key of metadata entry " + std::to_string(i);
      const std::string_view key = string_view(label.c_str());
      if (key.empty())
        fail(key_offset, "metadata entry " + std::to_string(i) + " has an empty key");
      // Views into the file stay valid for the whole parse; the index is rebuilt at the end.
      if (file_.metadata_index_.contains(key)) {
        fail(key_offset, "duplicate metadata key " + shown_name(key));
      }
      key_ = key;
      const uint64_t type_offset = pos_;
      const uint32_t type_id = u32("a value type");
      if (!is_known_value_type(type_id)) {
        fail(type_offset, where() + "unknown value type id " + std::to_string(type_id));
      }
      Value value = read_value(static_cast<ValueType>(type_id), 0);
      file_.metadata_index_.emplace(key, file_.metadata_.size());
      key_offsets_.push_back(key_offset);
      file_.metadata_.emplace_back(std::string(key), std::move(value));
      key_ = {};
    }
    // Re-point the index at the stored keys (the metadata vector no longer grows).
    file_.metadata_index_.clear();
    for (size_t i = 0; i < file_.metadata_.size(); ++i) {
      file_.metadata_index_.emplace(file_.metadata_[i].first, i);
    }
  }

  Value read_value(ValueType type, uint32_t depth) {
    switch (type) {
      case ValueType::UINT8:
        return Value::u8(u8("a UINT8 value"));
      case ValueType::INT8:
        return Value::i8(static_cast<int8_t>(u8("an INT8 value")));
      case ValueType::UINT16:
        return Value::u16(u16("a UINT16 value"));
      case ValueType::INT16:
        return Value::i16(static_cast<int16_t>(u16("an INT16 value")));
      case ValueType::UINT32:
        return Value::u32(u32("a UINT32 value"));
      case ValueType::INT32:
        return Value::i32(static_cast<int32_t>(u32("an INT32 value")));
      case ValueType::UINT64:
        return Value::u64(u64("a UINT64 value"));
      case ValueType::INT64:
        return Value::i64(static_cast<int64_t>(u64("an INT64 value")));
      case ValueType::FLOAT32:
        return Value::f32(std::bit_cast<float>(u32("a FLOAT32 value")));
      case ValueType::FLOAT64:
        return Value::f64(std::bit_cast<double>(u64("a FLOAT64 value")));
      case ValueType::BOOL: {
        const uint64_t offset = pos_;
        const uint8_t byte = u8("a BOOL value");
        if (byte > 1)
          fail(offset, where() + "BOOL value is " + std::to_string(byte) + ", not 0 or 1");
        return Value::boolean(byte == 1);
      }
      case ValueType::STRING: {
        const uint64_t offset = pos_;
        const std::string_view text = string_view("a string value");
        metadata_string_bytes_ += text.size();
        if (metadata_string_bytes_ > kMaxMetadataStringBytes) {
          fail(offset, where() + "metadata strings exceed the limit of " +
                           std::to_string(kMaxMetadataStringBytes) + " bytes in all");
        }
        return Value::string(std::string(text));
      }
      case ValueType::ARRAY:
        return read_array(depth + 1);
    }
    fail(pos_, where() + "unknown value type");  // unreachable: types are checked by the caller
  }

  Value read_array(uint32_t depth) {
    const uint64_t start = pos_;
    if (depth > kMaxArrayDepth) {
      fail(start,
           where() + "arrays are nested more than " + std::to_string(kMaxArrayDepth) + " deep");
    }
    const uint32_t type_id = u32("an array element type");
    if (!is_known_value_type(type_id)) {
      fail(start, where() + "unknown array element type id " + std::to_string(type_id));
    }
    const auto element_type = static_cast<ValueType>(type_id);
    const uint64_t count_offset = pos_;
    const uint64_t count = u64("an array count");
    const uint64_t min_size = min_encoded_size(element_type);
    if (count > remaining() / min_size) {
      fail(count_offset, where() + "array of " + std::to_string(count) + " " +
                             std::string(value_type_name(element_type)) + " needs at least " +
                             (count > std::numeric_limits<uint64_t>::max() / min_size
                                  ? std::string("more than 2^64")
                                  : std::to_string(count * min_size)) +
                             " bytes, only " + std::to_string(remaining()) + " are left");
    }
    if (count > kMaxMetadataElements - metadata_elements_) {
      fail(count_offset, where() + "array of " + std::to_string(count) +
                             " elements exceeds the limit of " +
                             std::to_string(kMaxMetadataElements) + " metadata array elements");
    }
    metadata_elements_ += count;
    std::vector<Value> items;
    items.reserve(reservation(count));
    element_path_.push_back(0);
    for (uint64_t i = 0; i < count; ++i) {
      element_path_.back() = i;
      items.push_back(read_value(element_type, depth));
    }
    element_path_.pop_back();
    // The elements were read as `element_type`, so this cannot fail; it builds the Value.
    return Value::array(element_type, std::move(items));
  }

  void read_alignment() {
    const auto found = file_.metadata_index_.find(std::string_view(format::kAlignmentKey));
    if (found == file_.metadata_index_.end()) {
      file_.alignment_ = format::kDefaultAlignment;
      return;
    }
    const Value& value = file_.metadata_[found->second].second;
    // The spec says UINT32; any integer type holding a valid value is accepted.
    std::string shown = "a " + std::string(value_type_name(value.type()));
    uint64_t alignment = 0;
    if (value.is_integer()) {
      const bool is_signed = value.type() == ValueType::INT8 || value.type() == ValueType::INT16 ||
                             value.type() == ValueType::INT32 || value.type() == ValueType::INT64;
      if (is_signed && value.as_int() < 0) {
        shown = std::to_string(value.as_int());
      } else {
        alignment = value.as_uint();
        shown = std::to_string(alignment);
      }
    }
    if (!format::is_power_of_two(alignment) || alignment > std::numeric_limits<uint32_t>::max()) {
      fail(key_offsets_[found->second],
           "general.alignment is " + shown + ", expected a nonzero power of two (UINT32)");
    }
    file_.alignment_ = alignment;
  }

  void read_tensor_infos() {
    file_.tensors_.reserve(reservation(tensor_count_));
    file_.tensor_index_.reserve(reservation(tensor_count_));
    tensor_offset_field_.reserve(reservation(tensor_count_));
    for (uint64_t i = 0; i < tensor_count_; ++i) {
      const uint64_t info_offset = pos_;
      const std::string label = "the name of tensor " + std::to_string(i);
      const std::string_view name = string_view(label.c_str());
      if (name.empty()) fail(info_offset, "tensor " + std::to_string(i) + " has an empty name");
      if (file_.tensor_index_.contains(name))
        fail(info_offset, "duplicate tensor " + shown_name(name));
      const std::string tensor = "tensor " + shown_name(name);

      TensorInfo info;
      const uint64_t dims_offset = pos_;
      const uint32_t n_dims = u32("a tensor's dimension count");
      if (n_dims > kMaxDims) {
        fail(dims_offset, tensor + " has " + std::to_string(n_dims) + " dimensions, at most " +
                              std::to_string(kMaxDims) + " are allowed");
      }
      uint64_t n_elements = 1;
      for (uint32_t d = 0; d < n_dims; ++d) {
        const uint64_t dim_offset = pos_;
        const uint64_t dim = u64("a tensor dimension");
        const std::string which = tensor + " dimension " + std::to_string(d);
        if (dim == 0) fail(dim_offset, which + " is 0");
        if (dim > kMaxInt64) fail(dim_offset, which + " is " + std::to_string(dim) + ", too large");
        if (n_elements > kMaxInt64 / dim) {
          fail(dim_offset, tensor +
                               " has too many elements (the product of its dimensions "
                               "overflows 64 bits)");
        }
        n_elements *= dim;
        info.dims.push_back(dim);
      }
      const uint64_t type_offset = pos_;
      const uint32_t type_id = u32("a tensor type");
      const auto layout = type_layout(type_id);
      if (!layout) {
        fail(type_offset, tensor + " has unknown ggml type id " + std::to_string(type_id));
      }
      const uint64_t row = info.dims.empty() ? 1 : info.dims[0];
      if (row % layout->block_size != 0) {
        fail(dims_offset, tensor + " of type " + type_name(type_id) + " has " +
                              std::to_string(row) +
                              " elements per row, not a multiple of the "
                              "block size " +
                              std::to_string(layout->block_size));
      }
      // bytes = elements / block_size * block_bytes; elements <= 2^63 so the division is exact
      // and the product is checked.
      const uint64_t blocks = n_elements / layout->block_size;
      if (blocks > kMaxInt64 / layout->block_bytes) {
        fail(dims_offset, tensor + " is too large (its byte size overflows 64 bits)");
      }
      const uint64_t offset_field = pos_;
      const uint64_t offset = u64("a tensor data offset");
      if (offset % file_.alignment_ != 0) {
        fail(offset_field, tensor + " data offset " + std::to_string(offset) +
                               " is not a multiple of the alignment " +
                               std::to_string(file_.alignment_));
      }
      info.name = std::string(name);
      info.type = static_cast<GgmlType>(type_id);
      info.offset = offset;
      info.n_elements = n_elements;
      info.n_bytes = blocks * layout->block_bytes;
      file_.tensor_index_.emplace(name, file_.tensors_.size());
      file_.tensors_.push_back(std::move(info));
      tensor_offset_field_.push_back(offset_field);
    }
    file_.tensor_index_.clear();
    for (size_t i = 0; i < file_.tensors_.size(); ++i) {
      file_.tensor_index_.emplace(file_.tensors_[i].name, i);
    }
  }

  void place_tensors() {
    const uint64_t alignment = file_.alignment_;
    const uint64_t data_start = format::align_up(pos_, alignment);
    const uint64_t data_size = data_start < size() ? size() - data_start : 0;
    for (size_t i = 0; i < file_.tensors_.size(); ++i) {
      TensorInfo& info = file_.tensors_[i];
      if (info.offset > data_size) {
        fail(tensor_offset_field_[i],
             "tensor " + shown_name(info.name) + " data offset " + std::to_string(info.offset) +
                 " lies beyond the end of the file (the data section starts at byte " +
                 std::to_string(data_start) + " of " + std::to_string(size()) + ")");
      }
      if (info.n_bytes > data_size - info.offset) {
        // start <= size and n_bytes < 2^63: the sum cannot overflow.
        const uint64_t start = data_start + info.offset;
        fail(tensor_offset_field_[i],
             "tensor " + shown_name(info.name) + " data (bytes " + std::to_string(start) + " to " +
                 std::to_string(start + info.n_bytes) + ") extends beyond the end of the file (" +
                 std::to_string(size()) + " bytes)");
      }
      info.data = bytes_.data() + data_start + info.offset;
    }
  }
};

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string source_name) {
  GgufFile file;
  file.bytes_ = bytes;
  file.source_name_ = std::move(source_name);
  Parser(file).run();
  return file;
}

GgufFile GgufFile::open(const std::filesystem::path& path) {
  const std::string name = path.string();
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is rejected below).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error("cannot open " + name + ": " + format::errno_text(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    throw Error("cannot open " + name + ": " + format::errno_text(error));
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    throw Error("cannot open " + name + ": it is a directory, not a GGUF file");
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    throw Error("cannot open " + name + ": not a regular file");
  }
  if (info.st_size == 0) {
    ::close(fd);
    throw Error(name + ": the file is empty (0 bytes), not a GGUF file");
  }
  const auto size = static_cast<size_t>(info.st_size);
  void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_error = errno;
  ::close(fd);
  if (address == MAP_FAILED)
    throw Error("cannot map " + name + ": " + format::errno_text(map_error));

  GgufFile file;
  file.mapping_ = std::make_unique<Mapping>(address, size);
  file.bytes_ = {static_cast<const uint8_t*>(address), size};
  file.source_name_ = name;
  Parser(file).run();
  return file;
}

const Value* GgufFile::find(std::string_view key) const {
  const auto found = metadata_index_.find(key);
  return found == metadata_index_.end() ? nullptr : &metadata_[found->second].second;
}

const Value& GgufFile::require(std::string_view key) const {
  const Value* value = find(key);
  if (!value) throw Error("missing key '" + std::string(key) + "' in " + source_name_);
  return *value;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto found = tensor_index_.find(name);
  return found == tensor_index_.end() ? nullptr : &tensors_[found->second];
}

namespace {

// Runs `convert` on the value of `key`, adding the file and key to a conversion error.
template <typename Convert>
auto convert_key(const GgufFile& file, std::string_view key, Convert convert) {
  const Value& value = file.require(key);
  try {
    return convert(value);
  } catch (const Error& error) {
    throw Error(file.source_name() + ": key '" + std::string(key) + "': " + error.what());
  }
}

}  // namespace

std::string GgufFile::get_string(std::string_view key) const {
  return convert_key(*this, key, [](const Value& v) { return v.as_string(); });
}
uint64_t GgufFile::get_uint(std::string_view key) const {
  return convert_key(*this, key, [](const Value& v) { return v.as_uint(); });
}
double GgufFile::get_double(std::string_view key) const {
  return convert_key(*this, key, [](const Value& v) { return v.as_double(); });
}
bool GgufFile::get_bool(std::string_view key) const {
  return convert_key(*this, key, [](const Value& v) { return v.as_bool(); });
}
uint64_t GgufFile::get_uint_or(std::string_view key, uint64_t fallback) const {
  return find(key) ? get_uint(key) : fallback;
}
double GgufFile::get_double_or(std::string_view key, double fallback) const {
  return find(key) ? get_double(key) : fallback;
}
bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  return find(key) ? get_bool(key) : fallback;
}
std::string GgufFile::get_string_or(std::string_view key, std::string fallback) const {
  return find(key) ? get_string(key) : fallback;
}

}  // namespace moe::gguf
