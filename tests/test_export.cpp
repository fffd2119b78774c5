// The figure exporter and the routing data files: SVG that an XML parser accepts with one bar
// per expert and its labels as text, PNGs of the asked size that are not blank, PDFs that
// poppler renders, CSV and JSON that read back into the same numbers, and failures (unknown
// format, missing folder, full disk) that say what went wrong and leave no file behind.
//
// The SVG is checked with libxml2 (Debian's libxml2-dev): a conforming parser catches escaping
// and nesting mistakes that a hand-written checker might share with the writer.
#include <cairo.h>
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "moe/atomic_file.hpp"
#include "moe/error.hpp"
#include "moe/plot/aggregate_figures.hpp"
#include "moe/plot/export.hpp"
#include "moe/plot/routing_figures.hpp"
#include "moe/routing_data.hpp"
#include "moe/routing_stats.hpp"
#include "synthetic_routing.hpp"

namespace fs = std::filesystem;
namespace plot = moe::plot;

namespace {

constexpr int kExperts = moe::testing::kSyntheticExperts;

using moe::testing::synthetic_trace;

class ExportTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("moescope_export_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    trace_ = synthetic_trace(40, 7);
    stats_ = moe::compute_routing_stats(trace_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Files in the test folder (to see that a failure left nothing, temporary files included).
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_))
      names.push_back(entry.path().filename().string());
    return names;
  }

  fs::path dir_;
  moe::RoutingTrace trace_;
  moe::RoutingStats stats_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int xpath_count(xmlDocPtr document, const char* expression) {
  xmlXPathContextPtr context = xmlXPathNewContext(document);
  xmlXPathRegisterNs(context, BAD_CAST "svg", BAD_CAST "http://www.w3.org/2000/svg");
  xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST expression, context);
  const int count = result && result->nodesetval ? result->nodesetval->nodeNr : -1;
  xmlXPathFreeObject(result);
  xmlXPathFreeContext(context);
  return count;
}

// Mean and variance of the grey level of a PNG (cairo reads it back).
struct PngFacts {
  int width = 0, height = 0;
  double mean = 0, variance = 0;
  uint32_t top_left = 0;  // 0xRRGGBB
};

PngFacts png_facts(const fs::path& path) {
  PngFacts facts;
  cairo_surface_t* surface = cairo_image_surface_create_from_png(path.c_str());
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    return facts;
  }
  facts.width = cairo_image_surface_get_width(surface);
  facts.height = cairo_image_surface_get_height(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  double sum = 0, sum_squares = 0;
  for (int y = 0; y < facts.height; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + static_cast<ptrdiff_t>(y) * stride);
    for (int x = 0; x < facts.width; ++x) {
      const uint32_t pixel = row[x];
      const double grey = (((pixel >> 16) & 0xFF) + ((pixel >> 8) & 0xFF) + (pixel & 0xFF)) / 3.0;
      sum += grey;
      sum_squares += grey * grey;
    }
  }
  facts.top_left = reinterpret_cast<const uint32_t*>(data)[0] & 0xFFFFFF;
  const double n = static_cast<double>(facts.width) * facts.height;
  facts.mean = sum / n;
  facts.variance = sum_squares / n - facts.mean * facts.mean;
  cairo_surface_destroy(surface);
  return facts;
}

}  // namespace

TEST_F(ExportTest, LoadSvgIsXmlWithOneBarPerExpertAndTextAsText) {
  const plot::Figure figure = plot::expert_load_figure(stats_, 1, plot::LoadMeasure::TokenCount);
  const fs::path path = dir_ / "load.svg";
  plot::export_figure(figure, path);
  xmlDocPtr document = xmlReadFile(path.c_str(), nullptr, XML_PARSE_NONET);
  ASSERT_NE(document, nullptr) << "the SVG is not well-formed XML";
  EXPECT_EQ(xpath_count(document, "//svg:rect[@class='bar']"), kExperts);
  for (int e = 0; e < kExperts; ++e) {
    const std::string bar = "//svg:rect[@class='bar' and @data-column='" + std::to_string(e) + "']";
    EXPECT_EQ(xpath_count(document, bar.c_str()), 1) << "expert " << e;
  }
  // Title, tick labels and the legend are <text> elements a reader can search and select.
  EXPECT_EQ(xpath_count(document, "//svg:text[starts-with(., 'Expert load at layer 2')]"), 1);
  EXPECT_EQ(xpath_count(document, "//svg:text[. = 'E7']"), 1);
  EXPECT_GE(xpath_count(document, "//svg:text[starts-with(., 'uniform load')]"), 1);
  xmlFreeDoc(document);
  // The expert colours are the app's.
  const std::string svg = read_file(path);
  EXPECT_NE(svg.find("fill=\"#e69f00\""), std::string::npos);  // expert_color(0)
  EXPECT_NE(svg.find("fill=\"#56b4e9\""), std::string::npos);  // expert_color(1)
}

