// The view registry (app/gui/view_registry.cpp) is the one list of views: the tab bar, --panel,
// --help, the scripted mode's `panel`, the guided tour and these tests read it. Here: every entry
// is complete and distinct, every key is accepted where a view is named and listed where the
// views are listed, the tour visits every view, and the real app draws every view in its
// scripted mode (under Xvfb; skipped with the reason when xvfb-run is missing).
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "explanations.hpp"
#include "moe/error.hpp"
#include "png_io.hpp"
#include "script.hpp"
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

TEST(GuiViews, TheAppDrawsEveryView) {
  if (std::system("command -v xvfb-run >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "xvfb-run is not installed (scripts/deps.sh installs xvfb)";
  const fs::path dir =
      fs::temp_directory_path() / ("moescope_test_gui_views_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream script(dir / "script.txt");
    script << "demo-model " << (dir / "demo.gguf").string() << "\n"
           << "type The cat sat\n"
           << "wait\n";
    for (const std::string& key : view_keys())
      script << "panel " << key << "\nscreenshot " << (dir / (key + ".png")).string() << "\n";
    script << "exit\n";
  }
  const moe::testing::CommandResult run =
      moe::testing::run_gui_script(MOESCOPE_GUI_PATH, dir.string());
  ASSERT_EQ(run.exit_code, 0) << run.out;
  std::vector<std::vector<uint8_t>> shown;
  for (const std::string& key : view_keys()) {
    const fs::path file = dir / (key + ".png");
    ASSERT_TRUE(fs::exists(file)) << file << "\n" << run.out;
    const Image image = read_png(file);
    EXPECT_GT(grey_variance(image), 50.0) << key;
    // Each tab shows something of its own.
    for (const std::vector<uint8_t>& other : shown) EXPECT_NE(image.rgba, other) << key;
    shown.push_back(image.rgba);
  }
  fs::remove_all(dir);
}

// The Systems view's buttons, pressed as a user would: Switch's rule lands in the Playground,
// GLaM's shape opens a 64-expert top-2 model; a press of a button that is not shown fails the
// script.
TEST(GuiViews, SystemsButtonsShowEachSystemsRouting) {
  if (std::system("command -v xvfb-run >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "xvfb-run is not installed (scripts/deps.sh installs xvfb)";
  const fs::path dir =
      fs::temp_directory_path() / ("moescope_test_gui_systems_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto run_script = [&](const std::string& body) {
    std::ofstream(dir / "script.txt") << "demo-model " << (dir / "demo.gguf").string()
                                      << "\nprompt The cat sat on the mat\nwait\npanel systems\n"
                                      << body;
    return moe::testing::run_gui_script(MOESCOPE_GUI_PATH, dir.string());
  };
  const moe::testing::CommandResult run = run_script(
      "press Apply its rule##Switch Transformer\nwait\nsave-session " + (dir / "switch.moescope.json").string() +
      "\npanel systems\npress Random model##GLaM\nwait\nsave-session " +
      (dir / "glam.moescope.json").string() + "\nexit\n");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto switch_session = nlohmann::json::parse(read_text(dir / "switch.moescope.json"));
  EXPECT_EQ(switch_session.at("view").at("panel"), "playground");
  const std::string switch_routing = switch_session.at("routing").dump();
  EXPECT_NE(switch_routing.find("top-k 1"), std::string::npos) << switch_routing.substr(0, 2000);
  EXPECT_NE(switch_routing.find("capacity routing, factor 1.25"), std::string::npos);
  const auto glam_session = nlohmann::json::parse(read_text(dir / "glam.moescope.json"));
  EXPECT_NE(glam_session.at("model_path").get<std::string>().find("moescope-random-glam-shape"),
            std::string::npos);
  EXPECT_NE(glam_session.at("routing").dump().find("\"n_expert\":64"), std::string::npos);

  const moe::testing::CommandResult missing = run_script("press No such button\nexit\n");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("no enabled button 'No such button'"), std::string::npos)
      << missing.out;
  fs::remove_all(dir);
}

// Presenter mode as a teacher drives it: Right goes to the next view, Down to the next layer,
// Tab to the next token, Escape back to the normal window; the screen has no menu bar then.
TEST(GuiViews, PresenterModeStepsThroughViewsLayersAndTokens) {
  if (std::system("command -v xvfb-run >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "xvfb-run is not installed (scripts/deps.sh installs xvfb)";
  const fs::path dir =
      fs::temp_directory_path() / ("moescope_test_gui_presenter_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto session = [&](const std::string& name) { return (dir / name).string(); };
  std::ofstream(dir / "script.txt")
      << "demo-model " << (dir / "demo.gguf").string() << "\nprompt The cat sat\nwait\n"
      << "panel router\nlayer 0\nselect-token 1\nscreenshot " << session("normal.png") << "\n"
      << "presenter 1\nscreenshot " << session("presenter.png") << "\n"
      << "key right\nkey right\nkey down\nkey tab\nsave-session " << session("a.moescope.json")
      << "\nkey left\nkey escape\nkey right\nsave-session " << session("b.moescope.json")
      << "\nexit\n";
  const moe::testing::CommandResult run = moe::testing::run_gui_script(MOESCOPE_GUI_PATH, dir.string());
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto a = nlohmann::json::parse(read_text(dir / "a.moescope.json")).at("view");
  EXPECT_EQ(a.at("panel"), views()[2]->key);  // router -> path -> load
  EXPECT_EQ(a.at("layer"), 1);
  EXPECT_EQ(a.at("token"), 2);
  // Left went back one view; Escape left presenter mode, so Right no longer changes the view.
  const auto b = nlohmann::json::parse(read_text(dir / "b.moescope.json")).at("view");
  EXPECT_EQ(b.at("panel"), views()[1]->key);
  // No menu bar in presenter mode: the top rows differ from the normal window's.
  const Image normal = read_png(dir / "normal.png");
  const Image presenter = read_png(dir / "presenter.png");
  ASSERT_EQ(normal.rgba.size(), presenter.rgba.size());
  EXPECT_NE(normal.rgba, presenter.rgba);
  fs::remove_all(dir);
}

}  // namespace