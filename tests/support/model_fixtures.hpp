#pragma once
// Test fixtures around generated models: temporary GGUF files, edited copies of a GGUF file
// (to provoke load errors), and numeric comparison helpers.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "moe/gguf.hpp"
#include "moe/model.hpp"
#include "moe/random_model.hpp"

namespace moe::testing {

// A random model written to a unique temporary file, removed again on destruction.
class TempModelFile {
public:
  explicit TempModelFile(const RandomModelSpec& spec);
  ~TempModelFile();
  TempModelFile(const TempModelFile&) = delete;
  TempModelFile& operator=(const TempModelFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::shared_ptr<const Model> load() const { return Model::load(path_); }

private:
  std::filesystem::path path_;
};

// A generated model for value-parameterized tests, under a label that test names and failure
// messages show (PrintTo) instead of the spec's bytes.
struct ModelCase {
  std::string label;
  RandomModelSpec spec;
};
void PrintTo(const ModelCase& model_case, std::ostream* out);

// A unique path in the temporary directory (not created).
std::filesystem::path unique_temp_path(const std::string& stem, const std::string& extension);

// What to change when copying a GGUF file.
struct GgufEdit {
  std::set<std::string> remove_keys{};
  std::vector<std::pair<std::string, gguf::Value>> set_keys{};
  std::set<std::string> remove_tensors{};
  struct Replacement {
    GgmlType type = GgmlType::F32;
    std::vector<uint64_t> dims;
    std::vector<uint8_t> data;  // zero-filled to the right size when empty
  };
  std::map<std::string, Replacement> replace_tensors{};
};

// The bytes of `source` with `edit` applied.
std::vector<uint8_t> edited_gguf(const gguf::GgufFile& source, const GgufEdit& edit);
// The bytes of a random model with `edit` applied.
std::vector<uint8_t> edited_random_model(const RandomModelSpec& spec, const GgufEdit& edit);

// n token ids drawn uniformly from [0, n_vocab) by a generator seeded with `seed`.
std::vector<int32_t> random_tokens(int n, int n_vocab, uint64_t seed);

// max |actual - expected| / max |expected|.
double max_relative_difference(std::span<const float> actual, std::span<const double> expected);
double max_relative_difference(std::span<const float> actual, std::span<const float> expected);

}  // namespace moe::testing
