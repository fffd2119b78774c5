// The training job of `moescope-cli train` in core (moe/train_job.hpp, moe/train_job_config.hpp):
// the config is read strictly; a run reports every step, evaluation, checkpoint and the export
// to its listener and writes the JSONL log; stopping early saves a checkpoint that a resumed job
// continues from. The CLI's own test (test_train_cli) checks the printed lines.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model_fixtures.hpp"
#include "moe/error.hpp"
#include "moe/model.hpp"
#include "moe/train_job.hpp"
#include "moe/train_job_config.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string documents(const std::string& stem, int count) {
  std::string text;
  for (int d = 0; d < count; ++d) {
    text += stem + " number " + std::to_string(d % 13) + " is here, and " + stem + " " +
            std::to_string(d % 5) + " follows.\n<|endoftext|>\n";
  }
  return text;
}

class TrainJob : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = moe::testing::unique_temp_path("train_job", "");
    for (const std::string domain : {"alpha", "beta"}) {
      fs::create_directories(dir_ / "corpus" / domain);
      std::ofstream(dir_ / "corpus" / domain / "train.txt") << documents(domain, 200);
      std::ofstream(dir_ / "corpus" / domain / "val.txt") << documents(domain, 20);
    }
    config_ = {{"name", "job-micro"},
               {"seed", 3},
               {"threads", 2},
               {"model",
                {{"n_layer", 1},
                 {"n_embd", 32},
                 {"n_head", 2},
                 {"n_head_kv", 1},
                 {"n_ff_exp", 32},
                 {"n_expert", 4},
                 {"top_k", 2},
                 {"n_ctx", 32}}},
               {"tokenizer", {{"vocab_size", 300}, {"sample_bytes", 100000}}},
               {"data",
                {{"corpus_dir", (dir_ / "corpus").string()},
                 {"domains", {"alpha", "beta"}},
                 {"cache_dir", (dir_ / "cache").string()}}},
               {"optimizer",
                {{"lr", 1e-2},
                 {"warmup_steps", 2},
                 {"steps", 7},
                 {"batch_tokens", 128},
                 {"micro_batch_tokens", 64},
                 {"seq_len", 32}}},
               {"eval", {{"every_steps", 3}, {"windows_per_domain", 2}, {"print_every", 4}}},
               {"output",
                {{"checkpoint_dir", (dir_ / "ckpt").string()},
                 {"checkpoint_every", 5},
                 {"log_file", (dir_ / "log" / "train.jsonl").string()},
                 {"gguf_out", (dir_ / "out" / "model.gguf").string()},
                 {"weight_type", "f32"}}}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  moe::train::TrainingJobConfig config() const {
    return moe::train::parse_training_config(config_.dump(), "test config");
  }
  std::vector<json> log_rows() const {
    std::vector<json> rows;
    std::ifstream in(dir_ / "log" / "train.jsonl");
    for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
    return rows;
  }

  fs::path dir_;
  json config_;
};

struct Heard {
  std::vector<int64_t> steps, reported, evaluations, checkpoints;
  std::vector<fs::path> exports;
  moe::train::TrainingListener listener() {
    return {[this](const moe::train::StepProgress& p) {
              steps.push_back(p.stats.step);
              if (p.report) reported.push_back(p.stats.step);
            },
            [this](const moe::train::Evaluation& e) {
              evaluations.push_back(e.step);
              EXPECT_EQ(e.losses.size(), 2u);
              EXPECT_TRUE(std::isfinite(e.mean));
            },
            [this](const moe::train::SavedCheckpoint& c) { checkpoints.push_back(c.step); },
            [this](const moe::train::ExportedModel& m) {
              exports.push_back(m.path);
              EXPECT_EQ(m.bytes, fs::file_size(m.path));
            }};
  }
};

}  // namespace

TEST_F(TrainJob, ConfigErrorsNameTheKey) {
  EXPECT_EQ(config().eval_every, 3);
  EXPECT_EQ(config().checkpoint_path(), dir_ / "ckpt" / "latest.gguf");
  json typo = config_;
  typo["optimizer"]["lrr"] = 0.1;
  try {
    moe::train::parse_training_config(typo.dump(), "typo.json");
    FAIL() << "an unknown key was accepted";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("optimizer.lrr"), std::string::npos) << error.what();
  }
  EXPECT_THROW(moe::train::parse_training_config("{", "broken.json"), moe::Error);
  EXPECT_THROW(moe::train::read_training_config(dir_ / "absent.json"), moe::Error);
}

TEST_F(TrainJob, RunsEvaluatesCheckpointsAndExports) {
  moe::train::TrainingJob job(config(), /*resume=*/false);
  const moe::train::ParameterTotals parameters = job.parameters();
  EXPECT_EQ(parameters.total, job.trainer().layout().size());
  EXPECT_LT(parameters.active_per_token, parameters.total);  // top-2 of 4 experts
  Heard heard;
  const auto listener = heard.listener();
  ASSERT_TRUE(job.run_steps(listener, [] { return false; }));
  job.finish(true, listener);
  EXPECT_EQ(heard.steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(heard.reported, (std::vector<int64_t>{1, 4, 7}));     // first, print grid, last
  EXPECT_EQ(heard.evaluations, (std::vector<int64_t>{3, 6, 7}));  // grid, then the end
  EXPECT_EQ(heard.checkpoints, (std::vector<int64_t>{5, 7}));     // grid, then the last step
  ASSERT_EQ(heard.exports.size(), 1u);
  EXPECT_EQ(heard.exports[0], dir_ / "out" / "model.gguf");  // its folder created
  EXPECT_EQ(moe::Model::load(heard.exports[0])->config().name, "job-micro");

  const std::vector<json> rows = log_rows();
  ASSERT_EQ(rows.size(), 1u + 7u + 3u);
  EXPECT_EQ(rows[0]["type"], "config");
  EXPECT_EQ(rows[0]["parameters"].get<uint64_t>(), parameters.total);
  EXPECT_EQ(rows[0]["active_parameters"].get<uint64_t>(), parameters.active_per_token);
  EXPECT_EQ(rows.back()["type"], "eval");
  EXPECT_TRUE(rows.back()["val_loss"].contains("beta"));
}

TEST_F(TrainJob, StoppingSavesACheckpointThatAResumedJobContinues) {
  {
    moe::train::TrainingJob job(config(), false);
    Heard heard;
    int asked = 0;
    EXPECT_FALSE(job.run_steps(heard.listener(), [&] { return ++asked > 2; }));
    job.finish(false, heard.listener());
    EXPECT_EQ(job.trainer().steps_done(), 2);
    EXPECT_EQ(heard.checkpoints, std::vector<int64_t>{2});
    EXPECT_TRUE(heard.exports.empty());  // no export before the run is complete
  }
  moe::train::TrainingJob resumed(config(), /*resume=*/true);
  EXPECT_TRUE(resumed.resumed());
  EXPECT_EQ(resumed.trainer().steps_done(), 2);
  Heard heard;
  ASSERT_TRUE(resumed.run_steps(heard.listener(), {}));
  EXPECT_EQ(heard.steps.front(), 3);
  EXPECT_EQ(heard.reported.front(), 3);       // the first step of a run is always reported
  const std::vector<json> rows = log_rows();  // appended: one config row, seven step rows
  int config_rows = 0, step_rows = 0;
  for (const json& row : rows) {
    config_rows += row["type"] == "config";
    step_rows += row["type"] == "train";
  }
  EXPECT_EQ(config_rows, 1);
  EXPECT_EQ(step_rows, 7);
}
