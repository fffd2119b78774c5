// Two models on the same corpus: router saturation from both sessions' routing, load shares,
// total variation and the experts that shifted most; the difference figure stays readable when
// the models differ by tenths of a point.
#include <gtest/gtest.h>

#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/error.hpp"
#include "moe/model_comparison.hpp"
#include "moe/plot/comparison_figures.hpp"

namespace {

moe::ProfileModel shape(int n_expert, std::vector<int> layers) {
  moe::ProfileModel model;
  model.n_layer = 4;
  model.n_expert = n_expert;
  model.top_k = 1;
  model.moe_layers = std::move(layers);
  return model;
}

moe::CorpusProfile counted(std::vector<int64_t> counts) {
  moe::CorpusProfile profile = moe::make_corpus_profile(shape(4, {1}));
  profile.layers[0].token_counts = std::move(counts);
  return profile;
}

std::shared_ptr<const moe::Model> random_model(uint64_t seed, std::unique_ptr<moe::testing::TempModelFile>& file) {
  moe::RandomModelSpec spec;
  spec.n_layer = 2;
  spec.n_expert = 4;
  spec.n_expert_used = 2;
  spec.seed = seed;
  file = std::make_unique<moe::testing::TempModelFile>(spec);
  return file->load();
}

}  // namespace

TEST(ModelComparison, SharesDistanceAndLargestShiftsFromTwoProfiles) {
  // A: 40 20 20 20 slots; B: 10 30 30 30.
  const moe::CorpusComparison counts = moe::corpus_comparison_of(counted({40, 20, 20, 20}), counted({10, 30, 30, 30}));
  const moe::ModelComparison result = moe::compare_models(counts, 2);
  EXPECT_TRUE(result.saturation.empty());  // profiles hold no token-by-token choices
  ASSERT_EQ(result.total_variation.size(), 1u);
  // |0.1 - 0.4| + 3 x |0.3 - 0.2| = 0.6, halved.
  EXPECT_NEAR(result.total_variation[0], 0.3, 1e-12);
  ASSERT_EQ(result.largest_shifts.size(), 2u);
  EXPECT_EQ(result.largest_shifts[0].expert, 0);
  EXPECT_DOUBLE_EQ(result.largest_shifts[0].share_a, 0.4);
  EXPECT_DOUBLE_EQ(result.largest_shifts[0].share_b, 0.1);
  EXPECT_EQ(result.largest_shifts[1].expert, 1);  // ties keep expert order
  EXPECT_EQ(result.largest_shifts[1].layer, 1);
  EXPECT_THROW(moe::corpus_comparison_of(counted({1, 1, 1, 1}), moe::make_corpus_profile(shape(8, {1}))),
               moe::Error);
  EXPECT_THROW(moe::make_corpus_comparison(shape(4, {1}), shape(4, {0, 1})), moe::Error);
}

TEST(ModelComparison, SmallDifferencesKeepTheirDigitsInTheFigure) {
  const moe::ModelComparison result =
      moe::compare_models(moe::corpus_comparison_of(counted({1000, 1000, 1000, 1000}), counted({1016, 1000, 984, 1000})));
  const moe::plot::Figure figure = moe::plot::load_difference_figure(result.load, "f16", "q4_0");
  ASSERT_EQ(figure.cells.size(), 4u);
  EXPECT_EQ(figure.cells[0].text, "0.40");  // 25.40% - 25.00%, not "0"
  EXPECT_EQ(figure.cells[2].text, "-0.40");
}

TEST(ModelComparison, SaturationIsOneForAModelWithItselfAndLowerForAnother) {
  std::unique_ptr<moe::testing::TempModelFile> file_a, file_b;
  const auto model_a = random_model(1, file_a);
  const auto model_b = random_model(2, file_b);
  const auto backend = std::make_shared<moe::CpuBackend>(moe::CpuBackendOptions{1});
  moe::Session a(model_a, backend, moe::SessionOptions{.n_ctx = 16});
  moe::Session same(model_a, backend, moe::SessionOptions{.n_ctx = 16});
  moe::Session b(model_b, backend, moe::SessionOptions{.n_ctx = 16});
  const std::vector<int32_t> ids = moe::testing::random_tokens(40, model_a->config().n_vocab, 3);
  a.set_tokens(std::span<const int32_t>(ids.data(), 1));
  const moe::ProfileModel model = moe::profile_model_of(a.trace());

  moe::CorpusComparison itself = moe::make_corpus_comparison(model, model);
  EXPECT_EQ(moe::compare_document(itself, a, same, ids, "d"), 40);
  const moe::ModelComparison with_itself = moe::compare_models(itself);
  ASSERT_EQ(with_itself.saturation.size(), 2u);
  for (size_t m = 0; m < 2; ++m) {
    EXPECT_EQ(with_itself.saturation[m].tokens, 40);
    EXPECT_DOUBLE_EQ(with_itself.saturation[m].mean_overlap, 1.0);
    EXPECT_DOUBLE_EQ(with_itself.saturation[m].top1_agreement, 1.0);
    EXPECT_DOUBLE_EQ(with_itself.total_variation[m], 0.0);
  }

  moe::CorpusComparison other = moe::make_corpus_comparison(model, model);
  moe::compare_document(other, a, b, ids, "d");
  const moe::ModelComparison with_other = moe::compare_models(other);
  EXPECT_LT(with_other.saturation[0].mean_overlap, 1.0);
  EXPECT_GT(with_other.total_variation[0] + with_other.total_variation[1], 0.0);
  EXPECT_EQ(other.a.tokens, 40);  // three windows of at most 16, every token counted once
  EXPECT_EQ(other.b.layers[0].tokens, 40);
}
