// GGUF v3 writer: builds the header in memory and writes header + aligned tensor data to a
// temporary file in the destination folder, then renames it over the destination.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>

#include "format.hpp"
#include "moe/error.hpp"
#include "moe/gguf.hpp"

namespace moe::gguf {
namespace {

using format::align_up;
using format::errno_text;
using format::kAlignmentKey;

constexpr size_t kMaxTensorNameBytes = 63;  // ggml's GGML_MAX_NAME (64) less the terminator

// Little-endian serialization into a growing byte buffer.
class ByteSink {
public:
  explicit ByteSink(std::vector<uint8_t>& out) : out_(out) {}

  void uint(uint64_t value, unsigned n_bytes) {
    for (unsigned i = 0; i < n_bytes; ++i) out_.push_back(static_cast<uint8_t>(value >> (8 * i)));
  }
  void string(std::string_view text) {
    uint(text.size(), 8);
    out_.insert(out_.end(), text.begin(), text.end());
  }
  void value(const Value& v, uint32_t depth) {
    switch (v.type()) {
      case ValueType::UINT8:
      case ValueType::UINT16:
      case ValueType::UINT32:
      case ValueType::UINT64:
        uint(v.as_uint(), format::scalar_size(v.type()));
        return;
      case ValueType::INT8:
      case ValueType::INT16:
      case ValueType::INT32:
      case ValueType::INT64:  // two's complement, truncated to the width
        uint(static_cast<uint64_t>(v.as_int()), format::scalar_size(v.type()));
        return;
      case ValueType::FLOAT32:
        uint(std::bit_cast<uint32_t>(static_cast<float>(v.as_double())), 4);
        return;
      case ValueType::FLOAT64:
        uint(std::bit_cast<uint64_t>(v.as_double()), 8);
        return;
      case ValueType::BOOL:
        uint(v.as_bool() ? 1 : 0, 1);
        return;
      case ValueType::STRING:
        string(v.as_string());
        return;
      case ValueType::ARRAY: {
        if (depth >= kMaxArrayDepth) {
          throw Error("arrays nested more than " + std::to_string(kMaxArrayDepth) +
                      " deep cannot be read back");
        }
        const Array& array = v.as_array();
        uint(static_cast<uint32_t>(array.element_type), 4);
        uint(array.items.size(), 8);
        for (const Value& item : array.items) value(item, depth + 1);
        return;
      }
    }
    throw Error("unknown metadata value type");
  }

private:
  std::vector<uint8_t>& out_;
};

uint64_t element_count(const std::vector<uint64_t>& dims) {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;  // dims are validated before this is called
  return n;
}

// Checks name, dims and type; returns the tensor's byte size.
uint64_t check_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims) {
  const std::string what = "GgufWriter: tensor '" + name + "'";
  if (name.empty()) throw Error("GgufWriter: a tensor name is empty");
  if (name.size() > kMaxTensorNameBytes) {
    throw Error(what + ": the name is " + std::to_string(name.size()) + " bytes, llama.cpp reads " +
                "at most " + std::to_string(kMaxTensorNameBytes));
  }
  const auto layout = type_layout(static_cast<uint32_t>(type));
  if (!layout) throw Error(what + ": " + type_name(type) + " is not a ggml type");
  if (dims.empty() || dims.size() > kMaxDims) {
    throw Error(what + " has " + std::to_string(dims.size()) + " dimensions, expected 1 to " +
                std::to_string(kMaxDims));
  }
  uint64_t n = 1;
  for (uint64_t d : dims) {
    if (d == 0) throw Error(what + " has a zero dimension");
    if (n > static_cast<uint64_t>(INT64_MAX) / d) throw Error(what + " has too many elements");
    n *= d;
  }
  if (dims[0] % layout->block_size != 0) {
    throw Error(what + ": " + std::to_string(dims[0]) + " elements per row is not a multiple of " +
                type_name(type) + "'s block size " + std::to_string(layout->block_size));
  }
  const uint64_t blocks = n / layout->block_size;
  if (blocks > static_cast<uint64_t>(INT64_MAX) / layout->block_bytes) {
    throw Error(what + " is too large");
  }
  return blocks * layout->block_bytes;
}

// Removes the temporary file unless the write completed.
struct TemporaryFile {
  std::filesystem::path path;
  int fd = -1;
  bool keep = false;
  ~TemporaryFile() {
    if (fd >= 0) ::close(fd);
    if (!keep && !path.empty()) ::unlink(path.c_str());
  }
};

void write_all(int fd, const uint8_t* data, size_t size, const std::string& target) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw Error("cannot write " + target + ": " + errno_text(errno));
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (!format::is_power_of_two(alignment)) {
    throw Error("GgufWriter: alignment " + std::to_string(alignment) +
                " is not a nonzero power of two");
  }
}

