// The real desktop app under Xvfb (Mesa's software OpenGL) in its scripted mode: it opens a
// generated model, types a prompt, selects a token, goes through every view and takes
// screenshots; it exits non-zero on a GL error, an unexpected error dialog or a timeout. Here we
// check its exit status and that every screenshot exists and shows something (not one flat
// colour). Skips with the reason when xvfb-run is not installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "png_io.hpp"

namespace fs = std::filesystem;

namespace {

bool have_program(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

TEST(GuiApp, ScriptedRunRendersEveryViewWithoutErrors) {
  if (!have_program("xvfb-run"))
    GTEST_SKIP() << "xvfb-run is not installed (scripts/deps.sh installs xvfb)";
  ASSERT_TRUE(fs::exists(MOESCOPE_GUI_PATH)) << MOESCOPE_GUI_PATH;
  const fs::path dir =
      fs::temp_directory_path() / ("moescope_test_gui_app_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<std::string> panels = {"router", "path", "load", "coactivation", "model"};
  {
    std::ofstream script(dir / "script.txt");
    script << "demo-model " << (dir / "demo.gguf").string() << "\n"
           << "type Solve 15 × 8\n"
           << "wait\n"
           << "select-token 3\n";
    for (const std::string& panel : panels) {
      script << "panel " << panel << "\n"
             << "screenshot " << (dir / (panel + ".png")).string() << "\n";
    }
    // A model that does not open: an error dialog, and the demo model stays.
    std::ofstream(dir / "broken.gguf") << "not a model";
    script << "model " << (dir / "broken.gguf").string() << "\n"
           << "expect-error\n"
           << "theme light\n"
           << "generate 4\n"
           << "screenshot " << (dir / "light.png").string() << "\n"
           << "exit\n";
  }
  const std::string command =
      "xvfb-run -a -s '-screen 0 1600x1000x24' " + std::string(MOESCOPE_GUI_PATH) +
      " --config-dir " + (dir / "config").string() + " --threads 1 --width 1400 --height 860" +
      " --script " + (dir / "script.txt").string() + " > " + (dir / "log.txt").string() + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream log_file(dir / "log.txt");
  const std::string log((std::istreambuf_iterator<char>(log_file)),
                        std::istreambuf_iterator<char>());
  ASSERT_EQ(status, 0) << log;

  std::vector<std::string> shots = panels;
  shots.push_back("light");
  for (const std::string& name : shots) {
    const fs::path file = dir / (name + ".png");
    ASSERT_TRUE(fs::exists(file)) << file << "\n" << log;
    const moescope::gui::Image image = moescope::gui::read_png(file);
    EXPECT_EQ(image.width, 1400) << name;
    EXPECT_EQ(image.height, 860) << name;
    // A real view has text, axes and coloured marks: grey levels vary and many colours appear.
    EXPECT_GT(moescope::gui::grey_variance(image), 50.0) << name;
    EXPECT_GT(moescope::gui::count_colors(image, 10000), 64) << name;
  }
  // Different views look different.
  EXPECT_NE(moescope::gui::read_png(dir / "router.png").rgba,
            moescope::gui::read_png(dir / "load.png").rgba);
  EXPECT_TRUE(fs::exists(dir / "config" / "settings.json")) << "settings are saved to --config-dir";
  fs::remove_all(dir);
}

}  // namespace
