// The view registry (app/gui/view_registry.cpp) is the one list of views: the tab bar, --panel,
// --help, the scripted mode's `panel`, the guided tour and these tests read it. Here: every entry
// is complete and distinct, every key is accepted where a view is named and listed where the
// views are listed, the tour visits every view, and the real app draws every view in its
// scripted mode (under Xvfb; skipped with the reason when xvfb-run is missing).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "explanations.hpp"
#include "moe/corpus_profile_file.hpp"
#include "moe/error.hpp"
#include "moe/prune_plan.hpp"
#include "moe/routing_data.hpp"
#include "png_io.hpp"
#include "profile_fixtures.hpp"
#include "script.hpp"
#include "tour.hpp"
#include "training_run.hpp"
#include "view.hpp"

namespace fs = std::filesystem;
using namespace moescope::gui;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(GuiViews, EveryEntryIsCompleteAndDistinct) {
  ASSERT_FALSE(views().empty());
  std::set<std::string> keys, labels;
  TrainingRun training;
  const ViewSetup setup{fs::temp_directory_path(), training};
  for (const ViewInfo* view : views()) {
    const std::string key = view->key;
    ASSERT_FALSE(key.empty());
    for (char c : key) EXPECT_TRUE(std::islower(static_cast<unsigned char>(c))) << key;
    EXPECT_TRUE(keys.insert(key).second) << "two views named " << key;
    EXPECT_TRUE(labels.insert(view->label).second) << "two tabs labelled " << view->label;
    EXPECT_GT(std::string(view->title).size(), 3u) << key;
    EXPECT_GT(std::string(view->help).size(), 40u) << key << ": the help says too little";
    EXPECT_EQ(find_view(key), view);
    EXPECT_NE(view->make(setup), nullptr) << key;
  }
  EXPECT_EQ(find_view("no-such-view"), nullptr);
  EXPECT_EQ(view_keys().size(), views().size());
}

TEST(GuiViews, ScriptsAcceptEveryKeyAndListThemAllWhenWrong) {
  for (const std::string& key : view_keys()) {
    const auto script = parse_script("panel " + key, view_keys());
    ASSERT_EQ(script.size(), 1u);
    EXPECT_EQ(script[0].text, key);
  }
  try {
    parse_script("panel nowhere", view_keys());
    FAIL() << "an unknown view was accepted";
  } catch (const moe::Error& error) {
    for (const std::string& key : view_keys())
      EXPECT_NE(std::string(error.what()).find(key), std::string::npos) << error.what();
  }
}

TEST(GuiViews, TheTourVisitsTheColumnThenEveryViewInTabOrder) {
  const std::vector<Explanation>& steps = explanations();
  ASSERT_EQ(steps.size(), views().size() + 2);
  EXPECT_STREQ(steps[0].panel, "prompt");
  EXPECT_STREQ(steps[1].panel, "strip");
  for (size_t i = 0; i < views().size(); ++i) {
    EXPECT_STREQ(steps[i + 2].panel, views()[i]->key);
    EXPECT_STREQ(steps[i + 2].text, views()[i]->help);
  }
}

// The tour's bubble never covers what a step explains: over the prompt column for a view or
// the token strip, over the views for the prompt box.
TEST(GuiViews, TheTourBubbleSitsAwayFromWhatItExplains) {
  for (const ViewInfo* view : views())
    EXPECT_EQ(tour_bubble_side(view->key), TourSide::Left) << view->key;
  EXPECT_EQ(tour_bubble_side("strip"), TourSide::Left);
  EXPECT_EQ(tour_bubble_side("prompt"), TourSide::Right);
}

TEST(GuiViews, HelpAndListViewsNameEveryView) {
  ASSERT_TRUE(fs::exists(MOESCOPE_GUI_PATH)) << MOESCOPE_GUI_PATH;
  const moe::testing::CommandResult help = moe::testing::run_program(MOESCOPE_GUI_PATH, "--help");
  ASSERT_EQ(help.exit_code, 0) << help.err;
  const moe::testing::CommandResult list =
      moe::testing::run_program(MOESCOPE_GUI_PATH, "--list-views");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const ViewInfo* view : views()) {
    EXPECT_NE(help.out.find(view->key), std::string::npos) << view->key << "\n" << help.out;
    EXPECT_NE(list.out.find(std::string(view->key) + "\t" + view->label + "\n"),
              std::string::npos)
        << list.out;
  }
  const moe::testing::CommandResult wrong =
      moe::testing::run_program(MOESCOPE_GUI_PATH, "--panel nowhere --exit");
  EXPECT_NE(wrong.exit_code, 0);
}

