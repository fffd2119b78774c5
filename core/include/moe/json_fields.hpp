#pragma once
// Reading fields of a JSON file with checks: every missing field, wrong type or wrong size
// throws moe::Error "NAME: corrupt KIND: what", so that each reader of our JSON files (profiles,
// prune plans, ...) names the problem the same way and never crashes on a hostile file.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "moe/error.hpp"

namespace moe {

class JsonFields {
public:
  // `name`: the file, `kind`: what it should be ("moeprofile", "prune plan").
  JsonFields(std::string name, std::string kind) : name_(std::move(name)), kind_(std::move(kind)) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(name_ + ": corrupt " + kind_ + ": " + what);
  }
  const nlohmann::json& field(const nlohmann::json& object, const char* key) const {
    if (!object.is_object() || !object.contains(key)) fail(std::string("missing \"") + key + "\"");
    return object.at(key);
  }
  int64_t integer(const nlohmann::json& object, const char* key) const {
    const nlohmann::json& value = field(object, key);
    if (!value.is_number_integer()) fail(std::string("\"") + key + "\" is not an integer");
    return value.get<int64_t>();
  }
  double number(const nlohmann::json& object, const char* key) const {
    const nlohmann::json& value = field(object, key);
    if (!value.is_number()) fail(std::string("\"") + key + "\" is not a number");
    return value.get<double>();
  }
  std::string text(const nlohmann::json& object, const char* key) const {
    const nlohmann::json& value = field(object, key);
    if (!value.is_string()) fail(std::string("\"") + key + "\" is not a string");
    return value.get<std::string>();
  }
  // An array of numbers; of exactly `size` values unless `size` is kAnySize.
  static constexpr size_t kAnySize = static_cast<size_t>(-1);
  template <typename T>
  std::vector<T> numbers(const nlohmann::json& object, const char* key, size_t size) const {
    const nlohmann::json& value = field(object, key);
    if (!value.is_array() || (size != kAnySize && value.size() != size)) {
      fail(std::string("\"") + key + "\" is not an array" +
           (size != kAnySize ? " of " + std::to_string(size) : std::string()));
    }
    std::vector<T> out;
    out.reserve(value.size());
    for (const nlohmann::json& item : value) {
      const bool ok = std::is_integral_v<T> ? item.is_number_integer() : item.is_number();
      if (!ok) fail(std::string("\"") + key + "\" holds a value that is not a number");
      out.push_back(item.get<T>());
    }
    return out;
  }

private:
  std::string name_;
  std::string kind_;
};

}  // namespace moe
