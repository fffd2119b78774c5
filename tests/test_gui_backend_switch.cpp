// The app's worker switching compute backends live: the prompt stays and is recomputed on the
// GL backend (its own EGL context on the worker thread) with the same routing as on the CPU, and
// back; the exact CPU product is a choice of its own; an unknown backend is reported and the
// current one stays. Needs a GL 4.3 context (CI:
// Mesa llvmpipe); fails with the reason when there is none.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "moe/cpu_backend.hpp"
#include "moe/random_model.hpp"
#include "moe/session.hpp"
#include "worker.hpp"

namespace fs = std::filesystem;
using namespace moescope::gui;
using namespace std::chrono_literals;

namespace {

class GuiBackendSwitch : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("moescope_test_gui_backend_switch_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    moe::RandomModelSpec spec;
    spec.n_embd = 64, spec.n_head = 4, spec.n_head_kv = 2, spec.n_expert = 8;
    spec.n_expert_used = 2, spec.weight_type = moe::GgmlType::F16, spec.seed = 5;
    moe::write_random_model(spec, dir_ / "model.gguf");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string model_path() const { return (dir_ / "model.gguf").string(); }
  fs::path dir_;
};

// A one-thread worker that has the model loading and the prompt set (the test waits).
std::unique_ptr<Worker> worker_on(const fs::path& model, const std::string& prompt) {
  WorkerOptions options;
  options.n_threads = 1;
  auto worker = std::make_unique<Worker>(options);
  worker->load_model(model.string());
  worker->set_prompt(prompt);
  return worker;
}

std::vector<std::vector<int32_t>> chosen_experts(const Snapshot& snapshot) {
  std::vector<std::vector<int32_t>> chosen;
  for (int t = 0; t < snapshot.trace.n_tokens(); ++t) {
    for (int layer : snapshot.trace.moe_layers())
      chosen.push_back(snapshot.trace.at(t, layer).experts);
  }
  return chosen;
}

TEST_F(GuiBackendSwitch, SwitchingKeepsThePromptAndRecomputesWithTheSameRouting) {
  const std::string prompt = "Write a poem about the sea";
  const auto owned = worker_on(model_path(), prompt);
  Worker& worker = *owned;
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto on_cpu = worker.snapshot();
  ASSERT_NE(on_cpu->model, nullptr);
  EXPECT_EQ(on_cpu->model->backend, "cpu");

  worker.set_backend("gl");
  ASSERT_TRUE(worker.wait_idle(120s));
  for (const WorkerMessage& message : worker.take_messages())
    ADD_FAILURE() << message.title << ": " << message.text << " (CI runs this on Mesa llvmpipe)";
  const auto on_gl = worker.snapshot();
  ASSERT_NE(on_gl->model, nullptr);
  EXPECT_EQ(on_gl->model->backend, "gl");
  EXPECT_EQ(on_gl->prompt, prompt);
  EXPECT_EQ(on_gl->tokens.size(), on_cpu->tokens.size());
  EXPECT_EQ(on_gl->computed_tokens, static_cast<int>(on_cpu->tokens.size()));  // recomputed
  EXPECT_EQ(chosen_experts(*on_gl), chosen_experts(*on_cpu));

  worker.set_backend("cpu");
  ASSERT_TRUE(worker.wait_idle(60s));
  EXPECT_EQ(worker.snapshot()->model->backend, "cpu");
  EXPECT_EQ(chosen_experts(*worker.snapshot()), chosen_experts(*on_cpu));
}

// Every architecture switches: the newest ones too (latent attention, sinks and windows, soft
// caps, NoPE and chunked layers) run on the GL backend with the CPU's routing.
TEST_F(GuiBackendSwitch, EveryArchitectureSwitchesToTheGpuWithTheSameRouting) {
  for (const char* architecture : {"deepseek2", "gpt-oss", "grok", "llama4", "dbrx", "phimoe"}) {
    moe::RandomModelSpec spec;
    spec.architecture = architecture;
    spec.n_embd = 64, spec.n_head = 4, spec.n_head_kv = 2, spec.n_expert = 8;
    spec.n_expert_used = 2, spec.weight_type = moe::GgmlType::F16, spec.seed = 11;
    if (spec.architecture == "deepseek2") spec.n_rot = 8;  // latent attention: its rope part
    const fs::path path = dir_ / (std::string(architecture) + ".gguf");
    moe::write_random_model(spec, path);
    const auto owned = worker_on(path, "Write a poem about the sea");
    Worker& worker = *owned;
    ASSERT_TRUE(worker.wait_idle(60s)) << architecture;
    const auto on_cpu = worker.snapshot();
    worker.set_backend("gl");
    ASSERT_TRUE(worker.wait_idle(120s)) << architecture;
    for (const WorkerMessage& message : worker.take_messages())
      ADD_FAILURE() << architecture << ": " << message.title << ": " << message.text;
    const auto on_gl = worker.snapshot();
    ASSERT_NE(on_gl->model, nullptr);
    EXPECT_EQ(on_gl->model->backend, "gl") << architecture;
    EXPECT_EQ(on_gl->computed_tokens, static_cast<int>(on_cpu->tokens.size())) << architecture;
    EXPECT_EQ(chosen_experts(*on_gl), chosen_experts(*on_cpu)) << architecture;
  }
}

// The exact product (f32 activations, `--exact` in the CLI) is a backend choice of its own: on a
// quantized model its router logits differ a little from the default's 8-bit activations and
// agree with a CpuBackend built without quantized activations.
TEST_F(GuiBackendSwitch, TheExactProductIsABackendChoice) {
  moe::RandomModelSpec spec;
  spec.n_embd = 256, spec.n_head = 4, spec.n_head_kv = 2, spec.n_expert = 8;
  spec.n_expert_used = 2, spec.weight_type = moe::GgmlType::Q8_0, spec.seed = 7;
  const fs::path quantized = dir_ / "q8_0.gguf";
  moe::write_random_model(spec, quantized);
  const auto owned = worker_on(quantized, "Write a poem about the sea");
  Worker& worker = *owned;
  ASSERT_TRUE(worker.wait_idle(60s));
  const auto quantized_activations = worker.snapshot();
  worker.set_backend("cpu-exact");
  ASSERT_TRUE(worker.wait_idle(60s));
  EXPECT_TRUE(worker.take_messages().empty());
  const auto exact = worker.snapshot();
  ASSERT_NE(exact->model, nullptr);
  EXPECT_EQ(exact->model->backend, "cpu-exact");
  ASSERT_EQ(exact->tokens.size(), quantized_activations->tokens.size());
  const int layer = exact->trace.moe_layers().front();
  float largest_difference = 0;
  for (int t = 0; t < exact->trace.n_tokens(); ++t) {
    const auto& a = exact->trace.at(t, layer).logits;
    const auto& b = quantized_activations->trace.at(t, layer).logits;
    for (size_t e = 0; e < a.size(); ++e)
      largest_difference = std::max(largest_difference, std::abs(a[e] - b[e]));
  }
  EXPECT_GT(largest_difference, 0.0f);  // the 8-bit activations are not the exact product

  // The same as the core's exact backend on the same tokens.
  const std::shared_ptr<const moe::Model> model = moe::Model::load(quantized);
  moe::CpuBackendOptions exact_options;
  exact_options.n_threads = 1;
  exact_options.quantized_activations = false;
  auto backend = std::make_shared<moe::CpuBackend>(exact_options);
  moe::Session session(model, backend);
  std::vector<int32_t> ids;
  for (const TokenView& token : exact->tokens) ids.push_back(token.id);
  session.set_tokens(ids);
  for (int t = 0; t < exact->trace.n_tokens(); ++t)
    EXPECT_EQ(session.trace().at(t, layer).logits, exact->trace.at(t, layer).logits) << t;
}

TEST_F(GuiBackendSwitch, AnUnknownBackendIsReportedAndTheCurrentOneStays) {
  const auto owned = worker_on(model_path(), "hello");
  Worker& worker = *owned;
  ASSERT_TRUE(worker.wait_idle(60s));
  worker.set_backend("quantum");
  ASSERT_TRUE(worker.wait_idle(60s));
  const std::vector<WorkerMessage> messages = worker.take_messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].text.find("quantum"), std::string::npos) << messages[0].text;
  EXPECT_NE(messages[0].text.find("cpu backend stays"), std::string::npos) << messages[0].text;
  EXPECT_EQ(worker.snapshot()->model->backend, "cpu");
  EXPECT_EQ(worker.snapshot()->prompt, "hello");
}

}  // namespace
