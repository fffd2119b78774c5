// The figures of a corpus profile's metrics hold the metrics' numbers.
#include <gtest/gtest.h>

#include "moe/plot/profile_figures.hpp"

TEST(ProfileFigures, CacheCurveHasOneLinePerPolicy) {
  moe::ProfileLayerMetrics layer;
  layer.layer = 3;
  layer.cache = {{1, 2, 3}, {0.0, 1.0 / 6, 0.5}, {0.0, 2.0 / 6, 0.5}};
  const moe::plot::Figure figure = moe::plot::expert_cache_figure(layer, 1);
  ASSERT_EQ(figure.lines.size(), 2u);
  EXPECT_EQ(figure.lines[0].xs, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(figure.lines[0].ys, layer.cache.lru);
  EXPECT_EQ(figure.lines[1].ys, layer.cache.belady);
  EXPECT_EQ(figure.lines[1].label, "Belady (optimal)");
  EXPECT_NE(figure.title.find("layer 3"), std::string::npos);
}

TEST(ProfileFigures, RepetitionBarsAndRandomBaselines) {
  moe::ProfileMetrics metrics;
  for (int layer : {0, 2}) {
    moe::ProfileLayerMetrics m;
    m.layer = layer;
    m.repetition.same_top1 = 0.25 + layer * 0.1;
    m.repetition.sets_intersect = 0.75;
    m.repetition.random_same_top1 = 0.125;
    m.repetition.random_sets_intersect = 13.0 / 28;
    metrics.layers.push_back(m);
  }
  const moe::plot::Figure figure = moe::plot::repetition_figure(metrics);
  ASSERT_EQ(figure.bars.size(), 4u);
  EXPECT_DOUBLE_EQ(figure.bars[2].y1, 0.45);  // layer 2's same top-1
  EXPECT_DOUBLE_EQ(figure.bars[3].y1, 0.75);
  ASSERT_EQ(figure.lines.size(), 2u);
  EXPECT_DOUBLE_EQ(figure.lines[0].ys[0], 0.125);
  EXPECT_DOUBLE_EQ(figure.lines[1].ys[0], 13.0 / 28);
  EXPECT_TRUE(figure.lines[1].dashed);
}

namespace {

moe::ProfileMetrics two_layer_metrics() {
  moe::ProfileMetrics metrics;
  metrics.esft_share = 0.5;
  for (int layer : {0, 2}) {
    moe::ProfileLayerMetrics m;
    m.layer = layer;
    m.vocabulary_by_input.mean_share = 0.4 + layer * 0.1;
    m.vocabulary_by_next.mean_share = 0.3;
    m.next_layer_nmi = layer == 0 ? 0.42 : 0.0;
    m.reap_saliency = {0.5, 2.0, 1.25};
    m.esft_set.experts = layer == 0 ? std::vector<int>{1} : std::vector<int>{0, 2};
    metrics.layers.push_back(m);
  }
  return metrics;
}

}  // namespace

TEST(ProfileFigures, VocabularyBarsPerKeyWithTheUniformBaseline) {
  const moe::plot::Figure figure = moe::plot::vocabulary_figure(two_layer_metrics(), 2, 8);
  ASSERT_EQ(figure.bars.size(), 4u);
  EXPECT_DOUBLE_EQ(figure.bars[0].y1, 0.4);
  EXPECT_DOUBLE_EQ(figure.bars[1].y1, 0.3);
  EXPECT_DOUBLE_EQ(figure.bars[2].y1, 0.6);
  ASSERT_EQ(figure.lines.size(), 1u);
  EXPECT_DOUBLE_EQ(figure.lines[0].ys[0], 0.25);  // k/E
  EXPECT_EQ(figure.x.ticks.size(), 2u);
  // With the predicted-token table, a third bar per layer.
  moe::ProfileMetrics predicted = two_layer_metrics();
  for (moe::ProfileLayerMetrics& layer : predicted.layers) {
    layer.vocabulary_by_predicted = {0.9, 12};
  }
  const moe::plot::Figure three = moe::plot::vocabulary_figure(predicted, 2, 8);
  ASSERT_EQ(three.bars.size(), 6u);
  EXPECT_DOUBLE_EQ(three.bars[2].y1, 0.9);
  EXPECT_EQ(three.legend.size(), 3u);
}

TEST(ProfileFigures, ConsistencyHasOneBarPerLayerPair) {
  const moe::plot::Figure figure = moe::plot::consistency_figure(two_layer_metrics());
  ASSERT_EQ(figure.bars.size(), 1u);  // L0 -> L2; the last layer has no next one
  EXPECT_DOUBLE_EQ(figure.bars[0].y1, 0.42);
  EXPECT_EQ(figure.x.ticks.at(0).label, "L0");
}

TEST(ProfileFigures, ReapBarsPerExpertAndEsftSetSizes) {
  const moe::ProfileMetrics metrics = two_layer_metrics();
  const moe::plot::Figure reap = moe::plot::reap_figure(metrics.layers[1]);
  ASSERT_EQ(reap.bars.size(), 3u);
  EXPECT_DOUBLE_EQ(reap.bars[1].y1, 2.0);
  EXPECT_GE(reap.y.max, 2.0);
  EXPECT_NE(reap.title.find("layer 2"), std::string::npos);
  const moe::plot::Figure esft = moe::plot::esft_figure(metrics, 3);
  ASSERT_EQ(esft.bars.size(), 2u);
  EXPECT_DOUBLE_EQ(esft.bars[0].y1, 1.0);
  EXPECT_DOUBLE_EQ(esft.bars[1].y1, 2.0);
  EXPECT_DOUBLE_EQ(esft.y.max, 3.0);
  EXPECT_NE(esft.notes.at(0).find("50%"), std::string::npos);
}
