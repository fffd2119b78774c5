// Conformance: the tokenizer vectors in MOESCOPE_SHARED_DIR/vocab (see its README.md). For every
// NAME.gguf whose tokenizer model and pre-tokenizer we implement, each string of NAME.gguf.inp
// must encode to exactly the ids on its line of NAME.gguf.out and decode back to the string
// (SentencePiece: with the space it puts in front).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "moe/error.hpp"
#include "moe/gguf.hpp"
#include "moe/tokenizer.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kVocabDir = fs::path(MOESCOPE_SHARED_DIR) / "vocab";
// Vocabularies whose tokenizer model and pre-tokenizer are implemented: loading must not fail.
const std::set<std::string> kMustLoad = {"ggml-vocab-gpt-2", "ggml-vocab-starcoder",
                                         "ggml-vocab-deepseek-coder", "ggml-vocab-llama-spm"};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The strings of NAME.gguf.inp: separated by "\n__ggml_vocab_test__\n", one more at the end.
std::vector<std::string> read_inputs(const fs::path& path) {
  const std::string text = read_file(path);
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  size_t begin = 0;
  for (size_t at; (at = text.find(separator, begin)) != std::string::npos;
       begin = at + separator.size())
    inputs.push_back(text.substr(begin, at - begin));
  EXPECT_EQ(begin, text.size()) << path << " does not end with a separator";
  return inputs;
}

std::vector<std::vector<int32_t>> read_outputs(const fs::path& path) {
  std::istringstream text(read_file(path));
  std::vector<std::vector<int32_t>> outputs;
  for (std::string line; std::getline(text, line);) {
    std::istringstream numbers(line);
    std::vector<int32_t> ids;
    for (int32_t id; numbers >> id;) ids.push_back(id);
    outputs.push_back(std::move(ids));
  }
  return outputs;
}

std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20)
      out += "\\x" + std::to_string(c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

class VocabConformance : public testing::TestWithParam<std::string> {};

TEST_P(VocabConformance, EncodesAndDecodesEveryString) {
  const fs::path gguf_path = kVocabDir / (GetParam() + ".gguf");
  if (!fs::exists(gguf_path)) GTEST_SKIP() << "no " << gguf_path << " (shared vocab data absent)";

  const moe::gguf::GgufFile file = moe::gguf::GgufFile::open(gguf_path);
  std::optional<moe::Tokenizer> tokenizer;
  try {
    tokenizer.emplace(moe::Tokenizer::from_gguf(file));
  } catch (const moe::Error& e) {
    if (kMustLoad.count(GetParam()) != 0) FAIL() << e.what();
    GTEST_SKIP() << GetParam() << ": tokenizer not implemented: " << e.what();
  }

  const std::vector<std::string> inputs = read_inputs(fs::path(gguf_path.string() + ".inp"));
  const std::vector<std::vector<int32_t>> expected =
      read_outputs(fs::path(gguf_path.string() + ".out"));
  ASSERT_EQ(inputs.size(), expected.size());
  ASSERT_GT(inputs.size(), 10u);
  size_t passed = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> ids = tokenizer->encode(inputs[i]);
    EXPECT_EQ(ids, expected[i]) << "string #" << i << ": '" << printable(inputs[i]) << "'";
    // SentencePiece puts a space in front of the text; decoding keeps it.
    const bool space_prefix = tokenizer->model_name() == "llama" && !inputs[i].empty();
    EXPECT_EQ(tokenizer->decode(expected[i]), (space_prefix ? " " : "") + inputs[i])
        << "string #" << i;
    passed += ids == expected[i];
  }
  std::cout << GetParam() << ": " << passed << "/" << inputs.size() << " strings match\n";
}

INSTANTIATE_TEST_SUITE_P(SharedVectors, VocabConformance,
                         testing::Values("ggml-vocab-gpt-2", "ggml-vocab-starcoder",
                                         "ggml-vocab-deepseek-coder", "ggml-vocab-llama-spm"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(std::string("ggml-vocab-").size());
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

// The pre-tokenizers of the 2025-26 MoE models (gpt-oss's and Llama 4's gpt-4o / o200k, GLM-4's,
// Hunyuan's, Grok-2's, Ling's bailingmoe2): the gpt-2 vocabulary relabelled with each
// pre-tokenizer must encode the strings of tests/data/pretokenizers as llama.cpp b8967 does
// (see the README there). The merges are gpt-2's, so only the pre-tokenizer differs.
class PreTokenizerConformance : public testing::TestWithParam<std::string> {};

TEST_P(PreTokenizerConformance, EncodesAsLlamaCpp) {
  const fs::path gguf_path = kVocabDir / "ggml-vocab-gpt-2.gguf";
  if (!fs::exists(gguf_path)) GTEST_SKIP() << "no " << gguf_path << " (shared vocab data absent)";
  moe::TokenizerVocab vocab = moe::read_tokenizer_vocab(moe::gguf::GgufFile::open(gguf_path));
  vocab.pre = GetParam();
  const moe::Tokenizer tokenizer(std::move(vocab));
  const fs::path data = fs::path(MOESCOPE_SOURCE_DIR) / "tests" / "data" / "pretokenizers";
  const std::vector<std::string> inputs = read_inputs(data / "inputs.inp");
  const std::vector<std::vector<int32_t>> expected = read_outputs(data / (GetParam() + ".out"));
  ASSERT_EQ(inputs.size(), expected.size());
  ASSERT_GT(inputs.size(), 50u);
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(tokenizer.encode(inputs[i]), expected[i])
        << GetParam() << " string #" << i << ": '" << printable(inputs[i]) << "'";
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaCppVectors, PreTokenizerConformance,
                         testing::Values("gpt-4o", "llama4", "glm4", "hunyuan", "grok-2",
                                         "bailingmoe2"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(VocabConformance, SharedFolderIsPresent) {
  if (!fs::exists(kVocabDir)) GTEST_SKIP() << "shared vocab folder " << kVocabDir << " is absent";
  size_t gguf_files = 0;
  for (const auto& entry : fs::directory_iterator(kVocabDir))
    gguf_files += entry.path().extension() == ".gguf";
  EXPECT_GE(gguf_files, 1u);
}

}  // namespace
