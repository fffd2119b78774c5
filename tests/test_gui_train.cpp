// The Train tab: its worker (steps on request, reset with new knobs, export, errors reported in
// the snapshot) and the real app under Xvfb opening the tab, training a few steps with the
// balancing loss off and taking a screenshot that shows the figures.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "moe/model.hpp"
#include "cli_runner.hpp"
#include "png_io.hpp"
#include "train_worker.hpp"
#include "worker.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const fs::path kAssets = fs::path(MOESCOPE_SOURCE_DIR) / "assets";

using moe::testing::have_program;

TEST(TrainWorker, StepsResetsAndExports) {
  moescope::gui::TrainWorker worker(kAssets / "train" / "sample",
                                    kAssets / "models" / "v1" / "moescope-moe-tiny.gguf", 2);
  ASSERT_TRUE(worker.wait_idle(60s));
  auto snapshot = worker.snapshot();
  ASSERT_TRUE(snapshot->ready) << snapshot->error;
  EXPECT_EQ(snapshot->steps_done, 0);
  EXPECT_EQ(snapshot->domains.size(), 7u);
  EXPECT_FALSE(snapshot->running);

  worker.step(3);
  ASSERT_TRUE(worker.wait_steps(3, 60s));
  ASSERT_TRUE(worker.wait_idle(60s));
  snapshot = worker.snapshot();
  EXPECT_EQ(snapshot->steps_done, 3) << "steps on request, then it stays paused";
  EXPECT_EQ(snapshot->steps.size(), 3u);
  EXPECT_FALSE(snapshot->specializations.empty());

  // Invalid knobs: an error, the run stays.
  moe::train::LiveTrainingKnobs knobs;
  knobs.top_k = 20;
  worker.reset(knobs);
  ASSERT_TRUE(worker.wait_idle(60s));
  snapshot = worker.snapshot();
  EXPECT_NE(snapshot->error.find("top-k"), std::string::npos) << snapshot->error;
  EXPECT_EQ(snapshot->steps_done, 3);

  // A new run with other knobs starts from step 0.
  knobs = {};
  knobs.n_expert = 4;
  knobs.top_k = 1;
  knobs.load_balance = 0;
  const uint64_t run = snapshot->run;
  worker.reset(knobs);
  ASSERT_TRUE(worker.wait_idle(60s));
  snapshot = worker.snapshot();
  EXPECT_TRUE(snapshot->error.empty()) << snapshot->error;
  EXPECT_EQ(snapshot->run, run + 1);
  EXPECT_EQ(snapshot->steps_done, 0);
  EXPECT_EQ(snapshot->knobs, knobs);

  worker.start();
  ASSERT_TRUE(worker.wait_steps(2, 60s));
  worker.pause();
  ASSERT_TRUE(worker.wait_idle(60s));
  snapshot = worker.snapshot();
  EXPECT_FALSE(snapshot->running);
  ASSERT_GE(snapshot->steps_done, 2);
  EXPECT_EQ(snapshot->steps.back().expert_counts[0].size(), 4u);

  const fs::path dir = moe::testing::fresh_temp_dir("train_worker");
  worker.export_model(dir / "sub" / "live.gguf");
  ASSERT_TRUE(worker.wait_idle(60s));
  snapshot = worker.snapshot();
  EXPECT_EQ(snapshot->export_serial, 1u);
  EXPECT_TRUE(snapshot->export_error.empty()) << snapshot->export_error;
  ASSERT_EQ(snapshot->export_path, (dir / "sub" / "live.gguf").string());
  EXPECT_EQ(moe::Model::load(snapshot->export_path)->config().n_expert, 4);

  // "Open this model in the other views": the inference worker opens the export and routes.
  {
    moescope::gui::WorkerOptions options;
    options.n_threads = 1;
    moescope::gui::Worker inference(options);
    inference.load_model(snapshot->export_path);
    inference.set_prompt("Solve 15 × 8");
    ASSERT_TRUE(inference.wait_idle(60s));
    const auto shown = inference.snapshot();
    ASSERT_TRUE(shown->model);
    EXPECT_EQ(shown->model->name.rfind("moescope-live-4x-top1", 0), 0u) << shown->model->name;
    EXPECT_EQ(shown->trace.n_expert(), 4);
    EXPECT_GT(shown->trace.n_tokens(), 3);
    for (const auto& message : inference.take_messages()) ADD_FAILURE() << message.text;
  }
  fs::remove_all(dir);
}

TEST(TrainWorker, MissingSampleIsReportedNotThrown) {
  moescope::gui::TrainWorker worker("/nonexistent/sample", kAssets / "models" / "x.gguf", 1);
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto snapshot = worker.snapshot();
  EXPECT_FALSE(snapshot->ready);
  EXPECT_NE(snapshot->error.find("/nonexistent/sample"), std::string::npos) << snapshot->error;
  worker.step(1);  // nothing to step: ignored, no crash
  EXPECT_TRUE(worker.wait_idle(10s));
}

TEST(GuiTrain, ScriptedRunTrainsAndDrawsTheTrainTab) {
  if (!have_program("xvfb-run"))
    GTEST_SKIP() << "xvfb-run is not installed (scripts/deps.sh installs xvfb)";
  ASSERT_TRUE(fs::exists(MOESCOPE_GUI_PATH)) << MOESCOPE_GUI_PATH;
  const fs::path dir = moe::testing::fresh_temp_dir("test_gui_train");
  {
    std::ofstream script(dir / "script.txt");
    script << "demo-model " << (dir / "demo.gguf").string() << "\n"
           << "panel train\n"
           << "train-knob balance 0\n"
           << "train-knob experts 6\n"
           << "train-reset\n"
           << "train-steps 6\n"
           << "screenshot " << (dir / "train.png").string() << "\n"
           << "exit\n";
  }
  const moe::testing::CommandResult run =
      moe::testing::run_gui_script(MOESCOPE_GUI_PATH, dir.string());
  const std::string& log = run.out;
  ASSERT_EQ(run.exit_code, 0) << log;
  const fs::path shot = dir / "train.png";
  ASSERT_TRUE(fs::exists(shot)) << log;
  const moescope::gui::Image image = moescope::gui::read_png(shot);
  EXPECT_EQ(image.width, 1400);
  EXPECT_GT(moescope::gui::grey_variance(image), 50.0);
  EXPECT_GT(moescope::gui::count_colors(image, 10000), 64);
  fs::remove_all(dir);
}

TEST(GuiTrain, ScriptRejectsUnknownKnob) {
  if (!have_program("xvfb-run"))
    GTEST_SKIP() << "xvfb-run is not installed (scripts/deps.sh installs xvfb)";
  const fs::path dir = moe::testing::fresh_temp_dir("test_gui_train_knob");
  std::ofstream(dir / "script.txt") << "demo-model " << (dir / "demo.gguf").string() << "\n"
                                    << "train-knob speed 3\nexit\n";
  const std::string command =
      "xvfb-run -a -s '-screen 0 1600x1000x24' " + std::string(MOESCOPE_GUI_PATH) +
      " --config-dir " + (dir / "config").string() + " --threads 1 --width 800 --height 600" +
      " --script " + (dir / "script.txt").string() + " > " + (dir / "log.txt").string() + " 2>&1";
  EXPECT_NE(std::system(command.c_str()), 0);
  std::ifstream log_file(dir / "log.txt");
  const std::string log((std::istreambuf_iterator<char>(log_file)),
                        std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("unknown knob 'speed'"), std::string::npos) << log;
  fs::remove_all(dir);
}

}  // namespace