// One scripted run of the real app under Xvfb in a scratch folder of its own (skipped, with the
// reason, where xvfb-run is missing). The script starts on a fresh demo model and a prompt.
class AppScript : public ::testing::Test {
protected:
  void SetUp() override {
    if (std::system("command -v xvfb-run >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "xvfb-run is not installed (scripts/deps.sh installs xvfb)";
    dir_ = fs::temp_directory_path() /
           ("moescope_test_gui_views_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Runs `body` after opening the demo model on `prompt`.
  moe::testing::CommandResult run(const std::string& body,
                                  const std::string& prompt = "The cat sat") const {
    std::ofstream(dir_ / "script.txt")
        << "demo-model " << path("demo.gguf") << "\nprompt " << prompt << "\nwait\n" << body;
    return moe::testing::run_gui_script(MOESCOPE_GUI_PATH, dir_.string());
  }

private:
  fs::path dir_;
};

TEST_F(AppScript, TheAppDrawsEveryView) {
  std::string script;
  for (const std::string& key : view_keys())
    script += "panel " + key + "\nscreenshot " + path(key + ".png") + "\n";
  const moe::testing::CommandResult run = this->run(script + "exit\n");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  std::vector<std::vector<uint8_t>> shown;
  for (const std::string& key : view_keys()) {
    ASSERT_TRUE(fs::exists(path(key + ".png"))) << key << "\n" << run.out;
    const Image image = read_png(path(key + ".png"));
    EXPECT_GT(grey_variance(image), 50.0) << key;
    // Each tab shows something of its own.
    for (const std::vector<uint8_t>& other : shown) EXPECT_NE(image.rgba, other) << key;
    shown.push_back(image.rgba);
  }
}

// The Systems view's buttons, pressed as a user would: Switch's rule lands in the Playground,
// GLaM's shape opens a 64-expert top-2 model; a press of a button that is not shown fails the
// script.
TEST_F(AppScript, SystemsButtonsShowEachSystemsRouting) {
  const moe::testing::CommandResult run =
      this->run("panel systems\npress Apply its rule##Switch Transformer\nwait\nsave-session " +
                    path("switch.moescope.json") +
                    "\npanel systems\npress Apply its scoring##DeepSeek-V3\nwait\nsave-session " +
                    path("deepseek.moescope.json") +
                    "\npanel systems\npress Random model##GLaM\nwait\nsave-session " +
                    path("glam.moescope.json") +
                    "\npanel systems\npress Random model##gpt-oss\nwait\nsave-session " +
                    path("gpt-oss.moescope.json") +
                    "\npanel systems\npress Random model##Grok-1\nwait\nsave-session " +
                    path("grok.moescope.json") + "\nexit\n",
                "The cat sat on the mat");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto switch_session = nlohmann::json::parse(read_text(path("switch.moescope.json")));
  EXPECT_EQ(switch_session.at("view").at("panel"), "playground");
  const std::string switch_routing = switch_session.at("routing").dump();
  EXPECT_NE(switch_routing.find("top-k 1"), std::string::npos) << switch_routing.substr(0, 2000);
  EXPECT_NE(switch_routing.find("capacity routing, factor 1.25"), std::string::npos);
  // DeepSeek-V3 on the open model: sigmoid scores and a balancing bias on the experts whose
  // load is off the mean (the bundled prompt never loads eight experts evenly).
  const std::string deepseek_routing =
      nlohmann::json::parse(read_text(path("deepseek.moescope.json"))).at("routing").dump();
  EXPECT_NE(deepseek_routing.find("sigmoid"), std::string::npos) << deepseek_routing.substr(0, 2000);
  EXPECT_NE(deepseek_routing.find("selection bias"), std::string::npos);
  const auto glam_session = nlohmann::json::parse(read_text(path("glam.moescope.json")));
  EXPECT_NE(glam_session.at("model_path").get<std::string>().find("moescope-random-glam-shape"),
            std::string::npos);
  EXPECT_NE(glam_session.at("routing").dump().find("\"n_expert\":64"), std::string::npos);
  // gpt-oss (OpenAI's open-weight MoE, its own row) and Grok-1 open as their architectures.
  const auto gpt_oss_session = nlohmann::json::parse(read_text(path("gpt-oss.moescope.json")));
  EXPECT_NE(gpt_oss_session.at("model_path").get<std::string>().find("random-gpt-oss-shape"),
            std::string::npos);
  const std::string gpt_oss_routing = gpt_oss_session.at("routing").dump();
  EXPECT_NE(gpt_oss_routing.find("\"n_expert\":32"), std::string::npos)
      << gpt_oss_routing.substr(0, 2000);
  const auto grok_session = nlohmann::json::parse(read_text(path("grok.moescope.json")));
  EXPECT_NE(grok_session.at("model_path").get<std::string>().find("random-grok-shape"),
            std::string::npos);

  // A checkbox is pressed the same way (the Expert load view's loss table).
  const moe::testing::CommandResult loss = this->run(
      "panel load\npress the loss, step by step\nscreenshot " + path("loss.png") +
      "\npress the loss, step by step\nscreenshot " + path("histogram.png") + "\nexit\n");
  ASSERT_EQ(loss.exit_code, 0) << loss.out;
  EXPECT_NE(read_png(path("loss.png")).rgba, read_png(path("histogram.png")).rgba);

  const moe::testing::CommandResult missing = this->run("press No such button\nexit\n");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("no enabled button 'No such button'"), std::string::npos)
      << missing.out;
}

// "Inside the MoE layer" as a class sees it: Next walks the selected token through the seven
// steps, each a screen of its own.
TEST_F(AppScript, InsideTheMoeLayerWalksSevenSteps) {
  std::string script = "panel inside\nlayer 0\nselect-token 1\nscreenshot " + path("step1.png");
  for (int step = 2; step <= 7; ++step)
    script += "\npress Next\nscreenshot " + path("step" + std::to_string(step) + ".png");
  const moe::testing::CommandResult run = this->run(script + "\nexit\n");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  std::vector<std::vector<uint8_t>> shown;
  for (int step = 1; step <= 7; ++step) {
    const std::string name = "step" + std::to_string(step) + ".png";
    ASSERT_TRUE(fs::exists(path(name))) << name << "\n" << run.out;
    const Image image = read_png(path(name));
    EXPECT_GT(grey_variance(image), 50.0) << name;
    for (const std::vector<uint8_t>& other : shown) EXPECT_NE(image.rgba, other) << name;
    shown.push_back(image.rgba);
  }
}

// The pixels of the views' area of a screenshot: below the token strip, right of the prompt
// column, above the status bar (whose timings change from frame to frame).
std::vector<uint8_t> views_area_of(const std::string& file) {
  const Image image = read_png(file);
  std::vector<uint8_t> area;
  const size_t stride = static_cast<size_t>(image.width) * 4;
  for (int y = image.height * 2 / 5; y < image.height * 9 / 10; ++y)
    area.insert(area.end(), image.rgba.begin() + static_cast<long>(y * stride + stride / 3),
                image.rgba.begin() + static_cast<long>((y + 1) * stride));
  return area;
}

// The token strip's "Words" toggle joins a word's pieces ("Guten Morgen" is not
// "G ut en M or gen" on a slide): the strip (the top of the window's right column; the status
// bar's timings change from frame to frame) changes when it goes on and back when it goes off.
TEST_F(AppScript, TheWordsToggleRedrawsTheStrip) {
  const moe::testing::CommandResult run = this->run(
      "panel router\nscreenshot " + path("pieces.png") + "\npress Words\nscreenshot " + path("words.png") +
          "\npress Words\nscreenshot " + path("pieces_again.png") + "\nexit\n",
      "Guten Morgen, wie geht es Ihnen heute?");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto strip = [&](const std::string& name) {
    const Image image = read_png(path(name));
    std::vector<uint8_t> top;
    const size_t stride = static_cast<size_t>(image.width) * 4;
    for (int y = 0; y < image.height / 4; ++y)
      top.insert(top.end(), image.rgba.begin() + static_cast<long>(y * stride + stride / 3),
                 image.rgba.begin() + static_cast<long>((y + 1) * stride));
    return top;
  };
  EXPECT_NE(strip("pieces.png"), strip("words.png"));
  EXPECT_EQ(strip("pieces.png"), strip("pieces_again.png"));
  // The router heatmap below (the view shown first) labels and frames words too.
  const auto views_area = [&](const std::string& name) { return views_area_of(path(name)); };
  EXPECT_NE(views_area("pieces.png"), views_area("words.png"));
  EXPECT_EQ(views_area("pieces.png"), views_area("pieces_again.png"));
}

// A | B: with a prompt B, the strip and the router, load and domains views show it beside the
// current prompt; the "A | B" toggle (shown only then) puts each view back as it was without B.
// Compared: the views' area (below the strip, left of the status bar's timings).
TEST_F(AppScript, PromptBShowsBesideTheCurrentPromptAndTheToggleHidesIt) {
  std::string script;
  for (const char* panel : {"router", "load", "domains"}) {
    script += std::string("panel ") + panel + "\nwait\nframes 3\nscreenshot " +
              path(std::string(panel) + "_a.png") + "\n";
  }
  script += "compare-prompt def fibonacci(n): return n\n";
  for (const char* panel : {"router", "load", "domains"}) {
    script += std::string("panel ") + panel + "\nframes 3\nscreenshot " +
              path(std::string(panel) + "_ab.png") + "\n";
  }
  script += "press A | B\n";
  for (const char* panel : {"router", "load", "domains"}) {
    script += std::string("panel ") + panel + "\nframes 3\nscreenshot " +
              path(std::string(panel) + "_a_again.png") + "\n";
  }
  const moe::testing::CommandResult run =
      this->run(script + "exit\n", "Guten Morgen, wie geht es Ihnen heute?");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto views_area = [&](const std::string& name) { return views_area_of(path(name)); };
  for (const std::string panel : {"router", "load", "domains"}) {
    EXPECT_NE(views_area(panel + "_a.png"), views_area(panel + "_ab.png")) << panel;
    EXPECT_EQ(views_area(panel + "_a.png"), views_area(panel + "_a_again.png")) << panel;
  }
}

// A token's tooltip shows its router scores as a figure without an Export button (a tooltip
// moves away when the pointer does, so the button could never be clicked). Its figure used to
// carry the button, and it was drawn first: exporting the view's figure while a token was
// hovered wrote the tooltip's router scores instead.
TEST_F(AppScript, TokenTooltipsHaveNoExportButton) {
  const moe::testing::CommandResult run =
      this->run("panel load\nhover-token 2\nscreenshot " + path("tooltip.png") +
                "\nexport-figure " + path("load.svg") + "\nexit\n");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const std::string svg = read_text(path("load.svg"));
  EXPECT_NE(svg.find("Expert load"), std::string::npos);
  EXPECT_EQ(svg.find("Router scores"), std::string::npos);
}

// The prompt box wraps long prompts (a German or Russian sentence used to run off the column's
// edge): a word added at the end of a long prompt shows in the box. Compared: the top of the
// prompt column (the box, above its token count).
TEST_F(AppScript, TheLongPromptWrapsInsideTheBox) {
  const std::string sentence =
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, Guten Morgen, wie geht es dir "
      "heute? Ich hoffe, dass alles gut ist";
  const moe::testing::CommandResult run =
      this->run("font-size 18\nprompt " + sentence + "\nwait\nframes 2\nscreenshot " +
                path("short.png") + "\nprompt " + sentence + " und die Sonne scheint.\nwait\n" +
                "frames 2\nscreenshot " + path("long.png") + "\nexit\n");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto box = [&](const std::string& name) {
    const Image image = read_png(path(name));
    std::vector<uint8_t> area;
    const size_t stride = static_cast<size_t>(image.width) * 4;
    for (int y = 0; y < image.height * 3 / 10; ++y)
      area.insert(area.end(), image.rgba.begin() + static_cast<long>(y * stride),
                  image.rgba.begin() + static_cast<long>(y * stride + stride / 4));
    return area;
  };
  EXPECT_NE(box("short.png"), box("long.png"));
}

// Presenter mode as a teacher drives it: Right goes to the next view, Down to the next layer,
// Tab to the next token, Escape back to the normal window; the screen has no menu bar then. In
// a view with steps (Inside the MoE layer) Right goes through its steps first.
TEST_F(AppScript, PresenterModeStepsThroughViewsLayersAndTokens) {
  const std::vector<std::string> keys = view_keys();
  const auto index_of = [&](const std::string& key) {
    return static_cast<size_t>(std::find(keys.begin(), keys.end(), key) - keys.begin());
  };
  const size_t load = index_of("load"), inside = index_of("inside");
  ASSERT_LT(load + 2, keys.size());
  ASSERT_LT(inside + 1, keys.size());
  const moe::testing::CommandResult run = this->run(
      "panel load\nlayer 0\nselect-token 1\nscreenshot " + path("normal.png") +
      "\npresenter 1\nscreenshot " + path("presenter.png") +
      "\nkey right\nkey right\nkey down\nkey tab\nsave-session " + path("a.moescope.json") +
      "\nkey left\nkey escape\nkey right\nsave-session " + path("b.moescope.json") +
      "\npanel inside\npresenter 1\nkey right\nkey right\nkey right\nkey right\nkey right"
      "\nkey right\nsave-session " + path("c.moescope.json") +
      "\nkey right\nsave-session " + path("d.moescope.json") + "\nexit\n");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto a = nlohmann::json::parse(read_text(path("a.moescope.json"))).at("view");
  EXPECT_EQ(a.at("panel"), keys[load + 2]);  // two views on
  EXPECT_EQ(a.at("layer"), 1);
  EXPECT_EQ(a.at("token"), 2);
  // Left went back one view; Escape left presenter mode, so Right no longer changes the view.
  const auto b = nlohmann::json::parse(read_text(path("b.moescope.json"))).at("view");
  EXPECT_EQ(b.at("panel"), keys[load + 1]);
  // Six presses walk steps 2 to 7 of Inside the MoE layer; the seventh goes to the next view.
  EXPECT_EQ(nlohmann::json::parse(read_text(path("c.moescope.json"))).at("view").at("panel"),
            "inside");
  EXPECT_EQ(nlohmann::json::parse(read_text(path("d.moescope.json"))).at("view").at("panel"),
            keys[inside + 1]);
  // No menu bar in presenter mode: the window differs from the normal one.
  const Image normal = read_png(path("normal.png"));
  const Image presenter = read_png(path("presenter.png"));
  ASSERT_EQ(normal.rgba.size(), presenter.rgba.size());
  EXPECT_NE(normal.rgba, presenter.rgba);
}

}  // namespace

namespace {

// The load CSV's token counts: [layer][expert].
std::map<int, std::map<int, int64_t>> load_csv_counts(const std::string& text) {
  std::map<int, std::map<int, int64_t>> counts;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || !std::isdigit(static_cast<unsigned char>(line[0])))
      continue;
    std::istringstream fields(line);
    std::string layer, expert, tokens;
    std::getline(fields, layer, ',');
    std::getline(fields, expert, ',');
    std::getline(fields, tokens, ',');
    counts[std::stoi(layer)][std::stoi(expert)] = std::stoll(tokens);
  }
  return counts;
}

std::set<std::pair<int, int>> disabled_of(const moe::RoutingTrace& trace) {
  std::set<std::pair<int, int>> disabled;
  for (const moe::DisabledExpert& d : trace.interventions().disabled)
    disabled.insert({d.layer, d.expert});
  return disabled;
}

moe::RoutingTrace session_routing(const std::string& path) {
  return moe::routing_trace_from_json(nlohmann::json::parse(read_text(path)).at("routing"));
}

}  // namespace

