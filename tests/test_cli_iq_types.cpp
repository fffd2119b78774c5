// A model whose matrices mix the IQ and TQ types (as llama-quantize's mixes and "dynamic" quants
// do) through the command line: `info` names each type with its tensor count, `route` runs it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "model_fixtures.hpp"
#include "moe/random_model.hpp"
#include "random_quant.hpp"

namespace {

using moe::GgmlType;

// Every matrix but the routers in one of `types`, in turn; returns the file's path.
std::filesystem::path write_mixed_model(const std::vector<GgmlType>& types) {
  moe::RandomModelSpec spec;
  spec.n_embd = 256, spec.n_layer = 2, spec.n_head = 4, spec.n_head_kv = 2;
  spec.n_expert = 8, spec.n_expert_used = 2, spec.n_ff_exp = 256, spec.n_ff = 256;
  spec.seed = 91;
  const std::vector<uint8_t> original = moe::build_random_model(spec).to_bytes();
  const auto source = moe::gguf::GgufFile::parse(original);
  moe::testing::GgufEdit edit;
  std::mt19937_64 rng(spec.seed);
  size_t next = 0;
  for (const auto& tensor : source.tensors()) {
    if (tensor.dims.size() < 2 || tensor.name.find("ffn_gate_inp") != std::string::npos) continue;
    const GgmlType type = types[next++ % types.size()];
    const double stddev = 1.0 / std::sqrt(static_cast<double>(tensor.dims[0]));
    edit.replace_tensors[tensor.name] = {
        type, tensor.dims, moe::testing::random_quantized(type, tensor.n_elements, stddev, rng)};
  }
  const std::vector<uint8_t> bytes = moe::testing::edited_gguf(source, edit);
  const auto path = moe::testing::unique_temp_path("cli_iq_types", ".gguf");
  FILE* out = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), out);
  std::fclose(out);
  return path;
}

TEST(CliIqTypes, InfoNamesTheTypesAndRouteRuns) {
  const std::vector<GgmlType> types = {
      GgmlType::IQ4_XS, GgmlType::IQ4_NL, GgmlType::IQ3_XXS, GgmlType::IQ3_S,
      GgmlType::IQ2_XXS, GgmlType::IQ2_XS, GgmlType::IQ2_S,  GgmlType::IQ1_S,
      GgmlType::IQ1_M,  GgmlType::TQ1_0,  GgmlType::TQ2_0};
  const auto path = write_mixed_model(types);
  const moe::testing::CommandResult info = moe::testing::run_cli("info " + path.string());
  EXPECT_EQ(info.exit_code, 0) << info.err;
  const size_t line = info.out.find("Tensor types");
  ASSERT_NE(line, std::string::npos) << info.out;
  const std::string listed = info.out.substr(line, info.out.find('\n', line) - line);
  for (GgmlType type : types)
    EXPECT_NE(listed.find(moe::type_name(type) + " x"), std::string::npos) << listed;

  const moe::testing::CommandResult route =
      moe::testing::run_cli("route " + path.string() + " -p 'hello world' --json");
  EXPECT_EQ(route.exit_code, 0) << route.err;
  EXPECT_NE(route.out.find("\"experts\""), std::string::npos) << route.out.substr(0, 400);
  std::filesystem::remove(path);
}

}  // namespace