TEST_F(ExportTest, SvgEscapesTokenTextAndReplacesInvalidBytes) {
  std::vector<std::string> labels;
  for (int t = 0; t < trace_.n_tokens(); ++t) labels.push_back(t % 2 ? "<a & \"b\">" : "\xFF\x01z");
  const plot::Figure figure = plot::router_heatmap_figure(trace_, 2, labels, 3);
  const fs::path path = dir_ / "router.svg";
  plot::export_figure(figure, path);
  xmlDocPtr document = xmlReadFile(path.c_str(), nullptr, XML_PARSE_NONET);
  ASSERT_NE(document, nullptr);
  EXPECT_EQ(xpath_count(document, "//svg:rect[@class='cell']"), trace_.n_tokens() * kExperts);
  xmlFreeDoc(document);
}

TEST_F(ExportTest, PngHasTheAskedSizeAndIsNotBlank) {
  const plot::Figure figure = plot::load_heatmap_figure(stats_, 2);
  const fs::path path = dir_ / "heatmap.png";
  plot::ExportOptions options;
  options.width = 900;
  options.height = 500;
  options.dpi = 150;
  plot::export_figure(figure, path, options);
  const PngFacts facts = png_facts(path);
  EXPECT_EQ(facts.width, 900);
  EXPECT_EQ(facts.height, 500);
  EXPECT_GT(facts.variance, 100) << "the image is (nearly) one colour";
  EXPECT_EQ(facts.top_left, 0xFFFFFFu) << "light theme: white background";
}

TEST_F(ExportTest, DarkThemeHasTheAppsDarkBackground) {
  plot::ExportOptions options;
  options.width = 400;
  options.height = 300;
  options.dpi = 72;
  options.theme = plot::ExportTheme::Dark;
  const fs::path path = dir_ / "dark.png";
  plot::export_figure(plot::coactivation_figure(stats_, 0), path, options);
  const PngFacts facts = png_facts(path);
  EXPECT_EQ(facts.top_left, 0x131417u);
  EXPECT_GT(facts.variance, 50);
}

TEST_F(ExportTest, PdfOpensInPoppler) {
  const fs::path path = dir_ / "path.pdf";
  plot::export_figure(plot::token_path_figure(trace_, 5, "sea"), path);
  ASSERT_EQ(read_file(path).rfind("%PDF-", 0), 0u);
  if (std::system("command -v pdftoppm >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "pdftoppm (poppler-utils) is not installed: the PDF was not rendered";
  }
  const fs::path rendered = dir_ / "rendered";
  const std::string command =
      "pdftoppm -png -r 72 -singlefile '" + path.string() + "' '" + rendered.string() + "' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const PngFacts facts = png_facts(rendered.string() + ".png");
  EXPECT_EQ(facts.width, 576);  // 8 x 5 inches at 72 dpi
  EXPECT_EQ(facts.height, 360);
  EXPECT_GT(facts.variance, 100);
  // The text is text: pdftotext finds the title (when poppler-utils has it, it has both).
  const std::string text_command = "pdftotext '" + path.string() + "' - 2>/dev/null";
  FILE* pipe = ::popen(text_command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, n);
  ::pclose(pipe);
  EXPECT_NE(text.find("through the experts"), std::string::npos) << text;
}

TEST_F(ExportTest, FormatComesFromTheExtensionOrTheOptions) {
  EXPECT_EQ(plot::export_format_for("a/b.PNG"), plot::ExportFormat::Png);
  EXPECT_EQ(plot::export_format_for("b.svg"), plot::ExportFormat::Svg);
  EXPECT_EQ(plot::parse_export_format(".pdf"), plot::ExportFormat::Pdf);
  plot::ExportOptions options;
  options.format = plot::ExportFormat::Svg;
  plot::export_figure(plot::load_heatmap_figure(stats_, 2), dir_ / "figure.data", options);
  EXPECT_EQ(read_file(dir_ / "figure.data").rfind("<?xml", 0), 0u);
}

TEST_F(ExportTest, UnknownFormatSaysSoAndWritesNothing) {
  try {
    plot::export_figure(plot::load_heatmap_figure(stats_, 2), dir_ / "figure.bmp");
    FAIL() << "no error";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("unknown image format '.bmp'"), std::string::npos)
        << error.what();
  }
  EXPECT_TRUE(files().empty());
  EXPECT_THROW(plot::export_figure(plot::load_heatmap_figure(stats_, 2), dir_ / "noextension"),
               moe::Error);
  plot::ExportOptions too_big;
  too_big.width = 100000;
  EXPECT_THROW(plot::export_figure(plot::load_heatmap_figure(stats_, 2), dir_ / "a.png", too_big),
               moe::Error);
  EXPECT_TRUE(files().empty());
}