void GgufWriter::set(std::string key, Value value) {
  if (key.empty()) throw Error("GgufWriter: a metadata key is empty");
  for (auto& [existing_key, existing_value] : metadata_) {
    if (existing_key == key) {
      existing_value = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::set_string(std::string key, std::string value) {
  set(std::move(key), Value::string(std::move(value)));
}
void GgufWriter::set_u32(std::string key, uint32_t value) {
  set(std::move(key), Value::u32(value));
}
void GgufWriter::set_i32(std::string key, int32_t value) { set(std::move(key), Value::i32(value)); }
void GgufWriter::set_u64(std::string key, uint64_t value) {
  set(std::move(key), Value::u64(value));
}
void GgufWriter::set_f32(std::string key, float value) { set(std::move(key), Value::f32(value)); }
void GgufWriter::set_bool(std::string key, bool value) {
  set(std::move(key), Value::boolean(value));
}

void GgufWriter::set_string_array(std::string key, const std::vector<std::string>& values) {
  std::vector<Value> items;
  items.reserve(values.size());
  for (const auto& v : values) items.push_back(Value::string(v));
  set(std::move(key), Value::array(ValueType::STRING, std::move(items)));
}

void GgufWriter::set_f32_array(std::string key, const std::vector<float>& values) {
  std::vector<Value> items;
  items.reserve(values.size());
  for (float v : values) items.push_back(Value::f32(v));
  set(std::move(key), Value::array(ValueType::FLOAT32, std::move(items)));
}

void GgufWriter::set_i32_array(std::string key, const std::vector<int32_t>& values) {
  std::vector<Value> items;
  items.reserve(values.size());
  for (int32_t v : values) items.push_back(Value::i32(v));
  set(std::move(key), Value::array(ValueType::INT32, std::move(items)));
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::vector<uint64_t> dims,
                            std::vector<uint8_t> data) {
  const uint64_t n_bytes = check_tensor(name, type, dims);
  if (data.size() != n_bytes) {
    throw Error("GgufWriter: tensor '" + name + "' has " + std::to_string(data.size()) +
                " bytes of data, its dimensions and type need " + std::to_string(n_bytes));
  }
  for (const auto& tensor : tensors_) {
    if (tensor.name == name) throw Error("GgufWriter: duplicate tensor '" + name + "'");
  }
  tensors_.push_back({std::move(name), type, std::move(dims), std::move(data)});
}

void GgufWriter::add_tensor_f32(std::string name, std::vector<uint64_t> dims,
                                std::span<const float> values, GgmlType store_as) {
  if (store_as != GgmlType::F32 && store_as != GgmlType::F16 && store_as != GgmlType::BF16 &&
      store_as != GgmlType::Q8_0) {
    throw Error("GgufWriter: tensor '" + name + "': cannot store f32 values as " +
                type_name(store_as) + " (F32, F16, BF16 and Q8_0 are supported)");
  }
  const uint64_t n_bytes = check_tensor(name, store_as, dims);
  const uint64_t n = element_count(dims);
  if (values.size() != n) {
    throw Error("GgufWriter: tensor '" + name + "' has " + std::to_string(values.size()) +
                " values, its dimensions need " + std::to_string(n));
  }
  std::vector<uint8_t> data(n_bytes);
  quantize_row(store_as, values.data(), data.data(), static_cast<int64_t>(n));
  add_tensor(std::move(name), store_as, std::move(dims), std::move(data));
}

namespace {

// Header bytes (through the padding before the data section) and each tensor's data offset.
std::vector<uint8_t> build_header(uint32_t alignment,
                                  const std::vector<std::pair<std::string, Value>>& metadata,
                                  const auto& tensors) {
  bool has_alignment_key = false;
  for (const auto& [key, value] : metadata) {
    if (key != kAlignmentKey) continue;
    has_alignment_key = true;
    if (value.type() != ValueType::UINT32 || value.as_uint() != alignment) {
      throw Error(std::string("GgufWriter: metadata ") + kAlignmentKey +
                  " disagrees with the writer's alignment " + std::to_string(alignment));
    }
  }
  const bool add_alignment_key = alignment != format::kDefaultAlignment && !has_alignment_key;

  std::vector<uint8_t> out;
  ByteSink sink(out);
  sink.uint(format::kMagic, 4);
  sink.uint(3, 4);
  sink.uint(tensors.size(), 8);
  sink.uint(metadata.size() + (add_alignment_key ? 1 : 0), 8);
  for (const auto& [key, value] : metadata) {
    sink.string(key);
    sink.uint(static_cast<uint32_t>(value.type()), 4);
    try {
      sink.value(value, 0);
    } catch (const Error& error) {
      throw Error("GgufWriter: key '" + key + "': " + error.what());
    }
  }
  if (add_alignment_key) {
    sink.string(kAlignmentKey);
    sink.uint(static_cast<uint32_t>(ValueType::UINT32), 4);
    sink.uint(alignment, 4);
  }
  uint64_t offset = 0;
  for (const auto& tensor : tensors) {
    sink.string(tensor.name);
    sink.uint(tensor.dims.size(), 4);
    for (uint64_t d : tensor.dims) sink.uint(d, 8);
    sink.uint(static_cast<uint32_t>(tensor.type), 4);
    sink.uint(offset, 8);
    offset = align_up(offset + tensor.data.size(), alignment);
  }
  out.resize(align_up(out.size(), alignment), 0);
  return out;
}

}  // namespace

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out = build_header(alignment_, metadata_, tensors_);
  for (const auto& tensor : tensors_) {
    out.insert(out.end(), tensor.data.begin(), tensor.data.end());
    out.resize(align_up(out.size(), alignment_), 0);
  }
  return out;
}

void GgufWriter::write(const std::filesystem::path& path) const {
  const std::string target = path.string();
  if (!path.has_filename()) throw Error("cannot write " + target + ": not a file name");
  const std::vector<uint8_t> header = build_header(alignment_, metadata_, tensors_);

  // A unique name beside the destination, so the final rename stays on one file system.
  static std::atomic<uint64_t> counter{0};
  TemporaryFile temporary;
  for (int attempt = 0; temporary.fd < 0; ++attempt) {
    std::string name = path.filename().string();
    name.insert(0, 1, '.');
    name += ".tmp.";
    name += std::to_string(::getpid());
    name += '.';
    name += std::to_string(counter++);
    std::filesystem::path candidate = path;
    candidate.replace_filename(name);
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      temporary.path = candidate;
      temporary.fd = fd;
    } else if (errno != EEXIST || attempt >= 100) {
      throw Error("cannot write " + target + ": cannot create " + candidate.string() + ": " +
                  errno_text(errno));
    }
  }

  write_all(temporary.fd, header.data(), header.size(), target);
  static const std::vector<uint8_t> zeros(4096, 0);
  uint64_t written = header.size();
  for (const auto& tensor : tensors_) {
    write_all(temporary.fd, tensor.data.data(), tensor.data.size(), target);
    written += tensor.data.size();
    uint64_t padding = align_up(written, alignment_) - written;
    written += padding;
    while (padding > 0) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(padding, zeros.size()));
      write_all(temporary.fd, zeros.data(), chunk, target);
      padding -= chunk;
    }
  }
  if (::fsync(temporary.fd) != 0) throw Error("cannot write " + target + ": " + errno_text(errno));
  const int fd = temporary.fd;
  temporary.fd = -1;
  if (::close(fd) != 0) throw Error("cannot write " + target + ": " + errno_text(errno));
  if (std::rename(temporary.path.c_str(), path.c_str()) != 0) {
    throw Error("cannot write " + target + ": " + errno_text(errno));
  }
  temporary.keep = true;
}

}  // namespace moe::gguf