// A corpus profile opened like a session: the pooled views draw and export its counts, the
// per-token views say it has none (and draw), the Playground prunes by it, and Close profile
// goes back to the prompt. A session saved with the profile open opens it again; one saved
// without closes it.
TEST_F(AppScript, ACorpusProfileOpensLikeASessionAndExportsItsCounts) {
  const moe::CorpusProfile profile = moe::testing::demo_shaped_profile();
  moe::write_corpus_profile(path("corpus.moeprofile"), profile);
  std::ofstream(path("broken.moeprofile")) << "{\"format\": \"something else\"}";
  // A damaged profile: an error dialog, and the app goes on.
  std::string script = "wait\nsave-session " + path("plain.moescope.json") + "\nopen " +
                       path("broken.moeprofile") + "\nexpect-error\nopen " +
                       path("corpus.moeprofile") + "\npanel load\nlayer 1\nexport-figure " +
                       path("load.svg") + "\nexport-data load-csv " + path("load.csv") +
                       "\npanel domains\nexport-figure " + path("domains.svg") +
                       "\npanel coactivation\nexport-figure " + path("coactivation.svg") + "\n";
  for (const char* view : {"router", "inside", "path", "experts", "model", "systems"})
    script += std::string("panel ") + view + "\nframes 2\n";
  script += "panel playground\npress frequency\n";
  for (int i = 0; i < 4; ++i) script += "press Keep fewer\n";
  script += "wait\nsave-session " + path("pruned.moescope.json") +
            "\npress Close profile\npanel load\nexport-figure " + path("prompt.svg") +
            "\nopen-session " + path("pruned.moescope.json") + "\nwait\npanel load\nexport-figure " +
            path("reopened.svg") + "\nopen-session " + path("plain.moescope.json") +
            "\nwait\npanel load\nexport-figure " + path("plain.svg") + "\nexit\n";
  const moe::testing::CommandResult run = this->run(script);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("Profile: synthetic-corpus"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("another shape"), std::string::npos) << run.out;

  // The load table is the profile's, every layer and expert.
  const auto counts = load_csv_counts(read_text(path("load.csv")));
  ASSERT_EQ(counts.size(), profile.layers.size());
  for (const moe::ProfileLayer& layer : profile.layers) {
    for (size_t e = 0; e < layer.token_counts.size(); ++e)
      EXPECT_EQ(counts.at(layer.layer).at(static_cast<int>(e)), layer.token_counts[e])
          << "layer " << layer.layer << " expert " << e;
  }
  const std::string load = read_text(path("load.svg"));
  EXPECT_NE(load.find("corpus profile synthetic-corpus"), std::string::npos);
  EXPECT_NE(load.find("Expert load at layer 1 (600 tokens)"), std::string::npos);
  const std::string domains = read_text(path("domains.svg"));
  EXPECT_NE(domains.find("alpha"), std::string::npos);
  EXPECT_NE(domains.find("beta"), std::string::npos);
  EXPECT_NE(read_text(path("coactivation.svg")).find("corpus profile"), std::string::npos);

  // Pruned to half by frequency as the profile ranks them.
  const moe::PrunePlan plan = moe::make_prune_plan(profile, 0.5, moe::PruneCriterion::Frequency);
  std::set<std::pair<int, int>> expected;
  for (const moe::DisabledExpert& d : moe::prune_interventions(plan).disabled)
    expected.insert({d.layer, d.expert});
  EXPECT_EQ(disabled_of(session_routing(path("pruned.moescope.json"))), expected);

  // Closed: the prompt's figures again.
  const std::string prompt = read_text(path("prompt.svg"));
  EXPECT_EQ(prompt.find("corpus profile"), std::string::npos);
  EXPECT_EQ(prompt.find("600 tokens"), std::string::npos);

  // The session saved with the profile open names it, absolute and beside the session file,
  // and reopening it shows the profile again; the one saved before has none and closes it.
  const nlohmann::json pruned = nlohmann::json::parse(read_text(path("pruned.moescope.json")));
  EXPECT_TRUE(fs::equivalent(pruned.at("profile_path").get<std::string>(),
                             path("corpus.moeprofile")));
  EXPECT_TRUE(fs::path(pruned.at("profile_path").get<std::string>()).is_absolute());
  EXPECT_EQ(pruned.at("profile_path_relative"), "corpus.moeprofile");
  EXPECT_FALSE(nlohmann::json::parse(read_text(path("plain.moescope.json"))).contains("profile_path"));
  EXPECT_NE(read_text(path("reopened.svg")).find("corpus profile synthetic-corpus"),
            std::string::npos);
  const std::string plain = read_text(path("plain.svg"));
  EXPECT_EQ(plain.find("corpus profile"), std::string::npos);
  EXPECT_EQ(plain.find("600 tokens"), std::string::npos);
}

