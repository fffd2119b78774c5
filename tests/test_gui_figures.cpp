// The figure builders the GUI panels (and later the exporter) draw: counts of bars and cells and
// their values, from a small hand-made routing trace whose statistics are known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "moe/plot/aggregate_figures.hpp"
#include "moe/plot/model_figures.hpp"
#include "moe/plot/routing_figures.hpp"

namespace {

using moe::RoutingRecord;
using moe::RoutingTrace;
namespace plot = moe::plot;

RoutingRecord record(std::vector<float> probs, std::vector<int32_t> experts,
                     std::vector<float> weights) {
  RoutingRecord r;
  r.logits.resize(probs.size());
  for (size_t i = 0; i < probs.size(); ++i) r.logits[i] = std::log(probs[i]);
  r.probs = std::move(probs);
  r.experts = std::move(experts);
  r.weights = std::move(weights);
  return r;
}

// 3 tokens, MoE layers 0 and 2 (layer 1 dense), 4 experts, top-2.
RoutingTrace make_trace() {
  RoutingTrace trace(3, 4, 2, {0, 2});
  trace.set(0, 0, record({0.5f, 0.3f, 0.1f, 0.1f}, {0, 1}, {0.625f, 0.375f}));
  trace.set(1, 0, record({0.4f, 0.1f, 0.4f, 0.1f}, {0, 2}, {0.5f, 0.5f}));
  trace.set(2, 0, record({0.6f, 0.2f, 0.1f, 0.1f}, {0, 1}, {0.75f, 0.25f}));
  trace.set(0, 2, record({0.1f, 0.1f, 0.2f, 0.6f}, {3, 2}, {0.75f, 0.25f}));
  trace.set(1, 2, record({0.1f, 0.5f, 0.1f, 0.3f}, {1, 3}, {0.625f, 0.375f}));
  trace.set(2, 2, record({0.1f, 0.1f, 0.2f, 0.6f}, {3, 2}, {0.75f, 0.25f}));
  return trace;
}

int count_outlined(const std::vector<plot::Rect>& rects) {
  return static_cast<int>(
      std::count_if(rects.begin(), rects.end(), [](const plot::Rect& r) { return r.outlined; }));
}

TEST(GuiFigures, ExpertLoadHasABarPerExpertAndTheUniformLine) {
  const RoutingTrace trace = make_trace();
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  const plot::Figure figure = plot::expert_load_figure(stats, 0, plot::LoadMeasure::TokenCount);
  ASSERT_EQ(figure.bars.size(), 4u);
  // Layer 0: expert 0 chosen 3 times, expert 1 twice, expert 2 once, expert 3 never.
  EXPECT_DOUBLE_EQ(figure.bars[0].y1, 3);
  EXPECT_DOUBLE_EQ(figure.bars[1].y1, 2);
  EXPECT_DOUBLE_EQ(figure.bars[2].y1, 1);
  EXPECT_DOUBLE_EQ(figure.bars[3].y1, 0);
  EXPECT_EQ(figure.bars[2].column, 2);
  EXPECT_EQ(figure.bars[2].fill, plot::expert_color(2));  // the expert keeps its colour
  ASSERT_EQ(figure.lines.size(), 1u);
  EXPECT_DOUBLE_EQ(figure.lines[0].ys[0], 6.0 / 4);  // 3 tokens x top-2 over 4 experts
  EXPECT_TRUE(figure.lines[0].dashed);
  EXPECT_GE(figure.y.max, 3);
  ASSERT_FALSE(figure.notes.empty());
  EXPECT_NE(figure.notes[0].find("unused 25%"), std::string::npos) << figure.notes[0];

  const plot::Figure mass = plot::expert_load_figure(stats, 0, plot::LoadMeasure::GateMass);
  EXPECT_NEAR(mass.bars[0].y1, 0.625 + 0.5 + 0.75, 1e-6);
  EXPECT_NEAR(mass.lines[0].ys[0], 3.0 / 4, 1e-6);  // gate weights of a token sum to 1
}

TEST(GuiFigures, LoadHeatmapHasALayerByExpertGridOfShares) {
  const moe::RoutingStats stats = moe::compute_routing_stats(make_trace());
  const plot::Figure figure = plot::load_heatmap_figure(stats, 2);
  ASSERT_EQ(figure.cells.size(), 2u * 4u);
  ASSERT_TRUE(figure.color_scale.has_value());
  // Row 1 (layer 2), expert 3: chosen by all three tokens.
  const auto it = std::find_if(figure.cells.begin(), figure.cells.end(),
                               [](const plot::Rect& c) { return c.row == 1 && c.column == 3; });
  ASSERT_NE(it, figure.cells.end());
  EXPECT_DOUBLE_EQ(it->value, 1.0);
  // The cell shows the share its colour stands for (issue 16); the count is in the tooltip.
  EXPECT_EQ(it->text, "1.00");
  EXPECT_NE(it->tooltip.find("3 of 3 tokens"), std::string::npos) << it->tooltip;
  EXPECT_EQ(figure.y.ticks.size(), 2u);
  EXPECT_EQ(figure.y.ticks[1].label, "L2");
  EXPECT_TRUE(figure.y.reversed);
}

TEST(GuiFigures, RouterScoresMarkTheTopKWithTheirWeights) {
  const RoutingTrace trace = make_trace();
  const plot::Figure figure = plot::router_scores_figure(trace, 1, 0, "b");
  ASSERT_EQ(figure.bars.size(), 4u);
  EXPECT_FLOAT_EQ(static_cast<float>(figure.bars[2].y1), 0.4f);
  EXPECT_EQ(count_outlined(figure.bars), 2);
  EXPECT_TRUE(figure.bars[0].outlined);
  EXPECT_TRUE(figure.bars[2].outlined);
  ASSERT_EQ(figure.annotations.size(), 2u);
  EXPECT_EQ(figure.annotations[0].text, "w 0.50");
  EXPECT_DOUBLE_EQ(figure.lines[0].ys[0], 0.25);  // uniform 1/E

  const plot::Figure none = plot::router_scores_figure(trace, 7, 0, "");
  EXPECT_TRUE(none.bars.empty());
}

TEST(GuiFigures, RouterHeatmapHasATokenByExpertGridAndFramesTheSelection) {
  const RoutingTrace trace = make_trace();
  const plot::Figure figure = plot::router_heatmap_figure(trace, 2, {"a", "b", "c"}, 1);
  ASSERT_EQ(figure.cells.size(), 3u * 4u);
  EXPECT_EQ(count_outlined(figure.cells), 3 * 2);
  ASSERT_EQ(figure.lines.size(), 1u);  // the selected row's frame
  EXPECT_DOUBLE_EQ(figure.lines[0].ys[0], 1);
  EXPECT_EQ(figure.y.ticks[2].label, "c");
  const auto cell = std::find_if(figure.cells.begin(), figure.cells.end(),
                                 [](const plot::Rect& c) { return c.row == 1 && c.column == 1; });
  ASSERT_NE(cell, figure.cells.end());
  EXPECT_FLOAT_EQ(static_cast<float>(cell->value), 0.5f);
  EXPECT_TRUE(cell->outlined);

  const plot::Figure unselected = plot::router_heatmap_figure(trace, 2, {"a", "b", "c"}, -1);
  EXPECT_TRUE(unselected.lines.empty());
}

TEST(GuiFigures, TokenPathHasALayerByExpertGridAndJoinsTheFirstChoices) {
  const RoutingTrace trace = make_trace();
  const plot::Figure figure = plot::token_path_figure(trace, 1, "b");
  ASSERT_EQ(figure.cells.size(), 2u * 4u);  // two MoE layers (the dense layer has no row)
  EXPECT_EQ(count_outlined(figure.cells), 2 * 2);
  ASSERT_EQ(figure.lines.size(), 1u);
  ASSERT_EQ(figure.lines[0].xs.size(), 2u);
  EXPECT_DOUBLE_EQ(figure.lines[0].xs[0], 0.5);  // expert 0 first at layer 0
  EXPECT_DOUBLE_EQ(figure.lines[0].xs[1], 1.5);  // expert 1 first at layer 2
  const auto chosen = std::find_if(figure.cells.begin(), figure.cells.end(),
                                   [](const plot::Rect& c) { return c.row == 1 && c.column == 3; });
  EXPECT_DOUBLE_EQ(chosen->value, 0.375);  // its gate weight
  EXPECT_LT(figure.cells[3].fill.a, chosen->fill.a + 1e-6f);
}

TEST(GuiFigures, CoactivationCountsPairsAndTheDiagonalCountsChoices) {
  const moe::RoutingStats stats = moe::compute_routing_stats(make_trace());
  const plot::Figure figure = plot::coactivation_figure(stats, 0);
  ASSERT_EQ(figure.cells.size(), 16u);
  const auto at = [&](int a, int b) {
    return std::find_if(figure.cells.begin(), figure.cells.end(),
                        [&](const plot::Rect& c) { return c.row == a && c.column == b; })
        ->value;
  };
  EXPECT_DOUBLE_EQ(at(0, 1), 2);  // tokens 0 and 2
  EXPECT_DOUBLE_EQ(at(1, 0), 2);
  EXPECT_DOUBLE_EQ(at(0, 2), 1);
  EXPECT_DOUBLE_EQ(at(0, 0), 3);  // expert 0 chosen by all three
  EXPECT_DOUBLE_EQ(at(2, 3), 0);
}

TEST(GuiFigures, TransitionsCountAndNormalizeRows) {
  const moe::RoutingStats stats = moe::compute_routing_stats(make_trace());
  const plot::Figure counts = plot::transitions_figure(stats, 0, false);
  ASSERT_EQ(counts.cells.size(), 16u);
  const auto value = [](const plot::Figure& figure, int a, int b) {
    return std::find_if(figure.cells.begin(), figure.cells.end(),
                        [&](const plot::Rect& c) { return c.row == a && c.column == b; })
        ->value;
  };
  EXPECT_DOUBLE_EQ(value(counts, 0, 3), 3);  // every token had 0 at layer 0 and 3 at layer 2
  EXPECT_DOUBLE_EQ(value(counts, 1, 2), 2);
  const plot::Figure normalized = plot::transitions_figure(stats, 0, true);
  for (int a = 0; a < 3; ++a) {
    double row = 0;
    for (int b = 0; b < 4; ++b) row += value(normalized, a, b);
    EXPECT_NEAR(row, 1.0, 1e-9) << "row " << a;
  }
  EXPECT_TRUE(plot::transitions_figure(stats, 1, false).cells.empty());  // no layer after the last
}

// ---- honest figures (issue 16): what a figure says agrees with what it draws ----

// A cell's text as the number it stands for ("0.25" -> 0.25, "25%" -> 0.25).
double number_in(const std::string& text) {
  const bool percent = !text.empty() && text.back() == '%';
  return std::stod(percent ? text.substr(0, text.size() - 1) : text) / (percent ? 100 : 1);
}

TEST(HonestFigures, UtilizationCellsColourBarAndSubtitleAllSpeakOfShares) {
  const moe::RoutingStats stats = moe::compute_routing_stats(make_trace());
  const plot::Figure figure = plot::load_heatmap_figure(stats, 2);
  ASSERT_TRUE(figure.color_scale.has_value());
  EXPECT_NE(figure.color_scale->label.find("share"), std::string::npos);
  ASSERT_FALSE(figure.notes.empty());
  EXPECT_NE(figure.notes[0].find("share"), std::string::npos) << figure.notes[0];
  for (const plot::Rect& cell : figure.cells) {
    ASSERT_FALSE(cell.text.empty());
    EXPECT_NEAR(number_in(cell.text), cell.value, 0.005)
        << "cell text '" << cell.text << "' is not the share its colour shows";
    EXPECT_LE(cell.value, figure.color_scale->max + 1e-9);
  }
}

TEST(HonestFigures, DomainCellsAndColourBarUseTheSameUnit) {
  const RoutingTrace trace = make_trace();
  const std::vector<plot::DomainStats> domains = {{"a", moe::compute_routing_stats(trace, 0, 2)},
                                                  {"b", moe::compute_routing_stats(trace, 2, 1)}};
  const plot::Figure figure = plot::domain_expert_figure(domains, 0, 2);
  ASSERT_TRUE(figure.color_scale.has_value());
  ASSERT_GE(figure.color_scale->ticks.size(), 2u);
  for (const plot::Rect& cell : figure.cells) {
    ASSERT_EQ(cell.text.back(), '%') << cell.text;
    EXPECT_NEAR(number_in(cell.text), cell.value, 0.005);
  }
  for (const plot::Tick& tick : figure.color_scale->ticks) {
    ASSERT_FALSE(tick.label.empty());
    EXPECT_EQ(tick.label.back(), '%') << "colour bar tick '" << tick.label << "' beside % cells";
    EXPECT_NEAR(number_in(tick.label), tick.value, 1e-9);
  }
}

TEST(HonestFigures, RouterLegendShowsTheOutlineNotTheFirstExpertsColour) {
  const plot::Figure figure = plot::router_scores_figure(make_trace(), 1, 0, "b");
  const auto chosen = std::find_if(
      figure.legend.begin(), figure.legend.end(),
      [](const plot::LegendEntry& e) { return e.label.find("chosen") != std::string::npos; });
  ASSERT_NE(chosen, figure.legend.end());
  // Chosen bars keep their experts' colours: the swatch shows what marks them, the outline.
  EXPECT_FALSE(chosen->color.has_value()) << "the swatch is filled with one expert's colour";
  EXPECT_TRUE(chosen->outlined);
}

// Token 0 at layer 0 chose experts 0 and 2 but expert 2 was full (capacity routing).
RoutingTrace trace_with_a_dropped_choice() {
  RoutingTrace trace = make_trace();
  RoutingRecord dropped = record({0.5f, 0.1f, 0.3f, 0.1f}, {0}, {0.625f});
  dropped.dropped = {2};
  trace.set(0, 0, dropped);
  return trace;
}

TEST(HonestFigures, CapacityDropsAreMarkedInEveryRouterFigure) {
  const RoutingTrace trace = trace_with_a_dropped_choice();
  const auto has_dropped_legend = [](const plot::Figure& figure) {
    return std::any_of(figure.legend.begin(), figure.legend.end(), [](const plot::LegendEntry& e) {
      return e.label.find("dropped") != std::string::npos && e.crossed;
    });
  };
  const plot::Figure scores = plot::router_scores_figure(trace, 0, 0, "a");
  ASSERT_EQ(scores.bars.size(), 4u);
  EXPECT_TRUE(scores.bars[2].crossed) << "the dropped choice is marked";
  EXPECT_FALSE(scores.bars[2].outlined) << "it did not run";
  EXPECT_NE(scores.bars[2].tooltip.find("dropped"), std::string::npos);
  EXPECT_FALSE(scores.bars[1].crossed);
  EXPECT_TRUE(has_dropped_legend(scores));

  const plot::Figure heatmap = plot::router_heatmap_figure(trace, 0, {"a", "b", "c"}, -1);
  const auto cell = std::find_if(heatmap.cells.begin(), heatmap.cells.end(),
                                 [](const plot::Rect& c) { return c.row == 0 && c.column == 2; });
  ASSERT_NE(cell, heatmap.cells.end());
  EXPECT_TRUE(cell->crossed);
  EXPECT_TRUE(has_dropped_legend(heatmap));

  const plot::Figure path = plot::token_path_figure(trace, 0, "a");
  const auto step = std::find_if(path.cells.begin(), path.cells.end(),
                                 [](const plot::Rect& c) { return c.row == 0 && c.column == 2; });
  ASSERT_NE(step, path.cells.end());
  EXPECT_TRUE(step->crossed);
  EXPECT_TRUE(has_dropped_legend(path));

  // Without drops, no such legend entry.
  EXPECT_FALSE(has_dropped_legend(plot::router_scores_figure(make_trace(), 0, 0, "a")));
}

TEST(HonestFigures, OneTokenAloneShowsNoBalanceNumbersButSaysWhy) {
  RoutingTrace bos_only(3, 4, 2, {0, 2});
  bos_only.set(0, 0, record({0.5f, 0.3f, 0.1f, 0.1f}, {0, 1}, {0.625f, 0.375f}));
  bos_only.set(0, 2, record({0.1f, 0.1f, 0.2f, 0.6f}, {3, 2}, {0.75f, 0.25f}));
  const moe::RoutingStats stats = moe::compute_routing_stats(bos_only);
  for (const plot::Figure& figure :
       {plot::expert_load_figure(stats, 0, plot::LoadMeasure::TokenCount),
        plot::layer_balance_figure(stats, 4)}) {
    std::string notes;
    for (const std::string& note : figure.notes) notes += note + "\n";
    EXPECT_EQ(notes.find("CV "), std::string::npos) << notes;
    EXPECT_EQ(notes.find("unused"), std::string::npos) << notes;
    EXPECT_NE(notes.find("prompt"), std::string::npos) << "says why: " << notes;
  }
  EXPECT_TRUE(plot::layer_balance_figure(stats, 4).lines.empty()) << "no balance curves either";
  // The utilization grid of one token is no picture of balance either: it says so too.
  const plot::Figure heatmap = plot::load_heatmap_figure(stats, 2);
  EXPECT_TRUE(std::any_of(heatmap.notes.begin(), heatmap.notes.end(), [](const std::string& n) {
    return n.find("prompt") != std::string::npos;
  }));
  const plot::Figure load = plot::expert_load_figure(stats, 0, plot::LoadMeasure::TokenCount);
  EXPECT_NE(load.title.find("(1 token)"), std::string::npos) << load.title;
}

TEST(HonestFigures, TheUniformLoadLabelIsTheHeightOfItsLine) {
  // One token, top-2 of 8 experts: the uniform load is 0.25, not "0.2".
  RoutingTrace trace(1, 8, 2, {0});
  trace.set(0, 0, record({0.3f, 0.2f, 0.1f, 0.1f, 0.1f, 0.1f, 0.05f, 0.05f}, {0, 1}, {0.6f, 0.4f}));
  const plot::Figure load =
      plot::expert_load_figure(moe::compute_routing_stats(trace), 0, plot::LoadMeasure::TokenCount);
  ASSERT_EQ(load.lines.size(), 1u);
  EXPECT_DOUBLE_EQ(load.lines[0].ys[0], 0.25);
  EXPECT_NE(load.legend.back().label.find("(0.25)"), std::string::npos) << load.legend.back().label;
}

TEST(GuiFigures, ExpertColoursAreDistinctAndStable) {
  for (int a = 0; a < 32; ++a) {
    for (int b = a + 1; b < 32; ++b)
      EXPECT_NE(plot::expert_color(a), plot::expert_color(b)) << a << " " << b;
  }
  EXPECT_EQ(plot::expert_color(5), plot::expert_color(5));
}

TEST(GuiFigures, NiceTicksAreRoundAndCoverTheRange) {
  const auto ticks = plot::nice_ticks(0, 7.3, 5);
  ASSERT_GE(ticks.size(), 4u);
  EXPECT_EQ(ticks.front().label, "0");
  EXPECT_EQ(ticks[1].label, "2");
  EXPECT_DOUBLE_EQ(plot::nice_ceiling(7.3), 8);
  EXPECT_EQ(plot::nice_ticks(0, 0.5, 5)[1].label, "0.1");
  EXPECT_EQ(plot::format_number(-0.0001, 2), "0.00");
}

TEST(GuiFigures, ComputeEstimateCountsOnlyActiveExperts) {
  moe::ModelConfig config;
  config.n_vocab = 100;
  config.n_embd = 8;
  config.n_layer = 2;
  config.n_head = 2;
  config.head_dim = 4;
  config.head_dim_v = 4;
  moe::ParameterCounts counts;
  counts.attention = 1000;
  counts.router = 10;
  counts.experts = 8000;
  counts.active_experts = 2000;
  counts.output = 800;
  counts.embedding = 800;
  counts.total = 10610;
  counts.active_per_token = 4610;
  const moe::ComputeEstimate estimate = moe::estimate_compute(config, counts, 10);
  EXPECT_EQ(estimate.moe_matmul_params, 1000u + 10u + 2000u + 800u);
  EXPECT_EQ(estimate.dense_matmul_params, 1000u + 8000u + 800u);
  EXPECT_DOUBLE_EQ(estimate.attention_flops, 2.0 * 2 * (4 + 4) * 10 * 2);
  EXPECT_LT(estimate.moe_flops, estimate.dense_flops);
  const plot::Figure flops = plot::flops_figure(estimate);
  ASSERT_EQ(flops.bars.size(), 2u);
  EXPECT_DOUBLE_EQ(flops.bars[0].value, estimate.moe_flops);
  const plot::Figure parameters = plot::parameters_figure(counts);
  EXPECT_FALSE(parameters.bars.empty());
  EXPECT_EQ(parameters.annotations.size(), 2u);
}

}  // namespace
