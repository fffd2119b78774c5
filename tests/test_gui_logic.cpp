// The desktop app's logic that needs no window: token selection, settings files, the script
// parser, the file dialog's listing, token display text and the example prompts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "example_prompts.hpp"
#include "file_browser.hpp"
#include "moe/error.hpp"
#include "png_io.hpp"
#include "script.hpp"
#include "selection.hpp"
#include "settings.hpp"
#include "token_text.hpp"

namespace fs = std::filesystem;
using namespace moescope::gui;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("moescope_test_gui_logic_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(GuiSelection, FollowsTheLastTokenUntilTheUserClicks) {
  Selection selection;
  const std::vector<int> layers = {1, 3};
  update_selection(selection, 5, layers);
  EXPECT_EQ(selection.token, 4);
  EXPECT_EQ(selection.layer, 1);
  update_selection(selection, 7, layers);  // typing adds tokens: follow
  EXPECT_EQ(selection.token, 6);
  click_token(selection, 2, 7);
  EXPECT_TRUE(selection.pinned);
  update_selection(selection, 9, layers);  // typing does not move a clicked token
  EXPECT_EQ(selection.token, 2);
  update_selection(selection, 2, layers);  // the clicked token was deleted: follow the end again
  EXPECT_EQ(selection.token, 1);
  EXPECT_FALSE(selection.pinned);
  update_selection(selection, 0, layers);
  EXPECT_EQ(selection.token, -1);
}

TEST(GuiSelection, SecondClickUnpinsAndArrowsClamp) {
  Selection selection;
  click_token(selection, 3, 6);
  click_token(selection, 3, 6);
  EXPECT_FALSE(selection.pinned);
  EXPECT_EQ(selection.token, 5);
  click_token(selection, 9, 6);  // out of range: ignored
  EXPECT_EQ(selection.token, 5);
  move_token(selection, 1, 6);
  EXPECT_EQ(selection.token, 5);
  move_token(selection, -10, 6);
  EXPECT_EQ(selection.token, 0);
  EXPECT_TRUE(selection.pinned);
}

TEST(GuiSelection, LayerStepsThroughMoeLayersAndSurvivesAModelChange) {
  Selection selection;
  const std::vector<int> layers = {1, 3, 5};
  update_selection(selection, 1, layers);
  step_layer(selection, 1, layers);
  EXPECT_EQ(selection.layer, 3);
  step_layer(selection, 5, layers);
  EXPECT_EQ(selection.layer, 5);
  EXPECT_EQ(moe_index_of(selection, layers), 2);
  update_selection(selection, 1, {0, 1, 2, 3, 4, 5});  // still a MoE layer: kept
  EXPECT_EQ(selection.layer, 5);
  update_selection(selection, 1, {0, 1});  // gone: the first MoE layer
  EXPECT_EQ(selection.layer, 0);
}