// The Playground's pruning slider on the prompt's own routing: REAP (the CPU backend records
// the expert norms) and then frequency, ranked from the unchanged model's routing; the pruned
// experts get no token; Restore brings them all back.
TEST_F(AppScript, PruningInThePlaygroundLeavesThePrunedExpertsNoTokens) {
  std::string script = "panel playground\n";
  for (int i = 0; i < 4; ++i) script += "press Keep fewer\n";
  script += "wait\nsave-session " + path("reap.moescope.json") + "\nexport-data load-csv " +
            path("reap.csv") + "\npress frequency\nwait\nsave-session " +
            path("frequency.moescope.json") + "\npress Restore all experts\nwait\nsave-session " +
            path("restored.moescope.json") + "\nexit\n";
  const moe::testing::CommandResult run =
      this->run(script, "The cat sat on the mat and looked at the dog for a long time");
  ASSERT_EQ(run.exit_code, 0) << run.out;

  const moe::RoutingTrace reap = session_routing(path("reap.moescope.json"));
  const std::set<std::pair<int, int>> pruned = disabled_of(reap);
  ASSERT_EQ(pruned.size(), 16u);  // 4 of 8 experts at each of the 4 MoE layers
  const auto counts = load_csv_counts(read_text(path("reap.csv")));
  for (const auto& [layer, expert] : pruned) EXPECT_EQ(counts.at(layer).at(expert), 0);
  for (int t = 0; t < reap.n_tokens(); ++t) {
    for (int layer : reap.moe_layers()) {
      for (int32_t expert : reap.at(t, layer).experts)
        EXPECT_FALSE(pruned.count({layer, expert})) << "token " << t << " layer " << layer;
    }
  }

  // By frequency: every pruned expert had at most the tokens of every kept one, on the
  // unchanged routing (what Restore shows again).
  const moe::RoutingTrace restored = session_routing(path("restored.moescope.json"));
  EXPECT_TRUE(restored.interventions().disabled.empty());
  const std::set<std::pair<int, int>> by_frequency =
      disabled_of(session_routing(path("frequency.moescope.json")));
  ASSERT_EQ(by_frequency.size(), 16u);
  for (int layer : restored.moe_layers()) {
    std::vector<int64_t> chosen(8, 0);
    for (int t = 0; t < restored.n_tokens(); ++t)
      for (int32_t expert : restored.at(t, layer).experts) ++chosen[static_cast<size_t>(expert)];
    for (int p = 0; p < 8; ++p) {
      for (int k = 0; k < 8; ++k) {
        if (by_frequency.count({layer, p}) && !by_frequency.count({layer, k})) {
          EXPECT_LE(chosen[static_cast<size_t>(p)], chosen[static_cast<size_t>(k)])
              << "layer " << layer << ": pruned E" << p << ", kept E" << k;
        }
      }
    }
  }
}

