// `moescope-cli train` and `moescope-cli ppl` end to end on a tiny generated corpus: progress
// output, the JSONL log, checkpoints, --resume / --fresh rules, the exported GGUF, config errors.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "moe/model.hpp"
#include "cli_runner.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using moe::testing::CommandResult;
using moe::testing::run_cli;
using moe::testing::shell_quote;

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string documents(const std::string& stem, int count) {
  std::string text;
  for (int d = 0; d < count; ++d) {
    text += stem + " number " + std::to_string(d % 13) + " is here, and " + stem + " " +
            std::to_string(d % 5) + " follows.\n<|endoftext|>\n";
  }
  return text;
}

class TrainCli : public ::testing::Test {
protected:
  void SetUp() override {
    if (!fs::exists(MOESCOPE_CLI_PATH))
      GTEST_SKIP() << "moescope-cli is not built at " << MOESCOPE_CLI_PATH;
    dir_ = fs::temp_directory_path() / ("moescope_train_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    for (const std::string domain : {"alpha", "beta"}) {
      write_text(dir_ / "corpus" / domain / "train.txt", documents(domain, 200));
      write_text(dir_ / "corpus" / domain / "val.txt", documents(domain, 20));
    }
    config_ = {{"name", "cli-micro"},
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
                 {"tied_output", false},
                 {"n_ctx", 32}}},
               {"tokenizer", {{"vocab_size", 300}, {"sample_bytes", 100000}}},
               {"data",
                {{"corpus_dir", (dir_ / "corpus").string()},
                 {"domains", {"alpha", "beta"}},
                 {"cache_dir", (dir_ / "cache").string()}}},
               {"optimizer",
                {{"lr", 1e-2},
                 {"warmup_steps", 2},
                 {"steps", 12},
                 {"batch_tokens", 128},
                 {"micro_batch_tokens", 64},
                 {"seq_len", 32},
                 {"aux_loss_weight", 0.01},
                 {"z_loss_weight", 0}}},
               {"eval", {{"every_steps", 5}, {"windows_per_domain", 2}, {"print_every", 4}}},
               {"output",
                {{"checkpoint_dir", (dir_ / "ckpt").string()},
                 {"checkpoint_every", 5},
                 {"log_file", (dir_ / "log.jsonl").string()},
                 {"gguf_out", (dir_ / "model.gguf").string()},
                 {"weight_type", "f32"}}}};
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path write_config(const json& config, const std::string& name = "config.json") {
    const fs::path path = dir_ / name;
    std::ofstream(path) << config.dump(2);
    return path;
  }
  std::vector<json> log_rows() {
    std::vector<json> rows;
    std::ifstream in(dir_ / "log.jsonl");
    for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
    return rows;
  }

  fs::path dir_;
  json config_;
};

TEST_F(TrainCli, TrainsLogsCheckpointsResumesAndExports) {
  const fs::path config = write_config(config_);
  CommandResult run = run_cli("train " + shell_quote(config.string()));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_NE(run.out.find("step 12/12"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("tok/s"), std::string::npos);
  EXPECT_NE(run.out.find("load cv"), std::string::npos);
  EXPECT_NE(run.out.find("eval  step 10"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "ckpt" / "latest.gguf"));

  const std::vector<json> rows = log_rows();
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.front()["type"], "config");
  int train_rows = 0, eval_rows = 0;
  for (const json& row : rows) {
    if (row["type"] == "train") {
      ++train_rows;
      EXPECT_EQ(row["step"].get<int>(), train_rows);
      EXPECT_TRUE(row.contains("loss") && row.contains("lr") && row.contains("load_cv") &&
                  row.contains("tok_per_s"));
    }
    if (row["type"] == "eval") {
      ++eval_rows;
      EXPECT_TRUE(row["val_loss"].contains("alpha") && row["val_loss"].contains("beta"))
          << row.dump();
    }
  }
  EXPECT_EQ(train_rows, 12);
  EXPECT_EQ(eval_rows, 3);  // steps 5, 10 and the end

  const auto model = moe::Model::load(dir_ / "model.gguf");
  EXPECT_EQ(model->config().n_expert, 4);
  EXPECT_EQ(model->config().name, "cli-micro");
  EXPECT_FALSE(model->output_tied());

  // An existing checkpoint is never overwritten by accident.
  run = run_cli("train " + shell_quote(config.string()));
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("--resume"), std::string::npos) << run.err;

  // Extending the run: resume continues at step 12 and appends to the log.
  json longer = config_;
  longer["optimizer"]["steps"] = 15;
  const fs::path longer_path = write_config(longer, "longer.json");
  run = run_cli("train " + shell_quote(longer_path.string()) + " --resume");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("resumed from"), std::string::npos);
  EXPECT_NE(run.out.find("step 13/15"), std::string::npos) << run.out;
  EXPECT_EQ(log_rows().back()["type"], "eval");

  run = run_cli("train " + shell_quote(longer_path.string()) + " --export-only --out " +
                shell_quote((dir_ / "again.gguf").string()));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(fs::exists(dir_ / "again.gguf"));

  write_text(dir_ / "text.txt", documents("alpha", 10));
  run = run_cli("ppl " + shell_quote((dir_ / "model.gguf").string()) + " --file " +
                shell_quote((dir_ / "text.txt").string()) + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json ppl = json::parse(run.out);
  EXPECT_GT(ppl["scored_tokens"].get<int>(), 10);
  EXPECT_NEAR(ppl["perplexity"].get<double>(), std::exp(ppl["mean_nll"].get<double>()),
              1e-6 * ppl["perplexity"].get<double>());
  EXPECT_LT(ppl["perplexity"].get<double>(), 300.0);  // better than uniform over the vocabulary
}

TEST_F(TrainCli, ConfigErrorsAreOneClearLine) {
  json typo = config_;
  typo["optimizer"]["lrr"] = 0.1;
  CommandResult run = run_cli("train " + shell_quote(write_config(typo).string()));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("optimizer.lrr"), std::string::npos) << run.err;

  json bad_heads = config_;
  bad_heads["model"]["n_head"] = 3;
  run = run_cli("train " + shell_quote(write_config(bad_heads).string()));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("n_head"), std::string::npos) << run.err;

  json missing_data = config_;
  missing_data["data"]["domains"] = {"alpha", "gamma"};
  run = run_cli("train " + shell_quote(write_config(missing_data).string()));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("gamma"), std::string::npos) << run.err;

  json wrong_type = config_;
  wrong_type["seed"] = "one";
  run = run_cli("train " + shell_quote(write_config(wrong_type).string()));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("\"seed\""), std::string::npos) << run.err;

  run = run_cli("train " + shell_quote((dir_ / "nope.json").string()));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("nope.json"), std::string::npos) << run.err;

  run = run_cli("train " + shell_quote(write_config(config_).string()) + " --resume");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("no checkpoint"), std::string::npos) << run.err;
}

}  // namespace
