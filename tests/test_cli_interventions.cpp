// moescope-cli with routing interventions, end to end on a generated model: the flags of route,
// ppl and generate, the effect printed beside the unchanged model, the exports listing the
// interventions, the experts and compare commands, and one clear error line for bad flags.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.hpp"

namespace fs = std::filesystem;

namespace {

using moe::testing::CliWorkspace;
using moe::testing::CommandResult;
using moe::testing::run_cli;
using moe::testing::shell_quote;

class CliInterventionsTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    workspace_ = std::make_unique<CliWorkspace>("moescope_cli_interventions",
                                                moe::testing::cli_test_model(17));
    const fs::path& dir = workspace_->dir();
    std::ofstream(dir / "text.txt")
        << "The sea is calm tonight. 15 x 8 = 120. def f(x): return x\n";
    fs::create_directories(dir / "prompts");
    std::ofstream(dir / "prompts" / "maths.txt") << "15 x 8 = 120\n2 + 2 = 4\n";
    std::ofstream(dir / "prompts" / "poems.txt") << "the sea, the sea\nwaves under the moon\n";
  }
  static void TearDownTestSuite() { workspace_.reset(); }
  static std::string model() { return workspace_->model(); }
  static inline std::unique_ptr<CliWorkspace> workspace_;
};

}  // namespace

TEST_F(CliInterventionsTest, RouteJsonShowsTheKnockoutAndItsEffect) {
  const CommandResult r = run_cli("route " + model() +
                                  " --prompt 'a poem about the sea' --json --disable-expert 0:3 "
                                  "--disable-expert all:5 --top-k 1 --pin 2:2:6");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json.at("schema_version"), 2);
  EXPECT_EQ(json.at("interventions").at("description"),
            "top-k 1 at all layers; expert 3 disabled at layer 0; expert 5 disabled at all layers; "
            "token 2 pinned to expert 6 at layer 2");
  for (const nlohmann::json& layer : json.at("layers")) {
    const int index = layer.at("layer");
    int position = 0;
    for (const nlohmann::json& routing : layer.at("routing")) {
      const auto experts = routing.at("experts").get<std::vector<int>>();
      ASSERT_EQ(experts.size(), 1u);
      EXPECT_NE(experts[0], 5);
      if (index == 0) {
        EXPECT_NE(experts[0], 3);
      }
      if (index == 2 && position == 2) {
        EXPECT_EQ(experts[0], 6);
        EXPECT_TRUE(routing.at("pinned").get<bool>());
      }
      ++position;
    }
  }
  const nlohmann::json& effect = json.at("effect");
  EXPECT_GT(effect.at("kl").at("mean").get<double>(), 0.0);
  EXPECT_GT(effect.at("perplexity").at("unchanged").get<double>(), 1.0);
  EXPECT_NE(effect.at("perplexity").at("unchanged"), effect.at("perplexity").at("changed"));
  EXPECT_EQ(effect.at("balance").size(), 2u);
}

TEST_F(CliInterventionsTest, RouteTableAndCsvSayWhatChanged) {
  const CommandResult table =
      run_cli("route " + model() + " --prompt 'hello there' --routing capacity:0.5");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("Interventions: capacity routing, factor 0.5"), std::string::npos);
  EXPECT_NE(table.out.find("KL(unchanged || changed)"), std::string::npos);
  EXPECT_NE(table.out.find("prompt perplexity"), std::string::npos);
  EXPECT_NE(table.out.find("Compute:"), std::string::npos);
  const CommandResult csv =
      run_cli("route " + model() + " --prompt 'hello there' --csv --routing expert-choice");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("# interventions: expert-choice routing\ntoken,", 0), 0u);
}

TEST_F(CliInterventionsTest, PplAndGenerateShowBothModels) {
  const CommandResult ppl = run_cli("ppl " + model() + " --file " + workspace_->arg("text.txt") +
                                    " --json --disable-expert all:0 --disable-expert all:1");
  ASSERT_EQ(ppl.exit_code, 0) << ppl.err;
  const nlohmann::json json = nlohmann::json::parse(ppl.out);
  EXPECT_GT(json.at("mean_kl").get<double>(), 0.0);
  EXPECT_NE(json.at("perplexity"), json.at("unchanged").at("perplexity"));
  EXPECT_EQ(json.at("balance")[0].at("changed").at("token_counts")[0], 0);

  const CommandResult generate =
      run_cli("generate " + model() + " --prompt 'once upon' -n 6 --temp 0 --json --top-k 1");
  ASSERT_EQ(generate.exit_code, 0) << generate.err;
  const nlohmann::json out = nlohmann::json::parse(generate.out);
  EXPECT_TRUE(out.contains("unchanged_text"));
  EXPECT_EQ(out.at("effect").at("interventions").at("top_k"), 1);
}

