// moescope-cli end to end: the real binary on generated models. Checks the route JSON against
// the definition of routing (probabilities sum to 1, experts are the top-k, weights
// renormalized) and that bad input ends with one clear line on stderr and a non-zero exit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <regex>
#include <string>

#include "cli_runner.hpp"

namespace fs = std::filesystem;

namespace {

using moe::testing::CliWorkspace;
using moe::testing::CommandResult;
using moe::testing::run_cli;
using moe::testing::shell_quote;

class CliTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    workspace_ =
        std::make_unique<CliWorkspace>("moescope_cli_test", moe::testing::cli_test_model(11));
  }
  static void TearDownTestSuite() { workspace_.reset(); }
  static std::string model() { return workspace_->model(); }
  static inline std::unique_ptr<CliWorkspace> workspace_;
};

}  // namespace

TEST_F(CliTest, RouteJsonIsTheTopKOfNormalizedProbabilities) {
  const CommandResult r = run_cli("route " + model() + " --prompt " + shell_quote("Solve 15 × 8, then a poem 🌊") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json.at("n_layer"), 3);
  EXPECT_EQ(json.at("n_expert"), 8);
  EXPECT_EQ(json.at("top_k"), 2);
  const size_t n_tokens = json.at("tokens").size();
  ASSERT_GT(n_tokens, 10u);
  ASSERT_EQ(json.at("layers").size(), 2u);  // layer 1 is dense: no routing
  EXPECT_EQ(json["layers"][0]["layer"], 0);
  EXPECT_EQ(json["layers"][1]["layer"], 2);
  for (const auto& layer : json.at("layers")) {
    ASSERT_EQ(layer.at("routing").size(), n_tokens);
    for (const auto& routing : layer.at("routing")) {
      const std::vector<float> probs = routing.at("probs");
      const std::vector<int> experts = routing.at("experts");
      const std::vector<float> weights = routing.at("weights");
      ASSERT_EQ(probs.size(), 8u);
      ASSERT_EQ(experts.size(), 2u);
      EXPECT_NEAR(std::accumulate(probs.begin(), probs.end(), 0.0), 1.0, 1e-5);
      // The chosen experts are the two largest probabilities, in order.
      std::vector<int> order(8);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return probs[a] > probs[b]; });
      EXPECT_EQ(experts[0], order[0]);
      EXPECT_EQ(experts[1], order[1]);
      // Mixtral's rule: the chosen probabilities renormalized to sum to 1.
      const float chosen = probs[experts[0]] + probs[experts[1]];
      EXPECT_NEAR(weights[0], probs[experts[0]] / chosen, 1e-5);
      EXPECT_NEAR(weights[0] + weights[1], 1.0, 1e-5);
    }
  }
  // Stats count every token once per chosen slot.
  const auto& counts = json.at("stats").at("layers").at(0).at("token_counts");
  int64_t total = 0;
  for (const auto& c : counts) total += c.get<int64_t>();
  EXPECT_EQ(total, static_cast<int64_t>(2 * n_tokens));
}

