// Loading with a memory estimate, progress and cancellation (moe/model_loading.hpp).
#include <gtest/gtest.h>

#include <vector>

#include "model_fixtures.hpp"
#include "moe/model_loading.hpp"

namespace moe {
namespace {

RandomModelSpec small_spec() {
  RandomModelSpec spec;
  spec.n_embd = 128;
  spec.n_ff_exp = 256;
  spec.n_layer = 3;
  return spec;
}

uint64_t tensor_bytes(const Model& model) {
  uint64_t total = 0;
  for (const gguf::TensorInfo& tensor : model.file().tensors()) total += tensor.n_bytes;
  return total;
}

TEST(ModelLoading, ProgressRisesToTheWeightBytesAndEndsComplete) {
  testing::TempModelFile file(small_spec());
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  const LoadResult result = load_model_with_progress(file.path(), 0, [&](uint64_t done, uint64_t total) {
    calls.emplace_back(done, total);
    return true;
  });
  ASSERT_NE(result.model, nullptr);
  const uint64_t weights = tensor_bytes(*result.model);
  ASSERT_GE(calls.size(), 2u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, weights);
    EXPECT_LE(calls[i].first, weights);
    if (i > 0) {
      EXPECT_GE(calls[i].first, calls[i - 1].first) << "progress went backwards";
    }
  }
  EXPECT_EQ(calls.back().first, weights);
  EXPECT_TRUE(result.warning.empty()) << "a model of a few MB fits in memory";
}

TEST(ModelLoading, CancelThrowsLoadCancelled) {
  testing::TempModelFile file(small_spec());
  int calls = 0;
  EXPECT_THROW(load_model_with_progress(file.path(), 0,
                                        [&](uint64_t, uint64_t) {
                                          ++calls;
                                          return false;
                                        }),
               LoadCancelled);
  EXPECT_EQ(calls, 1) << "the first report already asked to stop";
}

TEST(ModelLoading, BadFileIsAnErrorNotACancel) {
  const auto path = testing::unique_temp_path("not-a-model", ".gguf");
  {
    std::FILE* out = std::fopen(path.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    std::fputs("this is not a GGUF file", out);
    std::fclose(out);
  }
  try {
    load_model_with_progress(path, 0, {});
    FAIL() << "a text file loaded as a model";
  } catch (const LoadCancelled&) {
    FAIL() << "a bad file reported as cancelled";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(path.filename().string()), std::string::npos)
        << error.what();
  }
  std::filesystem::remove(path);
}

TEST(ModelLoading, EstimateCountsWeightsAndKvCache) {
  RandomModelSpec spec = small_spec();
  testing::TempModelFile file(spec);
  const auto model = file.load();
  const MemoryEstimate estimate = estimate_memory(*model, 100);
  const ModelConfig& config = model->config();
  EXPECT_EQ(estimate.weight_bytes, tensor_bytes(*model));
  EXPECT_EQ(estimate.n_ctx, 100);
  EXPECT_EQ(estimate.kv_cache_bytes, 100ull * config.n_layer * config.n_head_kv *
                                         (config.head_dim + config.head_dim_v) * sizeof(float));
  EXPECT_GT(estimate.memory_total_bytes, 0u) << "/proc/meminfo is readable on Linux";
  EXPECT_FALSE(estimate.exceeds_memory());

  MemoryEstimate huge = estimate;
  huge.memory_available_bytes = estimate.weight_bytes / 2;
  EXPECT_TRUE(huge.exceeds_memory());
  EXPECT_NE(huge.summary().find("available"), std::string::npos);
  EXPECT_EQ(estimate_memory(*model, 0).n_ctx, std::min(config.n_ctx_train, 4096));
}

TEST(ModelLoading, HumanBytes) {
  EXPECT_EQ(human_bytes(812), "812 B");
  EXPECT_EQ(human_bytes(64ull << 20), "64.0 MB");
  EXPECT_EQ(human_bytes(3ull << 29), "1.5 GB");
}

}  // namespace
}  // namespace moe
