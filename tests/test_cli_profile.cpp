// `moescope-cli profile` and `profile-report` on a small random model: the counts add up, a run
// stopped and resumed gives the same profile as one run, and the report holds every metric.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <thread>

#include "cli_runner.hpp"
#include "moe/corpus_profile_file.hpp"
#include "moe/random_model.hpp"

using moe::testing::CliWorkspace;
using moe::testing::CommandResult;
using moe::testing::run_cli;

namespace {

class CliProfileTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    workspace_ = std::make_unique<CliWorkspace>("moescope_cli_profile", moe::testing::cli_test_model(19));
    const auto corpus = workspace_->dir() / "corpus";
    std::filesystem::create_directories(corpus);
    std::ofstream(corpus / "code.txt") << "int main() { return 0; }\nfor (int i = 0; i < 8; ++i) x += i;\n"
                                          "def f(x):\n    return x * 2\n";
    std::ofstream(corpus / "prose.txt") << "The sea was calm that morning.\n\nA poem about the sea.\n"
                                           "She walked home slowly.\n";
  }
  static void TearDownTestSuite() { workspace_.reset(); }
  static std::string model() { return workspace_->model(); }
  static std::string corpus() { return workspace_->arg("corpus"); }
  static std::filesystem::path path(const std::string& name) { return workspace_->dir() / name; }
  static inline std::unique_ptr<CliWorkspace> workspace_;
};

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_F(CliProfileTest, CountsAddUp) {
  const CommandResult r = run_cli("profile " + model() + " --data " + corpus() + " --out " +
                                  workspace_->arg("all.moeprofile") + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const moe::CorpusProfile profile = moe::read_corpus_profile(path("all.moeprofile"));
  EXPECT_EQ(profile.documents, 7);  // the blank line is not a document
  EXPECT_EQ(profile.model.moe_layers, (std::vector<int>{0, 2}));
  EXPECT_EQ(profile.model.top_k, 2);
  ASSERT_EQ(profile.domains.size(), 2u);
  EXPECT_EQ(profile.domains.at("code").tokens + profile.domains.at("prose").tokens, profile.tokens);
  for (const moe::ProfileLayer& layer : profile.layers) {
    EXPECT_EQ(layer.tokens, profile.tokens);
    const int64_t slots = std::accumulate(layer.token_counts.begin(), layer.token_counts.end(), int64_t{0});
    EXPECT_EQ(slots, 2 * profile.tokens);
    EXPECT_EQ(layer.cache.requests, slots);
    EXPECT_EQ(layer.repetition.pairs, profile.tokens - profile.documents);  // pairs within documents
    int64_t occurrences = 0;
    for (const auto& entry : layer.by_input) occurrences += entry.second.occurrences;
    EXPECT_EQ(occurrences, profile.tokens);
    double mass = 0;
    for (double m : layer.gate_mass) mass += m;
    EXPECT_GT(mass, 0);
  }
  EXPECT_GT(profile.layers[0].reap.tokens[0] + profile.layers[0].reap.tokens[1], 0);
}

TEST_F(CliProfileTest, StoppedAndResumedEqualsOneRun) {
  const std::string out = workspace_->arg("resumed.moeprofile");
  const std::string whole = workspace_->arg("whole.moeprofile");
  ASSERT_EQ(run_cli("profile " + model() + " --data " + corpus() + " --out " + whole + " --quiet").exit_code, 0);
  const CommandResult part = run_cli("profile " + model() + " --data " + corpus() + " --out " + out +
                                     " --max-tokens 5 --quiet");
  ASSERT_EQ(part.exit_code, 0) << part.err;
  const moe::CorpusProfile partial = moe::read_corpus_profile(path("resumed.moeprofile"));
  EXPECT_GE(partial.tokens, 5);
  EXPECT_LT(partial.documents, 7);
  const CommandResult rest =
      run_cli("profile " + model() + " --data " + corpus() + " --out " + out + " --resume --quiet");
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(read_all(path("resumed.moeprofile")), read_all(path("whole.moeprofile")));
}

TEST_F(CliProfileTest, CtrlCWritesWhatIsDoneAndResumeFinishes) {
  // A corpus long enough that the run is still going when it is interrupted.
  const auto long_corpus = path("long.txt");
  {
    std::ofstream out(long_corpus);
    for (int i = 0; i < 3000; ++i) out << "line " << i << " of a long corpus\n";
  }
  const std::string out = path("interrupted.moeprofile").string();
  const std::string err = path("interrupted.err").string();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    const std::string model_path = (workspace_->dir() / "model.gguf").string();
    const std::string data = long_corpus.string();
    execl(MOESCOPE_CLI_PATH, MOESCOPE_CLI_PATH, "profile", model_path.c_str(), "--data",
          data.c_str(), "--out", out.c_str(), "--threads", "1", static_cast<char*>(nullptr));
    _exit(127);
  }
  // The progress line appears after the first document, when Ctrl-C is already handled.
  for (int i = 0; i < 3000 && read_all(err).find("tokens/s") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(child, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << read_all(err);
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_all(err);
  EXPECT_NE(read_all(err).find("Stopped; wrote"), std::string::npos) << read_all(err);
  const moe::CorpusProfile stopped = moe::read_corpus_profile(out);
  EXPECT_GT(stopped.documents, 0);
  EXPECT_LT(stopped.documents, 3000);
  const std::string data_arg = workspace_->arg("long.txt");
  const CommandResult rest = run_cli("profile " + model() + " --data " + data_arg + " --out " +
                                     workspace_->arg("interrupted.moeprofile") + " --resume --quiet");
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(moe::read_corpus_profile(out).documents, 3000);
}

TEST_F(CliProfileTest, ReportHoldsEveryMetric) {
  const std::string out = workspace_->arg("report.moeprofile");
  ASSERT_EQ(run_cli("profile " + model() + " --data " + corpus() + " --out " + out + " --quiet").exit_code, 0);
  const CommandResult r = run_cli("profile-report " + out + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = nlohmann::json::parse(r.out);
  ASSERT_EQ(report.at("layers").size(), 2u);
  const nlohmann::json& layer = report.at("layers")[0];
  for (const char* key : {"load_share", "never_activated", "repetition", "vocabulary_specialization",
                          "coactivation", "next_layer_probability", "next_layer_nmi",
                          "reap_saliency", "esft_set", "cache"}) {
    EXPECT_TRUE(layer.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(layer.at("repetition").at("random_same_top1").get<double>(), 1.0 / 8);
  EXPECT_EQ(layer.at("cache").at("lru_hit_rate").size(), 8u);
  EXPECT_NEAR(layer.at("cache").at("lru_hit_rate")[7].get<double>(),
              layer.at("cache").at("belady_hit_rate")[7].get<double>(), 1e-12);  // all fit
  EXPECT_EQ(report.at("domain_specialization").size(), 2u);
  const CommandResult text = run_cli("profile-report " + out);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Domain specialization"), std::string::npos);
}

TEST_F(CliProfileTest, CorruptProfileAndMissingDataGiveOneLineErrors) {
  std::ofstream(path("broken.moeprofile")) << "{\"format\": \"moeprofile\", \"version\": 1";
  const CommandResult broken = run_cli("profile-report " + workspace_->arg("broken.moeprofile"));
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("not a moeprofile"), std::string::npos) << broken.err;
  const CommandResult missing = run_cli("profile " + model() + " --data " +
                                        workspace_->arg("nothing.txt") + " --out " +
                                        workspace_->arg("x.moeprofile"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nothing.txt"), std::string::npos) << missing.err;
}

TEST_F(CliProfileTest, PlotsEveryKindFromAProfile) {
  const std::string out = workspace_->arg("plot.moeprofile");
  ASSERT_EQ(run_cli("profile " + model() + " --data " + corpus() + " --out " + out + " --quiet").exit_code, 0);
  const CommandResult cache =
      run_cli("plot --profile " + out + " --kind cache --out " + workspace_->arg("cache.svg"));
  ASSERT_EQ(cache.exit_code, 0) << cache.err;
  EXPECT_TRUE(std::filesystem::exists(path("cache-L0.svg")));
  EXPECT_TRUE(std::filesystem::exists(path("cache-L2.svg")));
  EXPECT_NE(read_all(path("cache-L0.svg")).find("Belady"), std::string::npos);
  const CommandResult repetition = run_cli("plot --profile " + out + " --kind repetition --out " +
                                           workspace_->arg("repetition.png"));
  ASSERT_EQ(repetition.exit_code, 0) << repetition.err;
  EXPECT_GT(std::filesystem::file_size(path("repetition.png")), 1000u);
  // Every other kind a profile draws: per-layer kinds one file per MoE layer, the rest one file.
  for (const std::string kind : {"load", "coactivation", "domains", "reap"}) {
    const CommandResult r = run_cli("plot --profile " + out + " --kind " + kind + " --out " +
                                    workspace_->arg(kind + ".svg"));
    ASSERT_EQ(r.exit_code, 0) << kind << ": " << r.err;
    EXPECT_TRUE(std::filesystem::exists(path(kind + "-L0.svg"))) << kind;
    EXPECT_TRUE(std::filesystem::exists(path(kind + "-L2.svg"))) << kind;
  }
  EXPECT_NE(read_all(path("domains-L2.svg")).find("prose"), std::string::npos);
  const CommandResult transitions = run_cli("plot --profile " + out + " --kind transitions --out " +
                                            workspace_->arg("transitions.svg"));
  ASSERT_EQ(transitions.exit_code, 0) << transitions.err;
  EXPECT_TRUE(std::filesystem::exists(path("transitions-L0.svg")));
  EXPECT_FALSE(std::filesystem::exists(path("transitions-L2.svg")));  // the last MoE layer
  for (const std::string kind : {"heatmap", "vocabulary", "consistency", "esft"}) {
    const CommandResult r = run_cli("plot --profile " + out + " --kind " + kind + " --out " +
                                    workspace_->arg(kind + ".png"));
    ASSERT_EQ(r.exit_code, 0) << kind << ": " << r.err;
    EXPECT_GT(std::filesystem::file_size(path(kind + ".png")), 1000u) << kind;
  }
  const CommandResult one_layer = run_cli("plot --profile " + out + " --kind reap --layer 2 --out " +
                                          workspace_->arg("reap2.svg"));
  ASSERT_EQ(one_layer.exit_code, 0) << one_layer.err;
  EXPECT_NE(read_all(path("reap2.svg")).find("layer 2"), std::string::npos);
  const CommandResult not_moe = run_cli("plot --profile " + out + " --kind reap --layer 1 --out " +
                                        workspace_->arg("reap1.svg"));
  EXPECT_EQ(not_moe.exit_code, 1);
  EXPECT_NE(not_moe.err.find("layers: 0, 2"), std::string::npos) << not_moe.err;
  const CommandResult path_kind = run_cli("plot --profile " + out + " --kind path --out " +
                                          workspace_->arg("path.svg"));
  EXPECT_EQ(path_kind.exit_code, 1);
  EXPECT_NE(path_kind.err.find("does not keep"), std::string::npos) << path_kind.err;
  const CommandResult no_profile = run_cli("plot " + model() + " --prompt hi --kind cache --out " +
                                           workspace_->arg("x.png"));
  EXPECT_EQ(no_profile.exit_code, 1);
  EXPECT_NE(no_profile.err.find("--profile"), std::string::npos) << no_profile.err;
}

TEST_F(CliProfileTest, PrunePlanKeepsTheBusiestExpertsAndPplMeasuresThePrunedModel) {
  const std::string profile_path = workspace_->arg("prune.moeprofile");
  ASSERT_EQ(run_cli("profile " + model() + " --data " + corpus() + " --out " + profile_path + " --quiet").exit_code, 0);
  const std::string plan_path = workspace_->arg("plan.json");
  const CommandResult plan_run = run_cli("prune-plan " + profile_path +
                                         " --keep 0.5 --by frequency --out " + plan_path);
  ASSERT_EQ(plan_run.exit_code, 0) << plan_run.err;
  EXPECT_NE(plan_run.out.find("Keeping 4 of 8 experts"), std::string::npos) << plan_run.out;

  // The kept experts are the four with the most tokens in the profile (ties: lower id).
  const moe::CorpusProfile profile = moe::read_corpus_profile(path("prune.moeprofile"));
  const nlohmann::json plan = nlohmann::json::parse(read_all(path("plan.json")));
  ASSERT_EQ(plan.at("layers").size(), profile.layers.size());
  for (size_t m = 0; m < profile.layers.size(); ++m) {
    std::vector<int> order(8);
    std::iota(order.begin(), order.end(), 0);
    const std::vector<int64_t>& counts = profile.layers[m].token_counts;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return counts[a] > counts[b]; });
    std::vector<int> busiest(order.begin(), order.begin() + 4);
    std::sort(busiest.begin(), busiest.end());
    EXPECT_EQ(plan.at("layers")[m].at("kept").get<std::vector<int>>(), busiest);
  }

  // Applied to ppl: the pruned experts get no token, and the model is compared with the full one.
  std::ofstream(path("held_out.txt")) << "The sea was grey. def g(y): return y + 1\n";
  const CommandResult ppl = run_cli("ppl " + model() + " --file " + workspace_->arg("held_out.txt") +
                                    " --prune-plan " + plan_path + " --json");
  ASSERT_EQ(ppl.exit_code, 0) << ppl.err;
  const nlohmann::json result = nlohmann::json::parse(ppl.out);
  EXPECT_GT(result.at("mean_kl").get<double>(), 0.0);
  EXPECT_NE(result.at("perplexity").get<double>(), result.at("unchanged").at("perplexity").get<double>());
  for (size_t m = 0; m < result.at("balance").size(); ++m) {
    const auto changed = result.at("balance")[m].at("changed").at("token_counts").get<std::vector<int64_t>>();
    for (int expert : plan.at("layers")[m].at("pruned").get<std::vector<int>>()) EXPECT_EQ(changed[expert], 0);
  }

  // A plan for another shape is refused by name.
  nlohmann::json other = plan;
  other["model"]["n_expert"] = 16;
  std::ofstream(path("other_plan.json")) << other.dump();
  const CommandResult refused = run_cli("ppl " + model() + " --file " + workspace_->arg("held_out.txt") +
                                        " --prune-plan " + workspace_->arg("other_plan.json"));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("16 experts"), std::string::npos) << refused.err;
  const CommandResult bad_keep = run_cli("prune-plan " + profile_path + " --keep 0 --out " + plan_path);
  EXPECT_EQ(bad_keep.exit_code, 1);
}

TEST_F(CliProfileTest, CompareModelsGivesSaturationFromModelsAndLoadFromProfiles) {
  moe::write_random_model(moe::testing::cli_test_model(20), path("other.gguf"));
  const std::string other = workspace_->arg("other.gguf");
  const CommandResult itself = run_cli("compare-models " + model() + " " + model() + " --data " +
                                       corpus() + " --json --quiet");
  ASSERT_EQ(itself.exit_code, 0) << itself.err;
  const nlohmann::json same = nlohmann::json::parse(itself.out);
  ASSERT_EQ(same.at("layers").size(), 2u);
  for (const nlohmann::json& layer : same.at("layers")) {
    EXPECT_DOUBLE_EQ(layer.at("saturation").at("mean_overlap").get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(layer.at("total_variation").get<double>(), 0.0);
  }
  const CommandResult two = run_cli("compare-models " + model() + " " + other + " --data " + corpus() +
                                    " --quiet --out " + workspace_->arg("models.svg"));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_NE(two.out.find("top-1 agree"), std::string::npos) << two.out;
  EXPECT_NE(read_all(path("models.svg")).find("router saturation"), std::string::npos);

  // From two profiles: the load comparison, and saturation is said to need the models.
  const std::string pa = workspace_->arg("a.moeprofile"), pb = workspace_->arg("b.moeprofile");
  ASSERT_EQ(run_cli("profile " + model() + " --data " + corpus() + " --out " + pa + " --quiet").exit_code, 0);
  ASSERT_EQ(run_cli("profile " + other + " --data " + corpus() + " --out " + pb + " --quiet").exit_code, 0);
  const CommandResult profiles = run_cli("compare-models " + pa + " " + pb + " --json");
  ASSERT_EQ(profiles.exit_code, 0) << profiles.err;
  const nlohmann::json from_profiles = nlohmann::json::parse(profiles.out);
  const nlohmann::json from_models = nlohmann::json::parse(
      run_cli("compare-models " + model() + " " + other + " --data " + corpus() + " --json --quiet").out);
  EXPECT_FALSE(from_profiles.at("layers")[0].contains("saturation"));
  // The same corpus gives the same load distance either way.
  EXPECT_NEAR(from_profiles.at("layers")[0].at("total_variation").get<double>(),
              from_models.at("layers")[0].at("total_variation").get<double>(), 1e-12);

  const CommandResult mixed = run_cli("compare-models " + model() + " " + pb);
  EXPECT_EQ(mixed.exit_code, 1);
  EXPECT_NE(mixed.err.find("not one of each"), std::string::npos) << mixed.err;
  const CommandResult no_data = run_cli("compare-models " + model() + " " + other);
  EXPECT_EQ(no_data.exit_code, 1);
  EXPECT_NE(no_data.err.find("--data"), std::string::npos) << no_data.err;
}