TEST_F(CliTest, RouteCsvHasOneRowPerTokenLayerExpert) {
  const CommandResult r = run_cli("route " + model() + " --prompt hello --csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = std::count(r.out.begin(), r.out.end(), '\n');
  // BOS + 5 byte tokens, 2 MoE layers, 8 experts, plus the header.
  EXPECT_EQ(rows, 6 * 2 * 8 + 1);
  EXPECT_EQ(r.out.rfind("token,token_id,text,layer,expert", 0), 0u);
}

TEST_F(CliTest, TokenizeAndGenerate) {
  const CommandResult tok = run_cli("tokenize " + model() + " --text abc --json");
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const auto ids = nlohmann::json::parse(tok.out).at("ids").get<std::vector<int>>();
  EXPECT_EQ(ids.size(), 3u);

  const std::string args = "generate " + model() + " --prompt Hi -n 5 --temp 0.9 --seed 3 --json";
  const CommandResult first = run_cli(args);
  const CommandResult second = run_cli(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const nlohmann::json json = nlohmann::json::parse(first.out);
  EXPECT_LE(json.at("tokens").size(), 5u);
  EXPECT_EQ(json.at("layers").at(0).at("routing").size(), json.at("tokens").size());
  EXPECT_EQ(first.out, second.out) << "same seed, same continuation";
}

// Token text is shown by the app's rule (moe::display_token_text): a control byte in the input
// must not reach the terminal raw (ESC would recolour it, BEL ring), and a byte token reads
// <0xNN> in every command (issue 16).
TEST_F(CliTest, TokenTextNeverWritesControlBytesToTheTerminal) {
  const auto has_control = [](const std::string& text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return (byte < 0x20 && c != '\n') || byte == 0x7F;
    });
  };
  const CommandResult tok = run_cli("tokenize " + model() + " --text " + shell_quote("a\x1b[31mred"));
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  EXPECT_FALSE(has_control(tok.out)) << tok.out;
  EXPECT_NE(tok.out.find("'<0x1B>'"), std::string::npos) << tok.out;

  const CommandResult route = run_cli("route " + model() + " --prompt " + shell_quote("x\x07\x7f"));
  ASSERT_EQ(route.exit_code, 0) << route.err;
  EXPECT_FALSE(has_control(route.out)) << route.out;
  EXPECT_NE(route.out.find("'<0x07>'"), std::string::npos) << route.out;

  // generate writes running text: its newlines stay, its control bytes are escaped.
  const CommandResult gen =
      run_cli("generate " + model() + " -n 4 --temp 0 --prompt " + shell_quote("x\x1b[31m\ny"));
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  EXPECT_FALSE(has_control(gen.out)) << gen.out;
  EXPECT_NE(gen.out.find("x<0x1B>[31m\ny"), std::string::npos) << gen.out;
}

// A prompt longer than the context: every command uses its first n_ctx tokens and says so, as
// the app does; generate says why it stopped early (issue 16: route, generate and compare
// failed, plot cut silently, generate -n 400 stopped at 246 without a word).
TEST_F(CliTest, LongPromptsAreCutToTheContextWithANote) {
  std::string long_prompt;
  for (int i = 0; i < 300; ++i) long_prompt += "word ";
  const std::string note = "tokens; the context holds 512: only the first 512 are used";
  for (const std::string& command :
       {"route " + model() + " --prompt " + shell_quote(long_prompt),
        "compare " + model() + " --prompt " + shell_quote(long_prompt) + " --prompt-b hi",
        "generate " + model() + " -n 5 --prompt " + shell_quote(long_prompt)}) {
    const CommandResult r = run_cli(command, moe::testing::OutputStreams::Merged);
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.out;
    EXPECT_NE(r.out.find(note), std::string::npos) << command << "\n" << r.out;
  }
  const CommandResult route = run_cli("route " + model() + " --prompt " + shell_quote(long_prompt));
  EXPECT_NE(route.out.find("Routing: 512 tokens"), std::string::npos) << route.out;

  // About 500 prompt tokens leave a few positions: -n 400 stops when the context is full.
  const CommandResult generate =
      run_cli("generate " + model() + " -n 400 --seed 1 --prompt " +
                  shell_quote(long_prompt.substr(0, long_prompt.size() / 3)),
              moe::testing::OutputStreams::Merged);
  ASSERT_EQ(generate.exit_code, 0) << generate.out;
  EXPECT_NE(generate.out.find(" of 400 tokens: the context of 512 is full"), std::string::npos)
      << generate.out;
}

TEST_F(CliTest, InfoReportsExpertsAndParameters) {
  const CommandResult r = run_cli("info " + model() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json.at("n_expert"), 8);
  EXPECT_EQ(json.at("moe_layers").size(), 2u);
  EXPECT_LT(json.at("parameters_active_per_token").get<uint64_t>(), json.at("parameters_total").get<uint64_t>());
}