TEST(GuiSettings, RoundTripKeepsEveryValue) {
  const fs::path dir = fresh_dir("settings");
  Settings settings;
  settings.font_size = 30;
  settings.theme = Theme::Light;
  settings.window_width = 1000;
  settings.window_height = 700;
  settings.prompt_column_share = 0.4f;
  settings.panel = "coactivation";
  settings.last_model = "/models/olmoe.gguf";
  settings.prompt = "Привет, мир — 15 × 8\nsecond line";
  settings.seed = 1234567;
  settings.temperature = 0.3f;
  settings.load_as_gate_mass = true;
  settings.cjk_font = false;
  settings.word_view = true;
  settings.side_by_side = false;
  save_settings(dir / "nested" / "settings.json", settings);
  std::vector<std::string> problems;
  const Settings loaded = load_settings(dir / "nested" / "settings.json", &problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(loaded.font_size, 30);
  EXPECT_EQ(loaded.theme, Theme::Light);
  EXPECT_EQ(loaded.window_width, 1000);
  EXPECT_FLOAT_EQ(loaded.prompt_column_share, 0.4f);
  EXPECT_EQ(loaded.panel, "coactivation");
  EXPECT_EQ(loaded.last_model, settings.last_model);
  EXPECT_EQ(loaded.prompt, settings.prompt);
  EXPECT_EQ(loaded.seed, 1234567u);
  EXPECT_FLOAT_EQ(loaded.temperature, 0.3f);
  EXPECT_TRUE(loaded.load_as_gate_mass);
  EXPECT_FALSE(loaded.cjk_font);
  EXPECT_TRUE(loaded.word_view);
  EXPECT_FALSE(loaded.side_by_side);
  fs::remove_all(dir);
}

TEST(GuiSettings, DamagedFilesGiveDefaults) {
  const fs::path dir = fresh_dir("damaged");
  std::ofstream(dir / "bad.json") << "{ not json";
  std::vector<std::string> problems;
  EXPECT_EQ(load_settings(dir / "bad.json", &problems).font_size, Settings{}.font_size);
  EXPECT_EQ(problems.size(), 1u);
  std::ofstream(dir / "types.json")
      << R"({"font_size": "huge", "theme": "light", "prompt_column_share": 7})";
  problems.clear();
  const Settings loaded = load_settings(dir / "types.json", &problems);
  EXPECT_EQ(loaded.font_size, Settings{}.font_size);
  EXPECT_EQ(loaded.theme, Theme::Light);
  EXPECT_FLOAT_EQ(loaded.prompt_column_share, Settings{}.prompt_column_share);  // out of range
  EXPECT_EQ(problems.size(), 1u);
  EXPECT_EQ(load_settings(dir / "missing.json").panel, "router");
  fs::remove_all(dir);
}

TEST(GuiSettings, ConfigDirFollowsXdg) {
  EXPECT_EQ(config_dir("/tmp/explicit"), fs::path("/tmp/explicit"));
  ::setenv("XDG_CONFIG_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(config_dir(), fs::path("/tmp/xdg/moescope"));
  ::unsetenv("XDG_CONFIG_HOME");
}

// The app passes its registry's keys (test_gui_views checks those); any list does here.
const std::vector<std::string> kViewKeys = {"router", "load"};

TEST(GuiScript, ParsesCommandsAndRejectsMistakesWithTheLine) {
  const auto script = parse_script(
      "# comment\nmodel /m.gguf\n\ntype Solve 15 × 8\\n\nwait\nselect-token -1\npanel "
      "load\nscreenshot /tmp/a.png\nexit\n",
      kViewKeys);
  ASSERT_EQ(script.size(), 7u);
  EXPECT_EQ(script[0].kind, ScriptKind::Model);
  EXPECT_EQ(script[0].text, "/m.gguf");
  EXPECT_EQ(script[1].text, "Solve 15 × 8\n");
  EXPECT_EQ(script[3].number, -1);
  EXPECT_EQ(script[4].text, "load");
  EXPECT_EQ(script[6].kind, ScriptKind::Exit);
  EXPECT_EQ(script[6].line, 9);
  try {
    parse_script("wait\nfly away\n", kViewKeys);
    FAIL() << "no error";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("line 2"), std::string::npos);
  }
  EXPECT_THROW(parse_script("panel nowhere", kViewKeys), moe::Error);
  EXPECT_THROW(parse_script("frames ten", kViewKeys), moe::Error);
  EXPECT_THROW(parse_script("exit now", kViewKeys), moe::Error);
  EXPECT_THROW(parse_script("screenshot", kViewKeys), moe::Error);
}

TEST(GuiFileBrowser, ListsFoldersFirstThenGgufFiles) {
  const fs::path dir = fresh_dir("browser");
  fs::create_directories(dir / "zoo");
  fs::create_directories(dir / ".hidden");
  std::ofstream(dir / "b.gguf") << "1234";
  std::ofstream(dir / "A.GGUF") << "1";
  std::ofstream(dir / "notes.txt") << "x";
  const FolderListing listing = list_folder(dir, false);
  EXPECT_TRUE(listing.error.empty());
  ASSERT_EQ(listing.entries.size(), 3u);
  EXPECT_EQ(listing.entries[0].name, "zoo");
  EXPECT_TRUE(listing.entries[0].is_directory);
  EXPECT_EQ(listing.entries[1].name, "A.GGUF");
  EXPECT_EQ(listing.entries[2].name, "b.gguf");
  EXPECT_EQ(listing.entries[2].size, 4u);
  EXPECT_EQ(list_folder(dir, true).entries.size(), 4u);
  EXPECT_FALSE(list_folder(dir / "absent", false).error.empty());
  {
    std::ofstream(dir / "class.moescope.json") << "{}";
    std::ofstream(dir / "notes.json") << "{}";
  }
  const FolderListing with_session = list_folder(dir, false);
  EXPECT_EQ(with_session.entries.size(), 4u) << "saved sessions are listed, other JSON is not";
  fs::remove_all(dir);
}

TEST(GuiTokenText, ShowsSplitCharactersAsBytesAndKeepsValidText) {
  EXPECT_EQ(display_token_text("\xD0\x9F"), "П");
  EXPECT_EQ(display_token_text("\xD0"), "<0xD0>");
  EXPECT_EQ(display_token_text("a\nb"), "a\\nb");
  EXPECT_EQ(display_token_text(" the"), "\xC2\xB7the");  // a leading space is visible
  EXPECT_EQ(shorten_utf8("Привет мир", 6), "Привет…");
  // Byte tokens of split characters: the character where it starts, "◦" where it continues.
  EXPECT_EQ(display_token_texts({"\xD0", "\x9F", "a", "\xE4\xBD", "\xA0!", "\xFF"}),
            (std::vector<std::string>{"П", "◦", "a", "你", "◦!", "<0xFF>"}));
  EXPECT_EQ(display_token_texts({"\xD0", "x"}), (std::vector<std::string>{"<0xD0>", "x"}));
  EXPECT_EQ(display_token_texts({"ok\n", "\xC3\x97"}), (std::vector<std::string>{"ok\\n", "×"}));
  EXPECT_EQ(shorten_utf8("ab", 6), "ab");
}

TEST(GuiExamples, ClassicsFirstThenThePromptSets) {
  const fs::path dir = fresh_dir("prompts");
  std::ofstream(dir / "maths.txt") << "# a comment\nSolve 2 + 2\n\nWhat is 3 × 3?\r\n";
  std::ofstream(dir / "code.txt") << "def f(): pass\n";
  const auto examples = load_example_prompts(dir);
  ASSERT_EQ(examples.size(), 4u + 3u);
  EXPECT_EQ(examples[0].text, "Solve 15 × 8");
  EXPECT_EQ(examples[4].group, "code");
  EXPECT_EQ(examples[6].text, "What is 3 × 3?");
  EXPECT_EQ(example_groups(examples), (std::vector<std::string>{"Classics", "code", "maths"}));
  EXPECT_EQ(load_example_prompts(dir / "absent").size(), 4u);
  fs::remove_all(dir);
}

TEST(GuiPng, WritesAndReadsBackPixels) {
  const fs::path dir = fresh_dir("png");
  Image image;
  image.width = 3;
  image.height = 2;
  image.rgba = {255, 0,  0,  255, 0,  255, 0,  255, 0,  0,  255, 255,
                10,  10, 10, 255, 20, 20,  20, 255, 30, 30, 30,  255};
  write_png(dir / "a.png", image);
  const Image read = read_png(dir / "a.png");
  EXPECT_EQ(read.width, 3);
  EXPECT_EQ(read.height, 2);
  EXPECT_EQ(read.rgba, image.rgba);
  EXPECT_GT(grey_variance(read), 0);
  EXPECT_EQ(count_colors(read), 6);
  Image blank = image;
  std::fill(blank.rgba.begin(), blank.rgba.end(), 7);
  EXPECT_DOUBLE_EQ(grey_variance(blank), 0);
  EXPECT_THROW(read_png(dir / "missing.png"), moe::Error);
  fs::remove_all(dir);
}

}  // namespace
