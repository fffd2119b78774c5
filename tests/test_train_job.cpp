// The training job of `moescope-cli train` in core (moe/train_job.hpp, moe/train_job_config.hpp):
// the config is read strictly; a run reports every step, evaluation, checkpoint and the export
// to its listener and writes the JSONL log; stopping early saves a checkpoint that a resumed job
// continues from. The CLI's own test (test_train_cli) checks the printed lines.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model_fixtures.hpp"
#include "moe/error.hpp"
#include "moe/model.hpp"
#include "moe/train_job.hpp"
#include "moe/train_data.hpp"
#include "moe/train_job_config.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class TrainJob : public ::testing::Test {
protected:
  void SetUp() override { dir_ = moe::testing::unique_temp_path("train_job", ""); }
  void TearDown() override { fs::remove_all(dir_); }

  // A micro run: one layer, 4 experts (top-2), 7 steps of 4 windows of 32 tokens.
  moe::train::TrainingJobConfig config() const {
    moe::train::TrainingJobConfig config;
    config.name = "job-micro";
    moe::train::TrainerConfig& trainer = config.trainer;
    trainer.seed = 3;
    trainer.n_threads = 2;
    trainer.model.n_layer = 1;
    trainer.model.n_embd = 32;
    trainer.model.n_head = 2;
    trainer.model.n_head_kv = 1;
    trainer.model.n_ff_exp = 32;
    trainer.model.n_expert = 4;
    trainer.model.top_k = 2;
    trainer.model.n_ctx = 32;
    trainer.optimizer.lr = 1e-2;
    trainer.optimizer.warmup_steps = 2;
    trainer.optimizer.total_steps = 7;
    trainer.seq_len = 32;
    trainer.batch_seqs = 4;
    trainer.micro_batch_seqs = 2;
    config.tokenizer = {300, 100000, {}};
    // Two domains of the bundled corpus sample (the Train tab's).
    config.corpus = {fs::path(MOESCOPE_SOURCE_DIR) / "assets" / "train" / "sample",
                     {"english", "code"}};
    config.cache_dir = dir_ / "cache";
    config.eval_every = 3;
    config.eval_windows = 2;
    config.print_every = 4;
    config.checkpoint_dir = dir_ / "ckpt";
    config.checkpoint_every = 5;
    config.log_file = dir_ / "log" / "train.jsonl";
    config.gguf_out = dir_ / "out" / "model.gguf";
    config.weight_type = moe::GgmlType::F32;
    return config;
  }
  std::vector<json> log_rows() const {
    std::vector<json> rows;
    std::ifstream in(dir_ / "log" / "train.jsonl");
    for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
    return rows;
  }

  fs::path dir_;
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

TEST(TrainJobConfig, ReadsEveryKeyAndNamesTheWrongOne) {
  const std::string text = R"({
    "name": "micro", "seed": 5,
    "model": {"n_layer": 1, "n_embd": 32, "n_head": 2, "n_head_kv": 1, "n_ff_exp": 32,
              "n_expert": 4, "top_k": 2, "n_ctx": 32},
    "tokenizer": {"vocab_size": 300},
    "data": {"corpus_dir": "corpus", "domains": ["alpha", "beta"]},
    "optimizer": {"steps": 7, "seq_len": 32, "batch_tokens": 128, "micro_batch_tokens": 64},
    "eval": {"every_steps": 3},
    "output": {"checkpoint_dir": "ckpt", "weight_type": "q8_0"}
  })";
  const moe::train::TrainingJobConfig config = moe::train::parse_training_config(text, "micro");
  EXPECT_EQ(config.name, "micro");
  EXPECT_EQ(config.trainer.seed, 5u);
  EXPECT_EQ(config.trainer.batch_seqs, 4);
  EXPECT_EQ(config.trainer.micro_batch_seqs, 2);
  EXPECT_EQ(config.eval_every, 3);
  EXPECT_EQ(config.weight_type, moe::GgmlType::Q8_0);
  EXPECT_EQ(config.checkpoint_path(), fs::path("ckpt") / "latest.gguf");

  json typo = json::parse(text);
  typo["optimizer"]["lrr"] = 0.1;
  try {
    moe::train::parse_training_config(typo.dump(), "typo.json");
    FAIL() << "an unknown key was accepted";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("optimizer.lrr"), std::string::npos) << error.what();
  }
  EXPECT_THROW(moe::train::parse_training_config("{", "broken.json"), moe::Error);
  EXPECT_THROW(moe::train::read_training_config("/nonexistent/train.json"), moe::Error);

  json weighted = json::parse(text);
  weighted["tokenizer"]["domain_weights"] = {{"beta", 2.5}};
  EXPECT_DOUBLE_EQ(
      moe::train::parse_training_config(weighted.dump(), "w").tokenizer.domain_weights.at("beta"),
      2.5);
  for (const json& bad : {json{{"gamma", 2.0}}, json{{"beta", 0.0}}, json{{"beta", -1.0}}}) {
    weighted["tokenizer"]["domain_weights"] = bad;
    EXPECT_THROW(moe::train::parse_training_config(weighted.dump(), "w"), moe::Error) << bad;
  }
}

TEST(TrainData, DomainWeightsShareTheTokenizerSampleInProportion) {
  const fs::path dir = fs::path(MOESCOPE_SOURCE_DIR) / "assets" / "train" / "sample";
  const auto sampled_bytes = [&](const std::vector<std::string>& domains, uint64_t budget,
                                 const std::map<std::string, double>& weights) {
    uint64_t total = 0;
    for (const std::string& doc : moe::train::sample_documents({dir, domains}, budget, weights))
      total += doc.size();
    return total;
  };
  // code weighs 3, english 1: of 60,000 bytes english gets the sample of a 15,000-byte budget
  // and code that of a 45,000-byte one.
  const uint64_t english = sampled_bytes({"english"}, 15000, {});
  const uint64_t code = sampled_bytes({"code"}, 45000, {});
  EXPECT_EQ(sampled_bytes({"english", "code"}, 60000, {{"code", 3.0}}), english + code);
  EXPECT_GT(code, 2 * english);
  EXPECT_EQ(sampled_bytes({"english", "code"}, 60000, {}),
            sampled_bytes({"english"}, 30000, {}) + sampled_bytes({"code"}, 30000, {}));

  EXPECT_THROW(sampled_bytes({"english", "code"}, 60000, {{"german", 2.0}}), moe::Error);
  EXPECT_THROW(sampled_bytes({"english", "code"}, 60000, {{"code", 0.0}}), moe::Error);
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
  EXPECT_TRUE(rows.back()["val_loss"].contains("code"));
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
  // Appended: the resumed run's own config row (it may plan other steps), then its step rows.
  const std::vector<json> rows = log_rows();
  std::vector<json> config_rows;
  int step_rows = 0;
  for (const json& row : rows) {
    if (row["type"] == "config") config_rows.push_back(row);
    step_rows += row["type"] == "train";
  }
  ASSERT_EQ(config_rows.size(), 2u);
  EXPECT_EQ(config_rows[0]["resumed_at_step"], 0);
  EXPECT_EQ(config_rows[1]["resumed_at_step"], 2);
  EXPECT_EQ(step_rows, 7);
}