TEST_F(ExportTest, TooSmallForTheTextSaysSo) {
  plot::ExportOptions options;
  options.width = 200;
  options.height = 150;  // 1 x 0.75 inches at 200 dpi
  try {
    plot::export_figure(plot::coactivation_figure(stats_, 0), dir_ / "small.png", options);
    FAIL() << "no error";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("does not fit"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(files().empty());
}

TEST_F(ExportTest, MissingFolderGivesAClearError) {
  const fs::path path = dir_ / "no such folder" / "load.png";
  try {
    plot::export_figure(plot::load_heatmap_figure(stats_, 2), path);
    FAIL() << "no error";
  } catch (const moe::Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
  }
  EXPECT_TRUE(files().empty());
}

TEST_F(ExportTest, FullDiskLeavesNoPartialFileAndKeepsTheOldOne) {
  // A file size limit makes writes fail the way a full disk does (EFBIG instead of ENOSPC).
  const fs::path path = dir_ / "load.png";
  moe::write_file_atomically(path, "the previous export");
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = 2000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::string message;
  try {
    plot::export_figure(plot::load_heatmap_figure(stats_, 2), path);
  } catch (const moe::Error& error) {
    message = error.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);
  ASSERT_FALSE(message.empty()) << "the export did not fail";
  EXPECT_NE(message.find("cannot write " + path.string()), std::string::npos) << message;
  EXPECT_EQ(files(), std::vector<std::string>{"load.png"}) << "a temporary file was left";
  EXPECT_EQ(read_file(path), "the previous export");
}

TEST_F(ExportTest, EveryFigureExportsInEveryFormat) {
  std::vector<plot::DomainStats> domains = {{"code", moe::compute_routing_stats(trace_, 0, 20)},
                                            {"maths", moe::compute_routing_stats(trace_, 20, 20)}};
  const std::vector<plot::Figure> figures = {
      plot::expert_load_figure(stats_, 0, plot::LoadMeasure::GateMass),
      plot::load_heatmap_figure(stats_, 2),
      plot::router_scores_figure(trace_, 3, 0, "x"),
      plot::token_path_figure(trace_, 3, "x"),
      plot::coactivation_figure(stats_, 1),
      plot::transitions_figure(stats_, 0, true),
      plot::layer_balance_figure(stats_, kExperts),
      plot::domain_expert_figure(domains, 2, 2)};
  int index = 0;
  for (const plot::Figure& figure : figures) {
    for (const char* extension : {".png", ".svg", ".pdf"}) {
      const fs::path path = dir_ / ("figure" + std::to_string(index) + extension);
      plot::ExportOptions options;
      options.width = std::string(extension) == ".png" ? 480 : 0;
      options.height = std::string(extension) == ".png" ? 320 : 0;
      options.dpi = 100;
      ASSERT_NO_THROW(plot::export_figure(figure, path, options)) << figure.title;
      EXPECT_GT(fs::file_size(path), 200u) << path;
    }
    ++index;
  }
}

TEST(AggregateFigures, DomainRowsSumToOneAndBalanceHasALinePerMeasure) {
  const moe::RoutingTrace trace = synthetic_trace(30, 3);
  const std::vector<plot::DomainStats> domains = {{"a", moe::compute_routing_stats(trace, 0, 10)},
                                                  {"b", moe::compute_routing_stats(trace, 10, 20)}};
  const plot::Figure figure = plot::domain_expert_figure(domains, 1, trace.top_k());
  ASSERT_EQ(figure.cells.size(), 2u * kExperts);
  for (int row = 0; row < 2; ++row) {
    double sum = 0;
    for (const plot::Rect& cell : figure.cells)
      if (cell.row == row) sum += cell.value;
    EXPECT_NEAR(sum, 1.0, 1e-9) << "domain " << row;
  }
  EXPECT_EQ(figure.y.ticks.at(1).label, "b (20)");
  const plot::Figure balance =
      plot::layer_balance_figure(moe::compute_routing_stats(trace), kExperts);
  ASSERT_EQ(balance.lines.size(), 4u);
  for (const plot::Line& line : balance.lines) EXPECT_EQ(line.ys.size(), 3u);
  EXPECT_EQ(balance.legend.size(), 4u);
}

// ---- data ----

TEST(RoutingData, JsonRoundTripsTheTraceExactly) {
  const moe::RoutingTrace trace = synthetic_trace(12, 5);
  std::vector<moe::RoutingTokenInfo> tokens;
  for (int t = 0; t < trace.n_tokens(); ++t)
    tokens.push_back({t, 100 + t, "tok \"" + std::to_string(t) + "\""});
  const nlohmann::json json =
      moe::routing_to_json({"m", "/tmp/m.gguf", "mixtral", 4}, tokens, trace);
  EXPECT_EQ(json.at("schema_version"), moe::kRoutingSchemaVersion);
  const nlohmann::json parsed = nlohmann::json::parse(json.dump());
  const moe::RoutingTrace back = moe::routing_trace_from_json(parsed);
  ASSERT_EQ(back.n_tokens(), trace.n_tokens());
  EXPECT_EQ(back.moe_layers(), trace.moe_layers());
  EXPECT_EQ(back.n_expert(), trace.n_expert());
  EXPECT_EQ(back.top_k(), trace.top_k());
  for (int t = 0; t < trace.n_tokens(); ++t) {
    for (int layer : trace.moe_layers()) {
      EXPECT_EQ(back.at(t, layer).logits, trace.at(t, layer).logits);
      EXPECT_EQ(back.at(t, layer).probs, trace.at(t, layer).probs);
      EXPECT_EQ(back.at(t, layer).experts, trace.at(t, layer).experts);
      EXPECT_EQ(back.at(t, layer).weights, trace.at(t, layer).weights);
    }
  }
  // The stats block holds the same loads the trace gives.
  const moe::RoutingStats stats = moe::compute_routing_stats(back);
  EXPECT_EQ(parsed.at("stats").at("layers").at(1).at("token_counts").get<std::vector<int64_t>>(),
            stats.layers[1].token_counts);
}

TEST(RoutingData, JsonFromANewerSchemaIsRefused) {
  nlohmann::json json = moe::routing_to_json({}, {}, synthetic_trace(0, 1));
  json["schema_version"] = moe::kRoutingSchemaVersion + 1;
  EXPECT_THROW(moe::routing_trace_from_json(json), moe::Error);
}

TEST(RoutingData, TraceCsvRoundTripsEveryNumberAndText) {
  const moe::RoutingTrace trace = synthetic_trace(9, 11);
  std::vector<moe::RoutingTokenInfo> tokens;
  const std::vector<std::string> texts = {"plain",     "comma, here", "quote \"q\"",
                                          "new\nline", " ",           "é😀"};
  for (int t = 0; t < trace.n_tokens(); ++t)
    tokens.push_back({t, 7 * t, texts[static_cast<size_t>(t) % texts.size()]});
  std::stringstream csv;
  moe::write_routing_csv(csv, tokens, trace);
  const std::vector<moe::RoutingCsvRow> rows = moe::read_routing_csv(csv);
  ASSERT_EQ(rows.size(),
            static_cast<size_t>(trace.n_tokens()) * trace.moe_layers().size() * kExperts);
  size_t i = 0;
  for (int t = 0; t < trace.n_tokens(); ++t) {
    for (int layer : trace.moe_layers()) {
      const moe::RoutingRecord& record = trace.at(t, layer);
      for (int e = 0; e < kExperts; ++e, ++i) {
        const moe::RoutingCsvRow& row = rows[i];
        ASSERT_EQ(row.token, t);
        EXPECT_EQ(row.token_id, 7 * t);
        EXPECT_EQ(row.text, texts[static_cast<size_t>(t) % texts.size()]);
        EXPECT_EQ(row.layer, layer);
        EXPECT_EQ(row.expert, e);
        EXPECT_EQ(row.logit, record.logits[static_cast<size_t>(e)]);
        EXPECT_EQ(row.prob, record.probs[static_cast<size_t>(e)]);
        const auto chosen = std::find(record.experts.begin(), record.experts.end(), e);
        if (chosen == record.experts.end()) {
          EXPECT_EQ(row.rank, -1);
        } else {
          EXPECT_EQ(row.rank, chosen - record.experts.begin());
          EXPECT_EQ(row.weight, record.weights[static_cast<size_t>(row.rank)]);
        }
      }
    }
  }
}

TEST(RoutingData, LoadCsvHasOneRowPerLayerAndExpertWithTheStatsNumbers) {
  const moe::RoutingTrace trace = synthetic_trace(25, 13);
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  std::stringstream csv;
  moe::write_load_csv(csv, stats, trace.top_k());
  const std::string header = csv.str().substr(0, csv.str().find('\n'));
  EXPECT_EQ(header, "layer,expert,token_count,token_share,load_share,gate_mass,mean_prob");
  const std::vector<moe::LoadCsvRow> rows = moe::read_load_csv(csv);
  ASSERT_EQ(rows.size(), stats.layers.size() * kExperts);
  for (size_t m = 0; m < stats.layers.size(); ++m) {
    double load_share_sum = 0;
    for (size_t e = 0; e < kExperts; ++e) {
      const moe::LoadCsvRow& row = rows[m * kExperts + e];
      EXPECT_EQ(row.layer, stats.layers[m].layer);
      EXPECT_EQ(row.expert, static_cast<int>(e));
      EXPECT_EQ(row.token_count, stats.layers[m].token_counts[e]);
      EXPECT_EQ(row.gate_mass, stats.layers[m].gate_mass[e]);
      EXPECT_EQ(row.mean_prob, stats.layers[m].mean_prob[e]);
      EXPECT_EQ(row.token_share, static_cast<double>(row.token_count) / 25);
      load_share_sum += row.load_share;
    }
    EXPECT_NEAR(load_share_sum, 1.0, 1e-12);
  }
}

TEST(RoutingData, MalformedCsvNamesTheLine) {
  std::stringstream csv(
      "layer,expert,token_count,token_share,load_share,gate_mass,mean_prob\n0,1,x,0,0,0,0\n");
  try {
    moe::read_load_csv(csv);
    FAIL() << "no error";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("line 2"), std::string::npos) << error.what();
  }
}

// Token labels and domain names in Chinese, Japanese or Korean are drawn through a fallback font
// (Pango), and characters no font has are counted so that the user is told instead of getting
// silent boxes.
TEST(ExportText, CjkLabelsUseAFallbackFontAndMissingGlyphsAreCounted) {
  FILE* fonts = popen("fc-list :lang=zh family 2>/dev/null", "r");
  std::string families;
  char buffer[256];
  while (fonts != nullptr && fgets(buffer, sizeof buffer, fonts) != nullptr) families += buffer;
  if (fonts != nullptr) pclose(fonts);
  if (families.empty())
    GTEST_SKIP()
        << "no font with Chinese glyphs installed (scripts/deps.sh installs fonts-wqy-microhei)";

  // A bar chart whose category labels (like domain names) are `label`.
  const auto figure_labelled = [](const std::string& label) {
    moe::plot::Figure figure;
    figure.title = "Experts per domain";
    figure.x.label = "expert";
    figure.x.max = 2;
    figure.x.ticks = moe::plot::category_ticks({label, label});
    figure.y.max = 2;
    figure.y.ticks = moe::plot::nice_ticks(0, 2);
    for (int expert = 0; expert < 2; ++expert) {
      moe::plot::Rect bar;
      bar.x0 = expert + 0.1, bar.x1 = expert + 0.9, bar.y1 = expert + 1;
      bar.fill = moe::plot::expert_color(expert);
      figure.bars.push_back(bar);
    }
    return figure;
  };
  const fs::path dir = fs::temp_directory_path() / ("moescope_cjk_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* extension : {".png", ".pdf"}) {
    const moe::plot::ExportReport chinese = moe::plot::export_figure(
        figure_labelled("中文 专家"), dir / (std::string("zh") + extension));
    EXPECT_EQ(chinese.characters_without_font, 0) << extension;
    EXPECT_TRUE(moe::plot::missing_font_note(chinese).empty());
    // Private-use code points: no font draws them, so they must be counted.
    const moe::plot::ExportReport unknown = moe::plot::export_figure(
        figure_labelled("\xEE\x80\x80\xEE\x80\x81"), dir / (std::string("pua") + extension));
    EXPECT_GE(unknown.characters_without_font, 2) << extension;
    EXPECT_NE(moe::plot::missing_font_note(unknown).find("fonts-noto-cjk"), std::string::npos);
  }
  fs::remove_all(dir);
}
