// libFuzzer target for the GGUF reader: any input must parse, with every tensor view inside the
// input, or throw moe::Error. Another exception, a crash or a sanitizer report is a finding.
//
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DMOESCOPE_FUZZ=ON
//   cmake --build build-fuzz --target gguf_fuzz
//   build-fuzz/bin/gguf_fuzz -max_total_time=120 -max_len=8192 CORPUS_DIR
//
// Seeds are not committed: on its first run (when libFuzzer passes no corpus inputs that parse)
// the target still starts from valid files, because LLVMFuzzerInitialize writes a few with the
// GgufWriter into the first corpus directory given on the command line, if any.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "moe/error.hpp"
#include "moe/ggml_types.hpp"
#include "moe/gguf.hpp"

namespace {

using moe::GgmlType;
using moe::gguf::GgufWriter;
using moe::gguf::Value;
using moe::gguf::ValueType;

std::vector<std::vector<uint8_t>> seed_files() {
  std::vector<std::vector<uint8_t>> seeds;
  {
    GgufWriter writer;
    writer.set_string("general.architecture", "mixtral");
    writer.set_u32("mixtral.expert_count", 8);
    writer.set_f32("mixtral.rope.freq_base", 1e6f);
    writer.set_bool("b", false);
    writer.set_string_array("tokenizer.ggml.tokens", {"<s>", "a", ""});
    writer.set_i32_array("tokenizer.ggml.token_type", {1, 2});
    writer.set("nested",
               Value::array(ValueType::ARRAY, {Value::array(ValueType::UINT16, {Value::u16(3)}),
                                               Value::array(ValueType::FLOAT64, {})}));
    const std::vector<float> values(64, 0.5f);
    writer.add_tensor_f32("a", {4, 2}, std::span(values).first(8));
    writer.add_tensor_f32("b", {32, 2}, values, GgmlType::Q8_0);
    writer.add_tensor_f32("c", {2, 2, 2, 2}, std::span(values).first(16), GgmlType::F16);
    seeds.push_back(writer.to_bytes());
  }
  {
    GgufWriter writer(64);
    writer.set("x", Value::i64(-1));
    writer.add_tensor_f32("t", {8}, std::vector<float>(8, 1.0f), GgmlType::BF16);
    seeds.push_back(writer.to_bytes());
  }
  {
    // One block of each quantized type the reader can convert, so the decoders get exercised.
    GgufWriter writer;
    for (auto type : {GgmlType::Q4_0, GgmlType::Q5_1, GgmlType::MXFP4, GgmlType::Q2_K,
                      GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
      const auto layout = *moe::type_layout(static_cast<uint32_t>(type));
      writer.add_tensor(moe::type_name(type), type, {layout.block_size},
                        std::vector<uint8_t>(layout.block_bytes, 0x11));
    }
    seeds.push_back(writer.to_bytes());
  }
  seeds.push_back(GgufWriter().to_bytes());
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // The first argument that names an existing directory is the corpus: add the seeds to it.
  for (int i = 1; i < *argc; ++i) {
    const char* arg = (*argv)[i];
    if (arg[0] == '-') continue;
    std::error_code error;
    if (!std::filesystem::is_directory(arg, error)) continue;
    int n = 0;
    for (const auto& seed : seed_files()) {
      const auto path = std::filesystem::path(arg) / ("seed-" + std::to_string(n++) + ".gguf");
      if (std::filesystem::exists(path, error)) continue;
      std::ofstream(path, std::ios::binary)
          .write(reinterpret_cast<const char*>(seed.data()),
                 static_cast<std::streamsize>(seed.size()));
    }
    break;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto file = moe::gguf::GgufFile::parse({data, size}, "fuzz.gguf");
    for (const auto& tensor : file.tensors()) {
      if (tensor.data < data || tensor.n_bytes > static_cast<uint64_t>(data + size - tensor.data)) {
        std::abort();  // a view outside the input
      }
      if (moe::is_supported_for_compute(tensor.type) && tensor.n_elements <= 4096) {
        std::vector<float> values(tensor.n_elements);
        moe::dequantize_row(tensor.type, tensor.data, values.data(),
                            static_cast<int64_t>(values.size()));
      }
    }
    for (const auto& [key, value] : file.metadata()) {
      if (file.find(key) != &value) std::abort();
    }
  } catch (const moe::Error&) {
    // Rejected with a message: the expected outcome for most inputs.
  }
  return 0;
}