// The Playground of a 64-expert model (GLaM's shape): its knock-out table keeps within ImGui's
// 64 columns (the layer column and 63 experts) instead of aborting the app.
TEST_F(AppScript, ThePlaygroundDrawsA64ExpertModel) {
  const moe::testing::CommandResult run = this->run(
      "panel systems\npress Random model##GLaM\nwait\npanel playground\nframes 3\nscreenshot " +
      path("glam.png") + "\nexit\n");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_TRUE(fs::exists(path("glam.png")));
}

// `moescope P.moeprofile` opens the profile over the bundled model, also with the shortcut
// flags that make a script (--panel, --screenshot, --exit).
TEST_F(AppScript, AProfileOnTheCommandLineOpensOverTheModel) {
  moe::write_corpus_profile(path("corpus.moeprofile"), moe::testing::demo_shaped_profile());
  using moe::testing::shell_quote;
  const moe::testing::CommandResult run = moe::testing::run_program(
      "xvfb-run",
      "-a -s '-screen 0 1280x720x24' " + shell_quote(MOESCOPE_GUI_PATH) + " " +
          shell_quote(path("corpus.moeprofile")) + " --config-dir " + shell_quote(path("config")) +
          " --threads 1 --panel load --screenshot " + shell_quote(path("load.png")) + " --exit",
      moe::testing::OutputStreams::Merged);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("Profile: synthetic-corpus"), std::string::npos) << run.out;
  EXPECT_TRUE(fs::exists(path("load.png")));
}