TEST_F(CliTest, BadInputGivesOneClearLineAndNonZeroExit) {
  const fs::path not_gguf = workspace_->dir() / "notes.txt";
  std::ofstream(not_gguf) << "these are not the weights you are looking for\n";
  const struct {
    std::string args;
    std::string expected_in_stderr;
  } cases[] = {
      {"route " + workspace_->arg("missing.gguf") + " --prompt x", "missing.gguf"},
      {"route " + shell_quote(not_gguf.string()) + " --prompt x", "notes.txt"},
      {"route " + model(), "--prompt"},
      {"route " + model() + " --prompt x --json --csv", "excludes"},
      {"bench " + model() + " --threads -3", "threads"},
      {"frobnicate", "frobnicate"},
  };
  for (const auto& c : cases) {
    const CommandResult r = run_cli(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.exit_code, 2) << "internal error for: " << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expected_in_stderr), std::string::npos) << c.args << "\nstderr: " << r.err;
    EXPECT_TRUE(r.out.empty()) << c.args;
  }
}

TEST_F(CliTest, CommandsDefaultToTheBundledModel) {
  const CommandResult r = run_cli("info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json.at("model"), "moescope-moe-v2");
  EXPECT_EQ(json.at("architecture"), "llama");
  EXPECT_NE(json.at("path").get<std::string>().find("assets/models/moescope-moe-v2.gguf"), std::string::npos);
  EXPECT_GE(json.at("n_expert").get<int>(), 8);
}

TEST_F(CliTest, InfoTextShowsTensorBytesInByteUnits) {
  const CommandResult r = run_cli("info " + model());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t line = r.out.find("Tensor types");
  ASSERT_NE(line, std::string::npos) << r.out;
  const std::string types = r.out.substr(line, r.out.find('\n', line) - line);
  // Every type's size reads like "(1.1 MB)" or "(512 B)", never a count with a B glued on.
  EXPECT_TRUE(std::regex_search(types, std::regex(R"(x\d+ \((\d+\.\d [KMG]B|\d+ B)\))"))) << types;
  EXPECT_EQ(types.find("BB"), std::string::npos) << types;
}

// --exact on route, generate, ppl and bench: the exact product of the stored weights (f32
// activations) instead of llama.cpp's 8-bit activations; on a quantized model the router's
// probabilities move a little, and bench says which arithmetic it measured.
TEST(CliExact, ExactIsTheF32ActivationProductOnEveryModelCommand) {
  moe::RandomModelSpec spec = moe::testing::cli_test_model(12);
  spec.weight_type = moe::GgmlType::Q8_0;
  const CliWorkspace workspace("moescope_cli_exact", spec);
  const std::string model = workspace.model();
  const std::string prompt = " --prompt " + shell_quote("Write a poem about the sea") + " --json";
  const CommandResult quantized = run_cli("route " + model + prompt);
  const CommandResult exact = run_cli("route " + model + prompt + " --exact");
  ASSERT_EQ(quantized.exit_code, 0) << quantized.err;
  ASSERT_EQ(exact.exit_code, 0) << exact.err;
  const nlohmann::json a = nlohmann::json::parse(quantized.out);
  const nlohmann::json b = nlohmann::json::parse(exact.out);
  double largest = 0;
  for (size_t l = 0; l < a.at("layers").size(); ++l) {
    for (size_t t = 0; t < a["layers"][l]["routing"].size(); ++t) {
      const std::vector<double> pa = a["layers"][l]["routing"][t].at("probs");
      const std::vector<double> pb = b["layers"][l]["routing"][t].at("probs");
      for (size_t e = 0; e < pa.size(); ++e) largest = std::max(largest, std::abs(pa[e] - pb[e]));
    }
  }
  EXPECT_GT(largest, 0.0);
  EXPECT_LT(largest, 0.05);

  std::ofstream(workspace.dir() / "text.txt")
      << "The sea is calm tonight. The tide is full, the moon lies fair.\n";
  EXPECT_EQ(run_cli("generate " + model + " -n 3 --temp 0 --exact --prompt hi").exit_code, 0);
  const CommandResult ppl = run_cli("ppl " + model + " --exact --file " + workspace.arg("text.txt"));
  EXPECT_EQ(ppl.exit_code, 0) << ppl.err;
  const CommandResult bench =
      run_cli("bench " + model + " --exact --prompt-tokens 8 --gen 2 --repeat 1");
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  EXPECT_NE(bench.out.find("exact: f32 activations"), std::string::npos) << bench.out;
}