TEST_F(CliInterventionsTest, ExpertsAndCompare) {
  const CommandResult experts =
      run_cli("experts " + model() + " --layer 0 --expert 2 --json --prompts " +
              workspace_->arg("prompts"));
  ASSERT_EQ(experts.exit_code, 0) << experts.err;
  const nlohmann::json json = nlohmann::json::parse(experts.out);
  ASSERT_EQ(json.at("domains").size(), 2u);
  EXPECT_EQ(json.at("domains")[0].at("domain"), "maths");
  int64_t routed = 0;
  for (const nlohmann::json& d : json.at("domains")) routed += d.at("routed").get<int64_t>();
  EXPECT_EQ(routed, json.at("routed").get<int64_t>());

  const fs::path png = workspace_->dir() / "difference.png";
  const CommandResult compare =
      run_cli("compare " + model() +
              " --prompt 'Solve 15 x 8' --prompt-b 'Write a poem about the sea' --out " +
              shell_quote(png.string()));
  ASSERT_EQ(compare.exit_code, 0) << compare.err;
  EXPECT_NE(compare.out.find("Load difference"), std::string::npos);
  EXPECT_NE(compare.out.find("Compute counter"), std::string::npos);
  EXPECT_GT(fs::file_size(png), 1000u);
}

TEST_F(CliInterventionsTest, BadFlagsGiveOneClearLine) {
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"--disable-expert 3", "is not LAYER:EXPERT"},
      {"--disable-expert 0:x", "not a whole number"},
      {"--disable-expert 0:8", "expert 8 is out of range"},
      {"--disable-expert 1:0", "layer 1 is not a MoE layer"},
      {"--top-k 9", "top-k 9 is out of range (1..8)"},
      {"--pin 1:0", "is not TOKEN:LAYER:EXPERT"},
      {"--routing capacity:-1", "positive number"},
      {"--routing sideways", "unknown routing rule"},
      {"--router-temperature 0", "router temperature must be a positive number"},
      {"--router-noise -1", "router noise must be 0 or a positive number"},
      {"--scoring cosine", "unknown scoring 'cosine'"},
      {"--expert-bias 3", "is not EXPERT:VALUE"},
      {"--expert-bias 9:0.1", "expert 9 is out of range"},
  };
  for (const Case& c : cases) {
    const CommandResult r = run_cli("route " + model() + " --prompt hi " + c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  const CommandResult experts = run_cli("experts " + model() + " --layer 1 --expert 0");
  EXPECT_NE(experts.exit_code, 0);
  EXPECT_NE(experts.err.find("not a MoE layer"), std::string::npos) << experts.err;
}

// The router knobs as flags of route, ppl and generate: applied, described and measured.
TEST_F(CliInterventionsTest, RouterKnobFlags) {
  const std::string knobs =
      " --router-temperature 0.5 --router-noise 0.7 --noise-seed 3 --scoring sigmoid "
      "--expert-bias 2:0.3 --expert-bias 4:-0.1";
  const CommandResult r = run_cli("route " + model() + " --prompt 'a poem about the sea' --json" +
                                  knobs);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json.at("interventions").at("description"),
            "router temperature 0.5; noisy top-k, noise 0.7 (seed 3); sigmoid scoring; "
            "expert 2 selection bias +0.3; expert 4 selection bias -0.1");
  EXPECT_EQ(json.at("interventions").at("scoring"), "sigmoid");
  EXPECT_GT(json.at("effect").at("kl").at("mean").get<double>(), 0.0);
  // The same flags, the same routing (the noise is seeded); another seed, another routing.
  const CommandResult again = run_cli("route " + model() +
                                      " --prompt 'a poem about the sea' --json" + knobs);
  EXPECT_EQ(again.out, r.out);
  const CommandResult other_seed =
      run_cli("route " + model() + " --prompt 'a poem about the sea' --json --router-noise 0.7 "
              "--noise-seed 4");
  const CommandResult first_seed =
      run_cli("route " + model() + " --prompt 'a poem about the sea' --json --router-noise 0.7 "
              "--noise-seed 3");
  EXPECT_NE(nlohmann::json::parse(other_seed.out).at("layers"),
            nlohmann::json::parse(first_seed.out).at("layers"));
  const CommandResult ppl = run_cli("ppl " + model() + " --file " + workspace_->arg("text.txt") +
                                    " --json" + knobs);
  ASSERT_EQ(ppl.exit_code, 0) << ppl.err;
  EXPECT_GT(nlohmann::json::parse(ppl.out).at("mean_kl").get<double>(), 0.0);
  const CommandResult generate =
      run_cli("generate " + model() + " --prompt 'once upon' -n 3 --temp 0 --json" + knobs);
  ASSERT_EQ(generate.exit_code, 0) << generate.err;
  EXPECT_EQ(nlohmann::json::parse(generate.out).at("effect").at("interventions").at("temperature"),
            0.5);
}
