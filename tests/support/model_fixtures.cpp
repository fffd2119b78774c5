#include "model_fixtures.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>

namespace moe::testing {

void PrintTo(const ModelCase& model_case, std::ostream* out) { *out << model_case.label; }

std::filesystem::path unique_temp_path(const std::string& stem, const std::string& extension) {
  static std::atomic<int> counter{0};
  return std::filesystem::temp_directory_path() /
         (stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + extension);
}

TempModelFile::TempModelFile(const RandomModelSpec& spec)
    : path_(unique_temp_path("moescope-model", ".gguf")) {
  write_random_model(spec, path_);
}

TempModelFile::~TempModelFile() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

std::vector<uint8_t> edited_gguf(const gguf::GgufFile& source, const GgufEdit& edit) {
  gguf::GgufWriter writer(static_cast<uint32_t>(source.alignment()));
  for (const auto& [key, value] : source.metadata()) {
    if (key == "general.alignment" || edit.remove_keys.count(key) > 0) continue;
    writer.set(key, value);
  }
  for (const auto& [key, value] : edit.set_keys) writer.set(key, value);
  for (const gguf::TensorInfo& tensor : source.tensors()) {
    if (edit.remove_tensors.count(tensor.name) > 0) continue;
    const auto replacement = edit.replace_tensors.find(tensor.name);
    if (replacement == edit.replace_tensors.end()) {
      const auto bytes = tensor.bytes();
      writer.add_tensor(tensor.name, tensor.type, tensor.dims, {bytes.begin(), bytes.end()});
      continue;
    }
    GgufEdit::Replacement changed = replacement->second;
    if (changed.data.empty()) {
      uint64_t elements = 1;
      for (uint64_t dim : changed.dims) elements *= dim;
      const auto layout = type_layout(static_cast<uint32_t>(changed.type));
      changed.data.assign(elements / layout->block_size * layout->block_bytes, 0);
    }
    writer.add_tensor(tensor.name, changed.type, changed.dims, std::move(changed.data));
  }
  return writer.to_bytes();
}

std::vector<uint8_t> edited_random_model(const RandomModelSpec& spec, const GgufEdit& edit) {
  const std::vector<uint8_t> original = build_random_model(spec).to_bytes();
  return edited_gguf(gguf::GgufFile::parse(original), edit);
}

std::vector<int32_t> random_tokens(int n, int n_vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int32_t& token : tokens)
    token = static_cast<int32_t>(rng() % static_cast<uint64_t>(n_vocab));
  return tokens;
}

double max_relative_difference(std::span<const float> actual, std::span<const double> expected) {
  double max_difference = 0, max_expected = 0;
  const size_t n = std::min(actual.size(), expected.size());
  for (size_t i = 0; i < n; ++i) {
    max_difference =
        std::max(max_difference, std::abs(static_cast<double>(actual[i]) - expected[i]));
    max_expected = std::max(max_expected, std::abs(expected[i]));
  }
  if (actual.size() != expected.size()) return INFINITY;
  return max_expected > 0 ? max_difference / max_expected : max_difference;
}

double max_relative_difference(std::span<const float> actual, std::span<const float> expected) {
  const std::vector<double> widened(expected.begin(), expected.end());
  return max_relative_difference(actual, std::span<const double>(widened));
}

}  // namespace moe::testing
