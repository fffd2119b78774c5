// gguf::Value: construction, type names and range-checked accessors.
#include <limits>

#include "moe/error.hpp"
#include "moe/gguf.hpp"

namespace moe::gguf {
namespace {

std::string describe(const Value& value) {
  return std::string(value_type_name(value.type())) + " metadata value";
}

[[noreturn]] void mismatch(const Value& value, const char* wanted) {
  throw Error("expected " + std::string(wanted) + ", found " + describe(value));
}

}  // namespace

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::UINT8:
      return "UINT8";
    case ValueType::INT8:
      return "INT8";
    case ValueType::UINT16:
      return "UINT16";
    case ValueType::INT16:
      return "INT16";
    case ValueType::UINT32:
      return "UINT32";
    case ValueType::INT32:
      return "INT32";
    case ValueType::FLOAT32:
      return "FLOAT32";
    case ValueType::BOOL:
      return "BOOL";
    case ValueType::STRING:
      return "STRING";
    case ValueType::ARRAY:
      return "ARRAY";
    case ValueType::UINT64:
      return "UINT64";
    case ValueType::INT64:
      return "INT64";
    case ValueType::FLOAT64:
      return "FLOAT64";
  }
  return "UNKNOWN";
}

// Unsigned integers are stored as uint64_t, signed ones as int64_t, floats as double.
Value Value::u8(uint8_t v) { return {ValueType::UINT8, uint64_t{v}}; }
Value Value::u16(uint16_t v) { return {ValueType::UINT16, uint64_t{v}}; }
Value Value::u32(uint32_t v) { return {ValueType::UINT32, uint64_t{v}}; }
Value Value::u64(uint64_t v) { return {ValueType::UINT64, v}; }
Value Value::i8(int8_t v) { return {ValueType::INT8, int64_t{v}}; }
Value Value::i16(int16_t v) { return {ValueType::INT16, int64_t{v}}; }
Value Value::i32(int32_t v) { return {ValueType::INT32, int64_t{v}}; }
Value Value::i64(int64_t v) { return {ValueType::INT64, v}; }
Value Value::f32(float v) { return {ValueType::FLOAT32, double{v}}; }
Value Value::f64(double v) { return {ValueType::FLOAT64, v}; }
Value Value::boolean(bool v) { return {ValueType::BOOL, v}; }
Value Value::string(std::string v) { return {ValueType::STRING, std::move(v)}; }

Value Value::array(ValueType element_type, std::vector<Value> items) {
  if (value_type_name(element_type) == "UNKNOWN") {
    throw Error("array element type id " + std::to_string(static_cast<uint32_t>(element_type)) +
                " is not a GGUF value type");
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].type() != element_type) {
      throw Error("array of " + std::string(value_type_name(element_type)) + ": element " +
                  std::to_string(i) + " is a " + describe(items[i]));
    }
  }
  return {ValueType::ARRAY, Array{element_type, std::move(items)}};
}

bool Value::is_integer() const {
  return std::holds_alternative<uint64_t>(data_) || std::holds_alternative<int64_t>(data_);
}

bool Value::is_number() const { return is_integer() || std::holds_alternative<double>(data_); }

uint64_t Value::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&data_)) return *u;
  if (const auto* i = std::get_if<int64_t>(&data_)) {
    if (*i < 0) throw Error("expected a non-negative integer, found " + std::to_string(*i));
    return static_cast<uint64_t>(*i);
  }
  mismatch(*this, "an unsigned integer");
}

int64_t Value::as_int() const {
  if (const auto* i = std::get_if<int64_t>(&data_)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&data_)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw Error("integer " + std::to_string(*u) + " does not fit in int64");
    }
    return static_cast<int64_t>(*u);
  }
  mismatch(*this, "an integer");
}

double Value::as_double() const {
  if (const auto* d = std::get_if<double>(&data_)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&data_)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&data_)) return static_cast<double>(*i);
  mismatch(*this, "a number");
}

bool Value::as_bool() const {
  if (const auto* b = std::get_if<bool>(&data_)) return *b;
  mismatch(*this, "a BOOL");
}

const std::string& Value::as_string() const {
  if (const auto* s = std::get_if<std::string>(&data_)) return *s;
  mismatch(*this, "a STRING");
}

const Array& Value::as_array() const {
  if (const auto* a = std::get_if<Array>(&data_)) return *a;
  mismatch(*this, "an ARRAY");
}

}  // namespace moe::gguf
