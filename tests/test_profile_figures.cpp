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
