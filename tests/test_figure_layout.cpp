// The one figure layout engine (moe/plot/layout.hpp), run on every kind of figure the app and
// the exporter draw, through a canvas that records what it is given and measures text like a
// monospace font. Checks that a canvas is given exactly the layout (the app's canvas and the
// files' canvases draw the same list), that the exported SVG holds every bar and cell the layout
// placed, and what would show as layout bugs: marks or text outside the canvas, hit regions
// that miss the cell they name, tick labels drawn over each other, a colour scale or legend
// that runs off the figure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "moe/compute_estimate.hpp"
#include "moe/plot/aggregate_figures.hpp"
#include "moe/plot/comparison_figures.hpp"
#include "moe/plot/export.hpp"
#include "moe/plot/layout.hpp"
#include "moe/plot/live_training_figures.hpp"
#include "moe/plot/model_figures.hpp"
#include "moe/plot/routing_figures.hpp"
#include "moe/plot/shared_scales.hpp"
#include "moe/plot/training_figures.hpp"
#include "moe/routing_stats.hpp"
#include "moe/token_words.hpp"
#include "synthetic_routing.hpp"

namespace fs = std::filesystem;
namespace plot = moe::plot;

namespace {

constexpr int kExperts = moe::testing::kSyntheticExperts;

// Records what it is asked to draw. Text is measured as a monospace font of `font_size` would
// be: every byte 0.6 em wide (titles a quarter larger), lines 1.2 em apart.
class RecordingCanvas final : public plot::Canvas {
public:
  explicit RecordingCanvas(double font_size) : font_size_(font_size) {}

  double size(plot::TextStyle style) const {
    return style == plot::TextStyle::Title ? font_size_ * 1.25 : font_size_;
  }
  double text_width(const std::string& text, plot::TextStyle style) override {
    return 0.6 * size(style) * static_cast<double>(text.size());
  }
  double ascent(plot::TextStyle style) override { return 0.9 * size(style); }
  double line_height(plot::TextStyle style) override { return 1.2 * size(style); }

  void fill(const plot::FillRect& p) override { drawn.emplace_back(p); }
  void stroke(const plot::StrokeRect& p) override { drawn.emplace_back(p); }
  void polyline(const plot::Polyline& p) override { drawn.emplace_back(p); }
  void circle(const plot::Circle& p) override { drawn.emplace_back(p); }
  void text(const plot::TextRun& p) override { drawn.emplace_back(p); }
  void gradient(const plot::Gradient& p) override { drawn.emplace_back(p); }

