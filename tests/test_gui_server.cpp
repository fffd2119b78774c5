// The app with routing sources that are not a local model: the worker shows a server's trace
// (File > Connect to server) or an imported file, keeps the current model and trace on failure
// and cancels a slow request; the real app under Xvfb draws every view of a remote trace and
// cancels a slow request while it keeps drawing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_runner.hpp"
#include "fake_sglang_server.hpp"
#include "moe/sglang_client.hpp"
#include "worker.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using moe::testing::fake_expert;
using moe::testing::fake_server_shape;
using moe::testing::FakeServerMode;
using moe::testing::FakeSglangServer;
using moescope::gui::Worker;

namespace {

Worker::TraceFetch route_on(const std::string& url, const std::string& prompt) {
  return [url, prompt](const std::function<bool()>& cancelled) {
    moe::HttpOptions options;
    options.cancelled = cancelled;
    return moe::sglang_route(url, {prompt, 0, 0}, fake_server_shape(), options);
  };
}

}  // namespace

TEST(WorkerRemoteTrace, ShowsTheServersRoutingAndKeepsItOnFailure) {
  FakeSglangServer server(FakeServerMode::Normal);
  Worker worker;
  worker.show_trace(server.url(), "Hello", route_on(server.url(), "Hello"));
  ASSERT_TRUE(worker.wait_idle(30s));
  const auto shown = worker.snapshot();
  ASSERT_TRUE(shown->model);
  EXPECT_EQ(shown->model->routing_source, server.url());
  EXPECT_EQ(shown->prompt, "Hello");
  ASSERT_EQ(shown->tokens.size(), 5u);
  EXPECT_EQ(shown->tokens[1].piece, "e");
  EXPECT_TRUE(shown->trace.chosen_experts_only());
  EXPECT_EQ(shown->trace.at(3, 2).experts,
            (std::vector<int32_t>{fake_expert(3, 2, 0), fake_expert(3, 2, 1)}));
  EXPECT_EQ(shown->stats.layers.size(), 3u);
  EXPECT_FALSE(shown->model->config.layer_is_moe[0]);
  EXPECT_TRUE(worker.take_messages().empty());

  // A server without the flag: a message, and the trace shown stays.
  FakeSglangServer no_flag(FakeServerMode::WithoutFlag);
  worker.show_trace(no_flag.url(), "Hello", route_on(no_flag.url(), "Hello"));
  ASSERT_TRUE(worker.wait_idle(30s));
  EXPECT_EQ(worker.snapshot()->version, shown->version);
  const auto messages = worker.take_messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(messages[0].error);
  EXPECT_NE(messages[0].text.find("--enable-return-routed-experts"), std::string::npos);
  EXPECT_NE(messages[0].text.find("stay"), std::string::npos);
}

TEST(WorkerRemoteTrace, CancelStopsASlowRequest) {
  FakeSglangServer slow(FakeServerMode::Slow);
  Worker worker;
  const uint64_t before = worker.snapshot()->version;
  worker.show_trace(slow.url(), "Hi", route_on(slow.url(), "Hi"));
  while (slow.generate_requests() == 0) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(worker.status().busy());  // the UI thread is free; the worker waits
  worker.cancel_load();
  ASSERT_TRUE(worker.wait_idle(30s));
  EXPECT_EQ(worker.snapshot()->version, before);
  const auto messages = worker.take_messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_FALSE(messages[0].error);
  EXPECT_EQ(messages[0].title, "Request cancelled");
}

TEST(GuiServer, ConnectDrawsEveryViewAndCancelKeepsTheTrace) {
  if (!moe::testing::have_program("xvfb-run"))
    GTEST_SKIP() << "xvfb-run is not installed (scripts/deps.sh installs xvfb)";
  ASSERT_TRUE(fs::exists(MOESCOPE_GUI_PATH)) << MOESCOPE_GUI_PATH;
  const moe::testing::CommandResult listed =
      moe::testing::run_program(MOESCOPE_GUI_PATH, "--list-views");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::vector<std::string> keys;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string key;
    if (words >> key) keys.push_back(key);
  }
  ASSERT_GT(keys.size(), 5u);

  FakeSglangServer server(FakeServerMode::Normal);
  FakeSglangServer slow(FakeServerMode::Slow);
  const fs::path dir = moe::testing::fresh_temp_dir("test_gui_server");
  std::ofstream(dir / "config.json") << moe::testing::fake_model_config();
  {
    std::ofstream script(dir / "script.txt");
    script << "demo-model " << (dir / "demo.gguf").string() << "\n"
           << "prompt Hello\n"
           << "wait\n"
           << "connect " << server.url() << " " << (dir / "config.json").string() << "\n"
           << "wait\n"
           << "select-token 2\n"
           << "layer 2\n";
    for (const std::string& key : keys) {
      if (key == "train") continue;  // trains its own model; tested in test_gui_train
      script << "panel " << key << "\nframes 2\n";
    }
    script << "panel load\n"
           << "screenshot " << (dir / "remote.png").string() << "\n"
           << "export-data trace-json " << (dir / "remote.json").string()
           << "\n"
           // Dropping the exported trace imports it (and leaves the server).
           << "drop " << (dir / "remote.json").string() << "\n"
           << "export-data trace-json " << (dir / "reimported.json").string() << "\n"
           << "connect " << slow.url() << " " << (dir / "config.json").string() << "\n"
           << "frames 20\n"
           << "cancel-request\n"
           << "wait\n"
           << "frames 2\n"
           << "screenshot " << (dir / "after_cancel.png").string() << "\n"
           << "exit\n";
  }
  const moe::testing::CommandResult run =
      moe::testing::run_gui_script(MOESCOPE_GUI_PATH, dir.string());
  ASSERT_EQ(run.exit_code, 0) << run.out;
  ASSERT_TRUE(fs::exists(dir / "remote.png")) << run.out;
  std::ifstream remote_file(dir / "remote.json");
  const nlohmann::json remote = nlohmann::json::parse(remote_file);
  EXPECT_EQ(remote.at("chosen_experts_only"), true);
  EXPECT_EQ(remote.at("tokens").size(), 5u);
  EXPECT_EQ(remote.at("layers")[0].at("routing")[4].at("experts"),
            (std::vector<int>{fake_expert(4, 1, 0), fake_expert(4, 1, 1)}));
  std::ifstream reimported_file(dir / "reimported.json");
  const nlohmann::json reimported = nlohmann::json::parse(reimported_file);
  EXPECT_EQ(reimported.at("layers"), remote.at("layers"));
  EXPECT_EQ(reimported.at("tokens"), remote.at("tokens"));
  // The slow request was sent, waited on by the worker while the app drew frames, and
  // cancelled (the worker tests check that the trace shown stays).
  EXPECT_GE(slow.generate_requests(), 1);
  EXPECT_NE(run.out.find("Request cancelled"), std::string::npos) << run.out;
  EXPECT_TRUE(fs::exists(dir / "after_cancel.png"));
  fs::remove_all(dir);
}