  std::vector<plot::Primitive> drawn;

private:
  double font_size_;
};

using moe::testing::synthetic_trace;

plot::TrainingLog training_log() {
  plot::TrainingLog log;
  log.name = "generated-moe";
  log.domains = {"english", "code", "french"};
  log.planned_steps = 60;
  log.batch_tokens = 128;
  for (int s = 1; s <= 60; ++s) {
    plot::TrainingStep step;
    step.step = s;
    step.tokens = 128 * s;
    step.loss = 7.0 * std::exp(-s / 30.0) + 0.3 * std::sin(s);
    step.lr = 1e-3;
    step.load_cv = 0.4 + 0.05 * std::cos(s);
    step.load_balance = 1.02 + 0.01 * std::sin(s);
    log.steps.push_back(step);
    if (s % 20 == 0) {
      plot::TrainingEval eval;
      eval.step = s;
      eval.tokens = 128 * s;
      eval.val_loss = {{"english", 5.0 - s / 30.0}, {"code", 4.0 - s / 40.0}, {"french", 4.5}};
      eval.val_loss_mean = 4.0;
      log.evals.push_back(eval);
    }
  }
  return log;
}

struct NamedFigure {
  std::string name;
  plot::Figure figure;
};

// One of every kind of figure the app shows and the CLI exports.
std::vector<NamedFigure> every_figure() {
  const moe::RoutingTrace trace = synthetic_trace(40, 7);
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  std::vector<std::string> tokens;
  for (int t = 0; t < trace.n_tokens(); ++t) tokens.push_back("tok" + std::to_string(t));
  const std::vector<plot::DomainStats> domains = {
      {"code", moe::compute_routing_stats(trace, 0, 20)},
      {"maths", moe::compute_routing_stats(trace, 20, 20)}};

  moe::LoadComparison comparison;
  comparison.layers = {0, 2, 3};
  comparison.tokens_a = 20;
  comparison.tokens_b = 20;
  for (int m = 0; m < 3; ++m) {
    std::vector<double> a(kExperts), b(kExperts), difference(kExperts);
    for (int e = 0; e < kExperts; ++e) {
      a[static_cast<size_t>(e)] = 0.25 + 0.02 * e - 0.01 * m;
      b[static_cast<size_t>(e)] = 0.25 - 0.02 * e + 0.01 * m;
      difference[static_cast<size_t>(e)] = b[static_cast<size_t>(e)] - a[static_cast<size_t>(e)];
      comparison.max_abs_difference =
          std::max(comparison.max_abs_difference, std::abs(difference[static_cast<size_t>(e)]));
    }
    comparison.share_a.push_back(a);
    comparison.share_b.push_back(b);
    comparison.difference.push_back(difference);
  }

  plot::ExpertLoadHistory history;
  history.top_k = 2;
  std::vector<int64_t> mi_steps;
  std::vector<std::vector<double>> mi_bits;
  for (int s = 1; s <= 30; ++s) {
    history.steps.push_back(s);
    std::vector<std::vector<int64_t>> counts(4, std::vector<int64_t>(kExperts));
    for (int layer = 0; layer < 4; ++layer)
      for (int e = 0; e < kExperts; ++e)
        counts[static_cast<size_t>(layer)][static_cast<size_t>(e)] = 10 + (s * (e + 1) + layer) % 7;
    history.counts.push_back(counts);
    if (s % 5 == 0) {
      mi_steps.push_back(s);
      mi_bits.push_back({0.1 * s / 30, 0.2 * s / 30, 0.05, 0.3});
    }
  }

  // Of the size of a published MoE (billions): long numbers in the labels.
  moe::ParameterCounts counts;
  counts.embedding = counts.output = 103'000'000;
  counts.attention = 268'000'000;
  counts.router = 2'000'000;
  counts.experts = 6'442'000'000;
  counts.active_experts = 805'000'000;
  counts.total =
      counts.embedding + counts.output + counts.attention + counts.router + counts.experts;
  counts.active_per_token = counts.total - counts.experts + counts.active_experts;
  moe::ComputeEstimate estimate;
  estimate.context = 10;
  estimate.moe_matmul_params = 3810;
  estimate.dense_matmul_params = 9800;
  estimate.attention_flops = 640;
  estimate.moe_flops = 2 * 3810 + 640;
  estimate.dense_flops = 2 * 9800 + 640;

  const plot::TrainingLog log = training_log();
  return {
      {"expert load (tokens)", plot::expert_load_figure(stats, 0, plot::LoadMeasure::TokenCount)},
      {"expert load (gate mass)", plot::expert_load_figure(stats, 1, plot::LoadMeasure::GateMass)},
      {"load heatmap", plot::load_heatmap_figure(stats, 2)},
      {"router scores", plot::router_scores_figure(trace, 3, 0, "tok3")},
      {"router heatmap", plot::router_heatmap_figure(trace, 2, tokens, 5)},
      {"token path", plot::token_path_figure(trace, 3, "tok3")},
      {"co-activation", plot::coactivation_figure(stats, 1)},
      {"transitions", plot::transitions_figure(stats, 0, true)},
      {"layer balance", plot::layer_balance_figure(stats, kExperts)},
      {"domains", plot::domain_expert_figure(domains, 2, 2)},
      {"load difference", plot::load_difference_figure(comparison, "maths", "poem")},
      {"live expert share", plot::live_expert_share_figure(history, 1, 5)},
      {"live layer share", plot::live_layer_share_figure(history, 5)},
      {"live specialization", plot::live_specialization_figure(mi_steps, mi_bits, 3)},
      {"parameters", plot::parameters_figure(counts)},
      {"flops", plot::flops_figure(estimate)},
      {"training loss", plot::training_loss_figure(log)},
      {"training balance", plot::training_balance_figure(log)},
  };
}

// The sizes figures are drawn at: an app panel (pixels, a 16 px font, one-pixel lines, room for
// the Export button) and an exported page (points, 10 pt text).
struct Target {
  const char* name;
  double width, height, font_size;
  plot::LayoutOptions options;
};

std::vector<Target> targets() {
  plot::LayoutOptions screen;
  screen.palette = plot::dark_palette();
  screen.thin_line = 1;
  screen.margin = 0.4;
  screen.title_reserve = 70;
  plot::LayoutOptions paper;  // the exporter's defaults
  return {{"app panel", 960, 600, 16, screen}, {"exported page", 576, 360, 10, paper}};
}

// Where a primitive puts ink (a stroke's half width included).
plot::Box extent(const plot::Primitive& primitive, RecordingCanvas& metrics) {
  if (const auto* p = std::get_if<plot::FillRect>(&primitive)) return p->box;
  if (const auto* p = std::get_if<plot::Gradient>(&primitive)) return p->box;
  if (const auto* p = std::get_if<plot::StrokeRect>(&primitive)) {
    const double h = p->width / 2;
    return {p->box.x0 - h, p->box.y0 - h, p->box.x1 + h, p->box.y1 + h};
  }
  if (const auto* p = std::get_if<plot::Circle>(&primitive)) {
    return {p->center.x - p->radius, p->center.y - p->radius, p->center.x + p->radius,
            p->center.y + p->radius};
  }
  if (const auto* p = std::get_if<plot::Polyline>(&primitive)) {
    plot::Box box{1e300, 1e300, -1e300, -1e300};
    for (const plot::Point& q : p->points) {
      box = {std::min(box.x0, q.x), std::min(box.y0, q.y), std::max(box.x1, q.x),
             std::max(box.y1, q.y)};
    }
    const double h = p->width / 2;
    return {box.x0 - h, box.y0 - h, box.x1 + h, box.y1 + h};
  }
  const auto& run = std::get<plot::TextRun>(primitive);
  const double width = metrics.text_width(run.text, run.style);
  const double height = metrics.line_height(run.style);
  const double shift = run.align == plot::TextAlign::Left     ? 0
                       : run.align == plot::TextAlign::Center ? width / 2
                                                              : width;
  if (run.angle_degrees == 0)
    return {run.at.x - shift, run.at.y, run.at.x - shift + width, run.at.y + height};
  EXPECT_EQ(run.angle_degrees, 90) << run.text;  // the only rotation the layout uses
  // Turned a quarter counter-clockwise about `at`: the line's height goes right, its length up.
  return {run.at.x, run.at.y - (width - shift), run.at.x + height, run.at.y + shift};
}

std::string describe(const plot::Primitive& primitive) {
  if (const auto* p = std::get_if<plot::TextRun>(&primitive)) return "text '" + p->text + "'";
  const char* kinds[] = {"filled rect", "stroked rect", "polyline", "circle", "text", "gradient"};
  return kinds[primitive.index()];
}

std::vector<plot::FillRect> marks(const std::vector<plot::Primitive>& primitives, plot::Mark mark) {
  std::vector<plot::FillRect> found;
  for (const plot::Primitive& primitive : primitives) {
    const auto* fill = std::get_if<plot::FillRect>(&primitive);
    if (fill && fill->mark == mark) found.push_back(*fill);
  }
  return found;
}

std::vector<plot::HitRegion> regions(const plot::FigureLayout& layout, plot::HitKind kind) {
  std::vector<plot::HitRegion> found;
  for (const plot::HitRegion& region : layout.hits)
    if (region.kind == kind) found.push_back(region);
  return found;
}

plot::Point center(const plot::Box& box) { return {(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2}; }

TEST(FigureLayout, ScreenAndExportCanvasesAreGivenTheSamePrimitives) {
  for (const NamedFigure& named : every_figure()) {
    for (const Target& target : targets()) {
      SCOPED_TRACE(named.name + " on " + target.name);
      // The app's canvas and an exporter's canvas, each laying out and drawing the figure as
      // app/gui/figure_view.cpp and core/plot/figure_file.cpp do.
      RecordingCanvas screen(target.font_size), file(target.font_size);
      const plot::FigureLayout on_screen =
          plot::lay_out_figure(named.figure, target.width, target.height, screen, target.options);
      screen.draw(on_screen.primitives);
      const plot::FigureLayout in_file =
          plot::lay_out_figure(named.figure, target.width, target.height, file, target.options);
      file.draw(in_file.primitives);
      ASSERT_TRUE(on_screen.fits);
      EXPECT_EQ(screen.drawn, on_screen.primitives) << "the canvas drew something else";
      EXPECT_EQ(screen.drawn, file.drawn);
      EXPECT_EQ(on_screen.hits, in_file.hits);
      EXPECT_GT(on_screen.primitives.size(), 10u);
    }
  }
}

TEST(FigureLayout, NothingIsDrawnOutsideTheCanvas) {
  for (const NamedFigure& named : every_figure()) {
    for (const Target& target : targets()) {
      SCOPED_TRACE(named.name + " on " + target.name);
      RecordingCanvas canvas(target.font_size);
      const plot::FigureLayout layout =
          plot::lay_out_figure(named.figure, target.width, target.height, canvas, target.options);
      ASSERT_TRUE(layout.fits);
      const double slack = 0.01;
      for (const plot::Primitive& primitive : layout.primitives) {
        const plot::Box box = extent(primitive, canvas);
        EXPECT_TRUE(box.x0 >= -slack && box.y0 >= -slack && box.x1 <= target.width + slack &&
                    box.y1 <= target.height + slack)
            << describe(primitive) << " at " << box.x0 << "," << box.y0 << " - " << box.x1 << ","
            << box.y1;
      }
      // Bars, cells and points stay inside the axes.
      const plot::Box& plot_area = layout.plot;
      for (const plot::Primitive& primitive : layout.primitives) {
        const auto* fill = std::get_if<plot::FillRect>(&primitive);
        if (!fill || fill->mark == plot::Mark::None) continue;
        EXPECT_TRUE(fill->box.x0 >= plot_area.x0 - slack && fill->box.x1 <= plot_area.x1 + slack &&
                    fill->box.y0 >= plot_area.y0 - slack && fill->box.y1 <= plot_area.y1 + slack)
            << "row " << fill->row << " column " << fill->column;
      }
    }
  }
}

TEST(FigureLayout, HitRegionsCoverTheMarksTheyName) {
  for (const NamedFigure& named : every_figure()) {
    const plot::Figure& figure = named.figure;
    for (const Target& target : targets()) {
      SCOPED_TRACE(named.name + " on " + target.name);
      RecordingCanvas canvas(target.font_size);
      const plot::FigureLayout layout =
          plot::lay_out_figure(figure, target.width, target.height, canvas, target.options);
      for (const auto& [kind, mark, rects] :
           {std::tuple{plot::HitKind::Cell, plot::Mark::Cell, &figure.cells},
            std::tuple{plot::HitKind::Bar, plot::Mark::Bar, &figure.bars}}) {
        const std::vector<plot::HitRegion> hits = regions(layout, kind);
        const std::vector<plot::FillRect> drawn = marks(layout.primitives, mark);
        ASSERT_EQ(hits.size(), rects->size())
            << "every bar and cell is drawn and can be pointed at";
        ASSERT_EQ(drawn.size(), hits.size());
        for (size_t i = 0; i < hits.size(); ++i) {
          const plot::Rect& rect = (*rects)[hits[i].index];
          EXPECT_EQ(hits[i].box, drawn[i].box);
          EXPECT_EQ(drawn[i].row, rect.row);
          EXPECT_EQ(drawn[i].column, rect.column);
          // A translucent bar is a muted one: drawn opaque, in the colour that keeps it visible.
          const plot::Color expected = kind == plot::HitKind::Bar && rect.fill.a < 1
                                           ? plot::muted_bar_color(rect.fill, target.options.palette)
                                           : rect.fill;
          EXPECT_EQ(drawn[i].color, expected);
          if (hits[i].box.width() < 1 || hits[i].box.height() < 1) continue;  // e.g. a zero bar
          // The pointer on a mark's middle finds that mark, also under a line's marker (the
          // token path draws its route over the cells).
          const plot::HitRegion* found = layout.mark_at(center(hits[i].box));
          ASSERT_NE(found, nullptr);
          EXPECT_EQ(found->kind, kind);
          if (kind == plot::HitKind::Cell) {
            EXPECT_EQ(found->index, hits[i].index);
          }
        }
      }
      // Heatmap cells tile without gaps: the pointer between two neighbours finds one of them.
      const std::vector<plot::HitRegion> cells = regions(layout, plot::HitKind::Cell);
      for (const plot::HitRegion& cell : cells) {
        const plot::HitRegion* found =
            layout.mark_at({cell.box.x1, (cell.box.y0 + cell.box.y1) / 2});
        if (cell.box.x1 < layout.plot.x1 - 0.5) {
          ASSERT_NE(found, nullptr) << "a gap right of cell " << cell.index;
          EXPECT_EQ(found->kind, plot::HitKind::Cell);
        }
      }
      EXPECT_EQ(regions(layout, plot::HitKind::LegendEntry).size(), figure.legend.size());
      for (const plot::HitRegion& entry : regions(layout, plot::HitKind::LegendEntry)) {
        const plot::HitRegion* found = layout.hit_at(center(entry.box));
        ASSERT_NE(found, nullptr);
        EXPECT_EQ(found->index, entry.index);
        EXPECT_LE(entry.box.y1, layout.plot.y0) << "the legend sits above the plot";
      }
      size_t markers = 0;
      for (const plot::Line& line : figure.lines) markers += line.markers ? line.xs.size() : 0;
      const std::vector<plot::HitRegion> points = regions(layout, plot::HitKind::Point);
      EXPECT_EQ(points.size(), markers);
      for (const plot::HitRegion& point : points) {
        const plot::HitRegion* found = layout.hit_at(center(point.box));
        ASSERT_NE(found, nullptr);
        EXPECT_EQ(found->kind, plot::HitKind::Point) << "a marker is on top of what it covers";
      }
    }
  }
}

// Tick labels as the layout places them: x labels centred under the axis, y labels right-aligned
// left of it.
std::vector<plot::Box> tick_labels(const plot::FigureLayout& layout, bool x_axis,
                                   RecordingCanvas& metrics) {
  std::vector<plot::Box> boxes;
  for (const plot::Primitive& primitive : layout.primitives) {
    const auto* run = std::get_if<plot::TextRun>(&primitive);
    if (!run) continue;
    const bool on_x = run->align == plot::TextAlign::Center && run->at.y == layout.plot.y1 + 4;
    const bool on_y = run->align == plot::TextAlign::Right && run->at.x == layout.plot.x0 - 6;
    if (x_axis ? on_x : on_y) boxes.push_back(extent(primitive, metrics));
  }
  return boxes;
}

TEST(FigureLayout, TickLabelsAreThinnedSoTheyDoNotOverlap) {
  const moe::RoutingTrace trace = synthetic_trace(120, 3);
  std::vector<std::string> tokens;
  for (int t = 0; t < trace.n_tokens(); ++t) tokens.push_back("token_" + std::to_string(t));
  // 120 token rows in 300 pixels, and many long x labels in a narrow figure.
  plot::Figure crowded = plot::router_heatmap_figure(trace, 0, tokens, 3);
  plot::Figure wide = plot::layer_balance_figure(moe::compute_routing_stats(trace), kExperts);
  std::vector<std::string> long_labels;
  for (int i = 0; i < 40; ++i) long_labels.push_back("a long label " + std::to_string(i));
  wide.x.ticks = plot::category_ticks(long_labels);
  wide.x.min = 0;
  wide.x.max = 40;

  for (const NamedFigure& named : every_figure()) {
    SCOPED_TRACE(named.name);
    RecordingCanvas canvas(16);
    const plot::FigureLayout layout =
        plot::lay_out_figure(named.figure, 960, 600, canvas, plot::LayoutOptions{});
    for (const bool x_axis : {true, false}) {
      std::vector<plot::Box> labels = tick_labels(layout, x_axis, canvas);
      std::sort(labels.begin(), labels.end(), [&](const plot::Box& a, const plot::Box& b) {
        return x_axis ? a.x0 < b.x0 : a.y0 < b.y0;
      });
      for (size_t i = 1; i < labels.size(); ++i) {
        if (x_axis) {
          EXPECT_LE(labels[i - 1].x1, labels[i].x0) << "x tick labels " << i - 1 << " and " << i;
        } else {
          EXPECT_LE(labels[i - 1].y1, labels[i].y0 + 1e-9)
              << "y tick labels " << i - 1 << " and " << i;
        }
      }
    }
  }

  RecordingCanvas canvas(16);
  const plot::FigureLayout rows =
      plot::lay_out_figure(crowded, 700, 300, canvas, plot::LayoutOptions{});
  const std::vector<plot::Box> row_labels = tick_labels(rows, false, canvas);
  EXPECT_LT(row_labels.size(), crowded.y.ticks.size()) << "crowded rows are thinned";
  EXPECT_GT(row_labels.size(), 3u) << "but some stay";
  for (size_t i = 1; i < row_labels.size(); ++i) EXPECT_LE(row_labels[i - 1].y1, row_labels[i].y0);

  const plot::FigureLayout columns =
      plot::lay_out_figure(wide, 500, 300, canvas, plot::LayoutOptions{});
  const std::vector<plot::Box> column_labels = tick_labels(columns, true, canvas);
  EXPECT_LT(column_labels.size(), wide.x.ticks.size()) << "crowded columns are thinned";
  EXPECT_GE(column_labels.size(), 2u);
  for (size_t i = 1; i < column_labels.size(); ++i)
    EXPECT_LE(column_labels[i - 1].x1, column_labels[i].x0);
}

// The library's own tick labels are short enough to be shown whole: the layout cuts longer
// ones with "…" (the Model view read "dense, same total …").
TEST(FigureLayout, BuiltInTickLabelsAreNeverCut) {
  const std::string ellipsis = "\xE2\x80\xA6";
  for (const NamedFigure& named : every_figure()) {
    RecordingCanvas canvas(13);
    const plot::FigureLayout layout =
        plot::lay_out_figure(named.figure, 1200, 700, canvas, plot::LayoutOptions{});
    for (const std::vector<plot::Tick>* ticks : {&named.figure.x.ticks, &named.figure.y.ticks}) {
      for (const plot::Tick& tick : *ticks) {
        for (const plot::Primitive& primitive : layout.primitives) {
          const auto* run = std::get_if<plot::TextRun>(&primitive);
          if (!run || run->text == tick.label || run->text.size() <= ellipsis.size() ||
              run->text.compare(run->text.size() - ellipsis.size(), ellipsis.size(), ellipsis) != 0)
            continue;
          std::string kept = run->text.substr(0, run->text.size() - ellipsis.size());
          while (!kept.empty() && kept.back() == ' ') kept.pop_back();
          EXPECT_NE(tick.label.rfind(kept, 0), 0u)
              << named.name << ": the tick '" << tick.label << "' is drawn as '" << run->text << "'";
        }
      }
    }
  }
}

// The Train tab shows its four charts in a 2 x 2 grid (about 310 x 250 px each at 1400 x 860):
// no legend label or colour-scale label is cut there ("...mean of 10 step", "8 experts o").
TEST(FigureLayout, TrainTabChartsKeepTheirLegendsWhole) {
  const double width = 310, height = 250;
  for (const NamedFigure& named : every_figure()) {
    if (named.name.rfind("training", 0) != 0 && named.name.rfind("live", 0) != 0) continue;
    RecordingCanvas canvas(18);  // the app's default text size
    const plot::FigureLayout layout =
        plot::lay_out_figure(named.figure, width, height, canvas, plot::LayoutOptions{});
    for (const plot::Primitive& primitive : layout.primitives) {
      const auto* run = std::get_if<plot::TextRun>(&primitive);
      if (!run) continue;
      const plot::Box box = extent(primitive, canvas);
      EXPECT_TRUE(box.x0 >= -0.5 && box.x1 <= width + 0.5)
          << named.name << ": '" << run->text << "' runs off the chart (" << box.x0 << " .. "
          << box.x1 << ")";
    }
  }
}

TEST(FigureLayout, TooSmallForTheTextLaysOutOnlyTheHeader) {
  const plot::Figure figure = every_figure()[0].figure;
  RecordingCanvas canvas(16);
  const plot::FigureLayout layout = plot::lay_out_figure(figure, 200, 60, canvas, {});
  EXPECT_FALSE(layout.fits);
  EXPECT_TRUE(layout.hits.empty() || regions(layout, plot::HitKind::Bar).empty());
  EXPECT_TRUE(marks(layout.primitives, plot::Mark::Bar).empty());
}

// Large text in a small window (28 px on a projector's 1280x720): the router chart's title, three
// notes and legend used to leave the plot a sliver or nothing. Where the plot would be under
// four lines of text, the notes go, then the legend; a roomy canvas keeps them all.
TEST(FigureLayout, LargeTextOnASmallCanvasDropsTheNotesBeforeThePlot) {
  const moe::RoutingTrace trace = synthetic_trace(12, 7);
  const plot::Figure figure = plot::router_scores_figure(trace, 3, 0, "x");
  ASSERT_GE(figure.notes.size(), 2u);
  RecordingCanvas canvas(28);
  const double line = canvas.line_height(plot::TextStyle::Body);
  const plot::FigureLayout roomy = plot::lay_out_figure(figure, 1200, 700, canvas, {});
  EXPECT_FALSE(roomy.notes_dropped);
  EXPECT_FALSE(roomy.legend_dropped);
  const plot::FigureLayout small = plot::lay_out_figure(figure, 1200, 400, canvas, {});
  EXPECT_TRUE(small.fits);
  EXPECT_TRUE(small.notes_dropped);
  EXPECT_GE(small.plot.height(), 4 * line);
  EXPECT_EQ(marks(small.primitives, plot::Mark::Bar).size(), static_cast<size_t>(kExperts));
}

TEST(FigureLayout, AScrolledViewLaysOutOnlyTheCellsItShows) {
  const moe::RoutingTrace trace = synthetic_trace(120, 5);
  std::vector<std::string> tokens(120, "t");
  const plot::Figure tall = plot::router_heatmap_figure(trace, 0, tokens, 3);
  RecordingCanvas canvas(16);
  const plot::FigureLayout whole = plot::lay_out_figure(tall, 800, 3000, canvas, {});
  plot::LayoutOptions scrolled;
  scrolled.visible = plot::Box{0, 1000, 800, 1600};
  const plot::FigureLayout part = plot::lay_out_figure(tall, 800, 3000, canvas, scrolled);
  const std::vector<plot::FillRect> all_cells = marks(whole.primitives, plot::Mark::Cell);
  const std::vector<plot::FillRect> shown = marks(part.primitives, plot::Mark::Cell);
  EXPECT_EQ(all_cells.size(), tall.cells.size());
  EXPECT_LT(shown.size(), all_cells.size() / 3);
  EXPECT_GT(shown.size(), 0u);
  size_t expected = 0;
  for (const plot::FillRect& cell : all_cells) {
    if (cell.box.y1 >= 1000 && cell.box.y0 <= 1600) ++expected;
  }
  EXPECT_EQ(shown.size(), expected) << "every cell in view, and only those";
  EXPECT_EQ(regions(part, plot::HitKind::Cell).size(), expected);
  EXPECT_EQ(part.plot, whole.plot) << "the view does not move the axes";
}

// ---- honest figures and paper-ready exports (issue 16) ----

// Does ink of `a` reach into `b`?
bool overlaps(const plot::Box& a, const plot::Box& b) { return a.intersects(b); }

TEST(FigureLayout, TokenPathGateWeightsStayReadableOverTheTop1Line) {
  const moe::RoutingTrace trace = synthetic_trace(12, 4);
  const plot::Figure figure = plot::token_path_figure(trace, 3, "tok3");
  ASSERT_EQ(figure.lines.size(), 1u);
  std::vector<std::string> cell_labels;
  for (const plot::Rect& cell : figure.cells)
    if (!cell.text.empty()) cell_labels.push_back(cell.text);
  ASSERT_FALSE(cell_labels.empty());
  for (const Target& target : targets()) {
    SCOPED_TRACE(target.name);
    RecordingCanvas canvas(target.font_size);
    const plot::FigureLayout layout =
        plot::lay_out_figure(figure, target.width, target.height, canvas, target.options);
    const std::vector<plot::Primitive>& drawn = layout.primitives;
    size_t labels_seen = 0;
    for (size_t i = 0; i < drawn.size(); ++i) {
      const auto* run = std::get_if<plot::TextRun>(&drawn[i]);
      if (!run || run->align != plot::TextAlign::Center || run->at.y < layout.plot.y0 ||
          run->at.y > layout.plot.y1 ||
          std::find(cell_labels.begin(), cell_labels.end(), run->text) == cell_labels.end())
        continue;
      ++labels_seen;
      const plot::Box label = extent(drawn[i], canvas);
      for (size_t j = i + 1; j < drawn.size(); ++j) {
        const bool ink_over = std::holds_alternative<plot::Polyline>(drawn[j]) ||
                              std::holds_alternative<plot::Circle>(drawn[j]);
        EXPECT_FALSE(ink_over && overlaps(extent(drawn[j], canvas), label))
            << "the path's " << describe(drawn[j]) << " is drawn over the label '" << run->text
            << "'";
      }
      // And the label sits on its own patch of the cell's colour, so a line under it does not
      // cross its letters.
      bool backed = false;
      for (size_t j = 0; j < i; ++j) {
        const auto* fill = std::get_if<plot::FillRect>(&drawn[j]);
        backed |= fill && fill->mark == plot::Mark::None && fill->box.x0 <= label.x0 &&
                  fill->box.x1 >= label.x1 && fill->box.y0 <= label.y0 + 1 &&
                  fill->box.y1 >= label.y1 - 1 && fill->box.height() < label.height() * 2;
      }
      EXPECT_TRUE(backed) << "label '" << run->text << "' has no backing";
    }
    EXPECT_GT(labels_seen, 0u);
  }
}

TEST(FigureLayout, NotesNeverBreakInsideAFormula) {
  const moe::RoutingTrace trace = synthetic_trace(20, 9);
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  const std::vector<plot::DomainStats> domains = {{"code", stats}};
  const std::vector<plot::Figure> figures = {plot::domain_expert_figure(domains, 0, 2),
                                             plot::load_heatmap_figure(stats, 2)};
  const auto is_operator = [](const std::string& word) {
    return word == "=" || word == "/" || word == "+" || word == "x" || word == "-" ||
           word == "\xC3\x97" || word == "\xE2\x89\x88";
  };
  for (const plot::Figure& figure : figures) {
    SCOPED_TRACE(figure.title);
    for (double width = 160; width <= 900; width += 3) {
      RecordingCanvas canvas(10);
      const plot::FigureLayout layout =
          plot::lay_out_figure(figure, width, 600, canvas, plot::LayoutOptions{});
      for (const plot::Primitive& primitive : layout.primitives) {
        const auto* run = std::get_if<plot::TextRun>(&primitive);
        if (!run || run->style != plot::TextStyle::Body || run->align != plot::TextAlign::Left ||
            run->at.y >= layout.plot.y0)
          continue;
        std::istringstream words(run->text);
        std::vector<std::string> split;
        for (std::string word; words >> word;) split.push_back(word);
        if (split.empty()) continue;
        EXPECT_FALSE(is_operator(split.front()) || is_operator(split.back()) ||
                     split.back().back() == '/')
            << "at width " << width << " a line breaks inside a formula: '" << run->text << "'";
      }
    }
  }
}

// Routing over 16 experts, two MoE layers, every expert used.
moe::RoutingTrace sixteen_expert_trace() {
  moe::RoutingTrace trace(2, 16, 2, {0, 1});
  for (int t = 0; t < 32; ++t) {
    for (int layer : {0, 1}) {
      moe::RoutingRecord record;
      record.logits.assign(16, 0.f);
      record.probs.assign(16, 1.f / 16);
      record.experts = {(t + layer) % 16, (t + 5) % 16};
      record.weights = {0.5f, 0.5f};
      trace.set(t, layer, record);
    }
  }
  return trace;
}

// The router's unchosen experts are muted, not erased: on both themes every bar keeps a
// contrast of at least kMutedBarContrast with the background (before, E7's dark purple at 35%
// on the dark theme measured about 1.1), and muting keeps the bars' hues apart.
TEST(FigureLayout, MutedBarsStayVisibleOnBothThemes) {
  const moe::RoutingTrace trace = sixteen_expert_trace();
  const plot::Figure figure = plot::router_scores_figure(trace, 0, 0, "tok0");
  for (const plot::Palette& palette : {plot::light_palette(), plot::dark_palette()}) {
    plot::LayoutOptions options;
    options.palette = palette;
    RecordingCanvas canvas(13);
    const plot::FigureLayout layout = plot::lay_out_figure(figure, 900, 420, canvas, options);
    const std::vector<plot::FillRect> bars = marks(layout.primitives, plot::Mark::Bar);
    ASSERT_EQ(bars.size(), 16u);
    for (const plot::FillRect& bar : bars) {
      EXPECT_FLOAT_EQ(bar.color.a, 1.0f);
      EXPECT_GE(plot::contrast_ratio(bar.color, palette.background), plot::kMutedBarContrast - 1e-6)
          << "expert " << bar.column;
    }
    EXPECT_NE(bars[4].color.r, bars[7].color.r);
  }
}

TEST(FigureLayout, HeatmapsTickEveryExpertUpToSixteen) {
  const plot::Figure figure =
      plot::load_heatmap_figure(moe::compute_routing_stats(sixteen_expert_trace()), 2);
  struct Size {
    const char* name;
    plot::ExportOptions options;
  };
  std::vector<Size> sizes = {
      {"single column",
       plot::paper_export_options(plot::PaperColumn::Single, plot::ExportFormat::Pdf)},
      {"double column",
       plot::paper_export_options(plot::PaperColumn::Double, plot::ExportFormat::Pdf)},
      {"default page", plot::resolve_export_options("x.pdf", plot::ExportOptions{})}};
  for (const Size& size : sizes) {
    SCOPED_TRACE(size.name);
    RecordingCanvas canvas(size.options.font_pt);
    const plot::FigureLayout layout = plot::lay_out_figure(
        plot::figure_as_exported(figure, size.options), size.options.width, size.options.height,
        canvas, plot::export_layout_options(size.options));
    ASSERT_TRUE(layout.fits);
    std::vector<plot::Box> labels;
    std::vector<std::string> seen;
    for (const plot::Primitive& primitive : layout.primitives) {
      const auto* run = std::get_if<plot::TextRun>(&primitive);
      if (!run || run->at.y < layout.plot.y1 || run->text.size() < 2 || run->text[0] != 'E')
        continue;
      seen.push_back(run->text);
      labels.push_back(extent(primitive, canvas));
    }
    EXPECT_EQ(seen.size(), 16u) << "every expert has its tick label";
    for (size_t i = 0; i < labels.size(); ++i) {
      for (size_t j = i + 1; j < labels.size(); ++j)
        EXPECT_FALSE(overlaps(labels[i], labels[j])) << seen[i] << " and " << seen[j];
      EXPECT_LE(labels[i].y1, size.options.height);
    }
  }
}

// A domain x expert figure of 7 domains and 16 experts: each domain sends most of its tokens
// to one expert (two-digit shares) and the rest around.
plot::Figure domain_figure_with_favourites() {
  std::vector<plot::DomainStats> domains;
  int favourite = 0;
  for (const char* name : {"code", "english", "french", "german", "maths", "russian", "spanish"}) {
    moe::RoutingTrace trace(1, 16, 2, {0});
    for (int t = 0; t < 40; ++t) {
      moe::RoutingRecord record;
      record.logits.assign(16, 0.f);
      record.probs.assign(16, 1.f / 16);
      record.experts = {t < 30 ? favourite : t % 16, (t + 5) % 16};
      if (record.experts[0] == record.experts[1]) record.experts[1] = (t + 6) % 16;
      record.weights = {0.5f, 0.5f};
      trace.set(t, 0, record);
    }
    domains.push_back({name, moe::compute_routing_stats(trace)});
    favourite += 2;
  }
  return plot::domain_expert_figure(domains, 0, 2);
}

// Domain x expert cells too narrow for "45%" keep their numbers: every cell drops the unit
// (the colour bar keeps it) instead of some cells losing their label (before, 16 experts at
// 1600 px showed "3%" beside blank cells).
TEST(FigureLayout, NarrowCellsDropTheUnitNotTheirNumbers) {
  const plot::Figure figure = domain_figure_with_favourites();
  for (double width : {440.0, 576.0, 1200.0}) {  // points
    SCOPED_TRACE(width);
    plot::ExportOptions options;
    options.width = width;
    options = plot::resolve_export_options("x.pdf", options);
    RecordingCanvas canvas(options.font_pt);
    const plot::FigureLayout layout =
        plot::lay_out_figure(plot::figure_as_exported(figure, options), options.width,
                             options.height, canvas, plot::export_layout_options(options));
    ASSERT_TRUE(layout.fits);
    size_t labels = 0, with_unit = 0;
    for (const plot::Primitive& primitive : layout.primitives) {
      const auto* run = std::get_if<plot::TextRun>(&primitive);
      if (!run || run->align != plot::TextAlign::Center || run->at.y < layout.plot.y0 ||
          run->at.y > layout.plot.y1 || run->text.empty() ||
          !std::isdigit(static_cast<unsigned char>(run->text[0])))
        continue;
      ++labels;
      if (run->text.back() == '%') ++with_unit;
    }
    EXPECT_EQ(labels, figure.cells.size()) << "every cell shows its share";
    EXPECT_TRUE(with_unit == 0 || with_unit == labels) << with_unit << " of " << labels;
  }
}

// The colour bar's label stays beside the bar: on a short canvas with large text (presenter
// mode on a projector, where the view scrolls and cut off the label's first letters below the
// bar) it wraps, and the whole label still shows.
TEST(FigureLayout, ColourScaleLabelStaysBesideItsBar) {
  const plot::Figure figure = domain_figure_with_favourites();
  const std::string label = figure.color_scale->label;
  plot::LayoutOptions screen;
  screen.palette = plot::dark_palette();
  for (const auto& [height, lines] : {std::pair{520.0, 3u}, std::pair{620.0, 2u},
                                      std::pair{1200.0, 1u}}) {
    SCOPED_TRACE(height);
    RecordingCanvas canvas(28);
    const plot::FigureLayout layout = plot::lay_out_figure(figure, 1250, height, canvas, screen);
    ASSERT_TRUE(layout.fits);
    const plot::Gradient* bar = nullptr;
    std::vector<const plot::TextRun*> rotated;
    for (const plot::Primitive& primitive : layout.primitives) {
      if (const auto* gradient = std::get_if<plot::Gradient>(&primitive)) bar = gradient;
      const auto* run = std::get_if<plot::TextRun>(&primitive);
      if (run && run->angle_degrees != 0) rotated.push_back(run);
    }
    ASSERT_NE(bar, nullptr);
    std::erase_if(rotated, [&](const plot::TextRun* run) { return run->at.x < bar->box.x1; });
    ASSERT_EQ(rotated.size(), lines);
    std::string shown;
    for (const plot::TextRun* run : rotated) {
      const plot::Box box = extent(*run, canvas);
      EXPECT_GE(box.y0, bar->box.y0 - 0.01) << run->text;
      EXPECT_LE(box.y1, bar->box.y1 + 0.01) << run->text;
      EXPECT_GE(box.x0, bar->box.x1) << run->text;
      EXPECT_LE(box.x1, 1250) << run->text;
      shown += (shown.empty() ? "" : " ") + run->text;
    }
    EXPECT_EQ(shown, label);
    for (size_t i = 1; i < rotated.size(); ++i)
      EXPECT_LT(rotated[i - 1]->at.x, rotated[i]->at.x) << "the first line is leftmost";
  }
}

TEST(FigureLayout, PaperColumnPresetsKeepTextReadableAndTheHeaderSmall) {
  for (const auto& [column, inches] :
       {std::pair{plot::PaperColumn::Single, 3.3}, std::pair{plot::PaperColumn::Double, 7.0}}) {
    const plot::ExportOptions png = plot::paper_export_options(column, plot::ExportFormat::Png);
    EXPECT_NEAR(png.width / png.dpi, inches, 0.01);
    EXPECT_GE(png.font_pt, 7);
    const plot::ExportOptions options = plot::paper_export_options(column, plot::ExportFormat::Pdf);
    EXPECT_NEAR(options.width, inches * 72, 0.5);
    EXPECT_GE(options.font_pt, 7) << "text stays readable in print";
    for (const NamedFigure& named : every_figure()) {
      SCOPED_TRACE(named.name + " at " + std::to_string(inches) + " in");
      RecordingCanvas canvas(options.font_pt);
      const plot::FigureLayout layout =
          plot::lay_out_figure(plot::figure_as_exported(named.figure, options), options.width,
                               options.height, canvas, plot::export_layout_options(options));
      ASSERT_TRUE(layout.fits);
      double header = 0;
      for (const plot::Primitive& primitive : layout.primitives) {
        const auto* run = std::get_if<plot::TextRun>(&primitive);
        if (run && run->style == plot::TextStyle::Title)
          header = std::max(header, extent(primitive, canvas).y1);
      }
      // A legend beside the plot takes no height from it.
      for (const plot::HitRegion& entry : regions(layout, plot::HitKind::LegendEntry))
        if (entry.box.y1 <= layout.plot.y0) header = std::max(header, entry.box.y1);
      EXPECT_EQ(regions(layout, plot::HitKind::LegendEntry).size(), named.figure.legend.size());
      for (const plot::Primitive& primitive : layout.primitives) {
        const plot::Box box = extent(primitive, canvas);
        EXPECT_TRUE(box.x0 >= -0.01 && box.y0 >= -0.01 && box.x1 <= options.width + 0.01 &&
                    box.y1 <= options.height + 0.01)
            << describe(primitive) << " outside the page at " << box.x0 << "," << box.y0;
      }
      EXPECT_LT(header / options.height, 0.2)
          << "title and legend take " << 100 * header / options.height << "% of the height";
    }
  }
}

TEST(FigureLayout, ExportOptionsLeaveOutTheTitleAndNotes) {
  const plot::Figure figure = every_figure()[0].figure;
  ASSERT_FALSE(figure.title.empty());
  ASSERT_FALSE(figure.notes.empty());
  plot::ExportOptions options;
  options.title = false;
  options.notes = false;
  const plot::Figure bare = plot::figure_as_exported(figure, options);
  EXPECT_TRUE(bare.title.empty());
  EXPECT_TRUE(bare.notes.empty());
  EXPECT_EQ(bare.bars.size(), figure.bars.size());
  EXPECT_EQ(bare.legend.size(), figure.legend.size());
  options.title = true;
  EXPECT_EQ(plot::figure_as_exported(figure, options).title, figure.title);
}

TEST(FigureLayout, CrossedMarksAreStruckOutAndOutlinedSwatchesAreOutlines) {
  plot::Figure figure;
  figure.x = {"x", 0, 2, {}, false, false};
  figure.y = {"y", 0, 1, {}, false, false};
  plot::Rect bar;
  bar.x0 = 0.2;
  bar.x1 = 0.8;
  bar.y1 = 0.5;
  bar.fill = plot::expert_color(1);
  bar.crossed = true;
  figure.bars.push_back(bar);
  plot::LegendEntry chosen{"chosen", std::nullopt};
  chosen.outlined = true;
  plot::LegendEntry dropped{"dropped", std::nullopt};
  dropped.crossed = true;
  figure.legend = {chosen, dropped};
  RecordingCanvas canvas(10);
  const plot::LayoutOptions options;
  const plot::FigureLayout layout = plot::lay_out_figure(figure, 400, 300, canvas, options);
  const plot::Box bar_box = regions(layout, plot::HitKind::Bar).at(0).box;
  int diagonals = 0;
  for (const plot::Primitive& primitive : layout.primitives) {
    const auto* line = std::get_if<plot::Polyline>(&primitive);
    if (!line || line->points.size() != 2) continue;
    const plot::Point a = line->points[0], b = line->points[1];
    if (std::abs(a.x - b.x) > bar_box.width() / 2 && std::abs(a.y - b.y) > bar_box.height() / 2 &&
        bar_box.contains(a) && bar_box.contains(b))
      ++diagonals;
  }
  EXPECT_EQ(diagonals, 2) << "a cross over the dropped bar";
  const std::vector<plot::HitRegion> entries = regions(layout, plot::HitKind::LegendEntry);
  ASSERT_EQ(entries.size(), 2u);
  bool filled = false, outlined = false;
  for (const plot::Primitive& primitive : layout.primitives) {
    if (const auto* fill = std::get_if<plot::FillRect>(&primitive)) {
      filled |= entries[0].box.intersects(fill->box) && fill->color == options.palette.text;
    }
    if (const auto* stroke = std::get_if<plot::StrokeRect>(&primitive)) {
      outlined |= entries[0].box.intersects(stroke->box) && stroke->width > options.thin_line;
    }
  }
  EXPECT_FALSE(filled) << "the swatch of an outline is not a filled square";
  EXPECT_TRUE(outlined);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(FigureLayout, ExportedSvgHoldsEveryBarAndCellOfTheLayout) {
  const fs::path dir =
      fs::temp_directory_path() / ("moescope_figure_layout_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int index = 0;
  for (const NamedFigure& named : every_figure()) {
    SCOPED_TRACE(named.name);
    const fs::path path = dir / ("figure" + std::to_string(index++) + ".svg");
    plot::export_figure(named.figure, path);
    const std::string svg = read_file(path);
    RecordingCanvas canvas(10);
    const plot::FigureLayout layout =
        plot::lay_out_figure(named.figure, 576, 360, canvas, plot::LayoutOptions{});
    EXPECT_EQ(count(svg, "class=\"cell\""), marks(layout.primitives, plot::Mark::Cell).size());
    EXPECT_EQ(count(svg, "class=\"bar\""), marks(layout.primitives, plot::Mark::Bar).size());
    EXPECT_EQ(count(svg, "<linearGradient"), named.figure.color_scale ? 1u : 0u);
  }
  fs::remove_all(dir);
}

}  // namespace

// A | B: prompt A's and prompt B's figures side by side are read on one scale. A short prompt's
// load bars and a long prompt's must share the y axis, and a cell of the same value must have
// the same colour in both heatmaps; cells coloured otherwise (the co-activation diagonal) keep
// their colour.
TEST(SharedScales, FiguresSideBySideShareTheirAxisAndColourScale) {
  const moe::RoutingStats short_prompt =
      moe::compute_routing_stats(moe::testing::synthetic_trace(6, 3));
  const moe::RoutingStats long_prompt =
      moe::compute_routing_stats(moe::testing::synthetic_trace(60, 4));
  plot::Figure a = plot::expert_load_figure(short_prompt, 0, plot::LoadMeasure::TokenCount);
  plot::Figure b = plot::expert_load_figure(long_prompt, 0, plot::LoadMeasure::TokenCount);
  ASSERT_LT(a.y.max, b.y.max);
  plot::share_scales({&a, &b});
  EXPECT_EQ(a.y.max, b.y.max);
  EXPECT_EQ(a.y.ticks.size(), b.y.ticks.size());

  plot::Figure heat_a = plot::coactivation_figure(short_prompt, 0);
  plot::Figure heat_b = plot::coactivation_figure(long_prompt, 0);
  ASSERT_LT(heat_a.color_scale->max, heat_b.color_scale->max);
  const plot::Color diagonal = heat_a.cells.front().fill;  // cell (0, 0)
  plot::share_scales({&heat_a, nullptr, &heat_b});
  EXPECT_EQ(heat_a.color_scale->max, heat_b.color_scale->max);
  EXPECT_EQ(heat_a.cells.front().fill, diagonal);
  int compared = 0;
  for (const plot::Rect& cell_a : heat_a.cells) {
    if (cell_a.row == cell_a.column) continue;
    for (const plot::Rect& cell_b : heat_b.cells) {
      if (cell_b.row != cell_b.column && cell_b.value == cell_a.value) {
        EXPECT_EQ(cell_a.fill, cell_b.fill) << "value " << cell_a.value;
        ++compared;
      }
    }
    EXPECT_EQ(cell_a.fill, heat_a.color_scale->at(cell_a.value));
  }
  EXPECT_GT(compared, 0);
}

// The word view of the router heatmap: "Guten Morgen" reads as words, not "G ut en M or gen".
// Each piece keeps its row (and its own routing); the word's first row carries the whole word,
// the others "+piece", and one frame spans the word's rows.
TEST(RouterHeatmap, TheWordViewLabelsAndFramesWords) {
  const moe::RoutingTrace trace = moe::testing::synthetic_trace(6, 5);
  const std::vector<std::string> labels = {"G", "ut", "en", "\xC2\xB7M", "or", "gen"};
  const plot::Figure pieces = plot::router_heatmap_figure(trace, 0, labels, -1);
  const plot::Figure words =
      plot::router_heatmap_figure(trace, 0, labels, -1,
                                  moe::word_of_tokens({"G", "ut", "en", " M", "or", "gen"}));
  const auto tick_labels = [](const plot::Figure& figure) {
    std::vector<std::string> result;
    for (const plot::Tick& tick : figure.y.ticks) result.push_back(tick.label);
    return result;
  };
  EXPECT_EQ(tick_labels(pieces), labels);
  EXPECT_EQ(tick_labels(words), (std::vector<std::string>{"Guten", "+ut", "+en",
                                                          "\xC2\xB7Morgen", "+or", "+gen"}));
  ASSERT_EQ(words.cells.size(), pieces.cells.size());
  for (size_t i = 0; i < words.cells.size(); ++i)
    EXPECT_EQ(words.cells[i].value, pieces.cells[i].value);
  ASSERT_EQ(words.lines.size(), pieces.lines.size() + 2);  // one frame per word
  const auto rows_framed = [](const plot::Line& frame) {
    return std::make_pair(*std::min_element(frame.ys.begin(), frame.ys.end()),
                          *std::max_element(frame.ys.begin(), frame.ys.end()));
  };
  EXPECT_EQ(rows_framed(words.lines[0]), std::make_pair(0.0, 3.0));
  EXPECT_EQ(rows_framed(words.lines[1]), std::make_pair(3.0, 6.0));
}
