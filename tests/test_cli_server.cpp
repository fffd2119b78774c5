// The CLI with routing sources that are not a local model: route, generate, plot, domains and
// profile against the fake SGLang server of tests/support, and import of each file format.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "fake_sglang_server.hpp"
#include "moe/base64.hpp"
#include "moe/corpus_profile_file.hpp"

using moe::testing::CliWorkspace;
using moe::testing::CommandResult;
using moe::testing::fake_expert;
using moe::testing::FakeServerMode;
using moe::testing::FakeSglangServer;
using moe::testing::run_cli;
using moe::testing::shell_quote;

namespace {

class CliServerTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    workspace_ =
        std::make_unique<CliWorkspace>("moescope_cli_server", moe::testing::cli_test_model(23));
    std::ofstream(path("config.json")) << moe::testing::fake_model_config();
    std::filesystem::create_directories(path("prompts"));
    std::ofstream(path("prompts") / "code.txt") << "int x;\nfor i\n";
    std::ofstream(path("prompts") / "poems.txt") << "The sea\nA rose\n";
  }
  static void TearDownTestSuite() { workspace_.reset(); }
  static std::filesystem::path path(const std::string& name) { return workspace_->dir() / name; }
  static std::string arg(const std::string& name) { return workspace_->arg(name); }
  static std::string config() { return " --model-config " + arg("config.json"); }
  static inline std::unique_ptr<CliWorkspace> workspace_;
};

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::set<std::string> keys_of(const nlohmann::json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

}  // namespace

TEST_F(CliServerTest, RouteJsonHasTheLocalRouteShapeWithTheServersExperts) {
  FakeSglangServer server(FakeServerMode::Normal);
  const CommandResult remote =
      run_cli("route --server " + server.url() + config() + " --prompt Hello --json");
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  const nlohmann::json json = nlohmann::json::parse(remote.out);
  EXPECT_EQ(json.at("chosen_experts_only"), true);
  EXPECT_EQ(json.at("n_layer"), 4);
  EXPECT_EQ(json.at("top_k"), 2);
  ASSERT_EQ(json.at("tokens").size(), 5u);
  EXPECT_EQ(json.at("tokens")[1].at("text"), "e");
  ASSERT_EQ(json.at("layers").size(), 3u);  // layer 0 is dense
  const nlohmann::json& layer2 = json.at("layers")[1];
  EXPECT_EQ(layer2.at("layer"), 2);
  for (int t = 0; t < 5; ++t)
    EXPECT_EQ(layer2.at("routing")[static_cast<size_t>(t)].at("experts"),
              (std::vector<int>{fake_expert(t, 2, 0), fake_expert(t, 2, 1)}));

  // The keys a local route --json writes are all there (one entry per token and layer).
  const CommandResult local = run_cli("route " + workspace_->model() + " --prompt Hello --json");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const nlohmann::json local_json = nlohmann::json::parse(local.out);
  for (const std::string& key : keys_of(local_json)) EXPECT_TRUE(json.contains(key)) << key;
  EXPECT_EQ(keys_of(local_json.at("layers")[0].at("routing")[0]), keys_of(layer2.at("routing")[0]));

  // --layers / --top-k instead of the config: every layer counts as MoE, the ids still check.
  const CommandResult counts = run_cli("route --server " + server.url() +
                                       " --layers 4 --top-k 2 --experts 8 --prompt Hi --json");
  ASSERT_EQ(counts.exit_code, 0) << counts.err;
  EXPECT_EQ(nlohmann::json::parse(counts.out).at("layers").size(), 4u);
  const CommandResult table = run_cli("route --server " + server.url() + config() + " --prompt Hi");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("the server returns only the chosen experts"), std::string::npos);
  EXPECT_NE(table.out.find("L3: e" + std::to_string(fake_expert(0, 3, 0))), std::string::npos);
}

TEST_F(CliServerTest, RouteErrorsAreClearAndNonZero) {
  FakeSglangServer normal(FakeServerMode::Normal);
  const CommandResult wrong_layers =
      run_cli("route --server " + normal.url() + " --layers 5 --top-k 2 --prompt Hi");
  EXPECT_NE(wrong_layers.exit_code, 0);
  EXPECT_NE(wrong_layers.err.find("does not match"), std::string::npos) << wrong_layers.err;
  const CommandResult no_shape = run_cli("route --server " + normal.url() + " --prompt Hi");
  EXPECT_NE(no_shape.exit_code, 0);
  EXPECT_NE(no_shape.err.find("--model-config"), std::string::npos) << no_shape.err;
  const CommandResult both = run_cli("route " + workspace_->model() + " --server " + normal.url() +
                                     config() + " --prompt Hi");
  EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
  const CommandResult intervention =
      run_cli("route --server " + normal.url() + config() + " --prompt Hi --disable-expert 1:2");
  EXPECT_NE(intervention.err.find("need a local model"), std::string::npos) << intervention.err;

  FakeSglangServer no_flag(FakeServerMode::WithoutFlag);
  const CommandResult flag = run_cli("route --server " + no_flag.url() + config() + " --prompt Hi");
  EXPECT_NE(flag.exit_code, 0);
  EXPECT_NE(flag.err.find("--enable-return-routed-experts"), std::string::npos) << flag.err;
  FakeSglangServer failing(FakeServerMode::HttpError);
  EXPECT_NE(
      run_cli("route --server " + failing.url() + config() + " --prompt Hi").err.find("HTTP 500"),
      std::string::npos);
  FakeSglangServer slow(FakeServerMode::Slow);
  const CommandResult timeout =
      run_cli("route --server " + slow.url() + config() + " --timeout 1 --prompt Hi");
  EXPECT_NE(timeout.exit_code, 0);
  EXPECT_NE(timeout.err.find("no complete answer within 1 s"), std::string::npos) << timeout.err;
}

TEST_F(CliServerTest, GeneratePlotDomainsAndProfileOnTheServer) {
  FakeSglangServer server(FakeServerMode::Normal);
  const std::string source = " --server " + server.url() + config();
  const CommandResult generated = run_cli("generate" + source + " --prompt Hi -n 3 --json");
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  const nlohmann::json json = nlohmann::json::parse(generated.out);
  EXPECT_EQ(json.at("text"), "abc");
  EXPECT_EQ(json.at("tokens").size(), 2u);  // generated tokens routed: 3 - 1
  EXPECT_EQ(json.at("tokens")[0].at("position"), 2);

  for (const std::string kind :
       {"load", "heatmap", "layers", "path", "coactivation", "transitions"}) {
    const std::string out = "server_" + kind + ".svg";
    const CommandResult plotted = run_cli("plot" + source + " --prompt Hello --kind " + kind +
                                          " --layer 1 --out " + arg(out));
    ASSERT_EQ(plotted.exit_code, 0) << kind << ": " << plotted.err;
    EXPECT_NE(read(path(out)).find("<svg"), std::string::npos) << kind;
  }
  const CommandResult gate =
      run_cli("plot" + source + " --prompt Hello --kind load --measure gate --out " + arg("g.svg"));
  EXPECT_NE(gate.err.find("the server returns only the chosen experts"), std::string::npos)
      << gate.err;
  const CommandResult domain_plot = run_cli("plot" + source + " --domains " + arg("prompts") +
                                            " --kind domains --layer 2 --out " + arg("d.svg"));
  ASSERT_EQ(domain_plot.exit_code, 0) << domain_plot.err;

  const CommandResult domains =
      run_cli("domains" + source + " --prompts " + arg("prompts") + " --json");
  ASSERT_EQ(domains.exit_code, 0) << domains.err;
  const nlohmann::json domain_json = nlohmann::json::parse(domains.out);
  EXPECT_EQ(domain_json.at("tokens").at("code"), 6 + 5);  // "int x;" and "for i", a token per byte
  EXPECT_EQ(domain_json.at("layers").size(), 3u);
  for (const nlohmann::json& layer : domain_json.at("layers")) {
    for (const auto& [domain, top1] : layer.at("top1").items()) {
      const nlohmann::json& load = layer.at("load").at(domain);
      ASSERT_EQ(top1.size(), load.size());
      double sum = 0;
      // A first choice is one of the k slots the load counts, so top1 <= k * load (k = 2).
      for (size_t e = 0; e < top1.size(); ++e) {
        sum += top1[e].get<double>();
        EXPECT_LE(top1[e].get<double>(), 2 * load[e].get<double>() + 1e-12) << domain << " " << e;
      }
      EXPECT_NEAR(sum, 1.0, 1e-12) << domain;
    }
  }

  const CommandResult profiled = run_cli("profile" + source + " --data " + arg("prompts") +
                                         " --out " + arg("server.moeprofile") + " --quiet");
  ASSERT_EQ(profiled.exit_code, 0) << profiled.err;
  const moe::CorpusProfile profile = moe::read_corpus_profile(path("server.moeprofile"));
  EXPECT_EQ(profile.tokens, 6 + 5 + 7 + 6);
  EXPECT_EQ(profile.documents, 4);
  EXPECT_EQ(profile.model.architecture, "server");
  const CommandResult report = run_cli("profile-report " + arg("server.moeprofile") + " --json");
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const nlohmann::json report_json = nlohmann::json::parse(report.out);
  EXPECT_TRUE(report_json.is_object());
}

TEST_F(CliServerTest, ImportsEachFormatAndPlotsIt) {
  // An SGLang answer as saved from the fake server's normal answer.
  std::vector<uint8_t> bytes;
  for (int t = 0; t < 3; ++t)
    for (int l = 0; l < 4; ++l)
      for (int j = 0; j < 2; ++j) {
        const auto id = static_cast<uint32_t>(l == 0 ? 0 : fake_expert(t, l, j));
        for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<uint8_t>(id >> (8 * b)));
      }
  const nlohmann::json sglang = {
      {"text", "x"},
      {"meta_info",
       {{"prompt_tokens", 3},
        {"completion_tokens", 1},
        {"routed_experts", moe::encode_base64(bytes.data(), bytes.size())},
        {"input_token_logprobs", {{nullptr, 72, "H"}, {-1, 105, "i"}, {-2, 33, "!"}}}}}};
  std::ofstream(path("sglang.json")) << sglang.dump();
  nlohmann::json vllm_routed = nlohmann::json::array();
  for (int t = 0; t < 3; ++t) vllm_routed.push_back({{0, 1}, {2, 3}, {4, 5}, {6, 7}});
  std::ofstream(path("vllm.json")) << nlohmann::json{{"routed_experts", vllm_routed}}.dump();
  const nlohmann::json own = {
      {"format", "moescope-trace"},
      {"version", 1},
      {"model", "hf-model"},
      {"n_layer", 2},
      {"n_expert", 4},
      {"top_k", 2},
      {"sequences",
       {{{"tokens", {"a", "b"}},
         {"router_logits", {{{1, 2, 3, 4}, {4, 3, 2, 1}}, {{0, 0, 1, 0}, {1, 0, 0, 0}}}}}}}};
  std::ofstream(path("own.json")) << own.dump();
  {
    std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 4, 2), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::ofstream npy(path("ids.npy"), std::ios::binary);
    npy << "\x93NUMPY" << '\x01' << '\x00' << static_cast<char>(header.size()) << '\x00' << header;
    for (int i = 0; i < 16; ++i) {
      const int64_t id = i % 8;
      npy.write(reinterpret_cast<const char*>(&id), 8);
    }
  }
  const std::vector<std::pair<std::string, std::string>> files = {
      {"sglang.json", config()}, {"vllm.json", config()}, {"own.json", ""}, {"ids.npy", ""}};
  for (const auto& [file, options] : files) {
    const std::string out = file + ".trace.json";
    const CommandResult imported = run_cli("import " + arg(file) + options + " --out " + arg(out) +
                                           " --profile " + arg(file + ".moeprofile"));
    ASSERT_EQ(imported.exit_code, 0) << file << ": " << imported.err;
    const CommandResult plotted =
        run_cli("plot --trace " + arg(out) + " --kind heatmap --out " + arg(file + ".svg"));
    ASSERT_EQ(plotted.exit_code, 0) << file << ": " << plotted.err;
    const CommandResult direct = run_cli("plot --trace " + arg(file) + options +
                                         " --kind path --out " + arg(file + ".path.svg"));
    ASSERT_EQ(direct.exit_code, 0) << file << ": " << direct.err;
    const CommandResult report = run_cli("profile-report " + arg(file + ".moeprofile"));
    ASSERT_EQ(report.exit_code, 0) << file << ": " << report.err;
  }
  const nlohmann::json sglang_trace = nlohmann::json::parse(read(path("sglang.json.trace.json")));
  EXPECT_EQ(sglang_trace.at("tokens")[1].at("text"), "i");
  EXPECT_EQ(sglang_trace.at("layers")[0].at("routing")[2].at("experts"),
            (std::vector<int>{fake_expert(2, 1, 0), fake_expert(2, 1, 1)}));
  const nlohmann::json own_trace = nlohmann::json::parse(read(path("own.json.trace.json")));
  EXPECT_EQ(own_trace.at("chosen_experts_only"), false);  // router logits give the scores
  EXPECT_EQ(own_trace.at("layers")[0].at("routing")[0].at("experts"), (std::vector<int>{3, 2}));

  // Bad input: one clear error each, exit non-zero.
  const CommandResult no_shape = run_cli("import " + arg("sglang.json"));
  EXPECT_NE(no_shape.err.find("--model-config"), std::string::npos) << no_shape.err;
  const CommandResult wrong_top_k = run_cli("import " + arg("vllm.json") + " --layers 4 --top-k 3");
  EXPECT_NE(wrong_top_k.err.find("top-3"), std::string::npos) << wrong_top_k.err;
  const CommandResult out_of_range =
      run_cli("import " + arg("vllm.json") + " --layers 4 --top-k 2 --experts 6");
  EXPECT_NE(out_of_range.err.find("expert id 6"), std::string::npos) << out_of_range.err;
  std::ofstream(path("cut.json")) << sglang.dump().substr(0, 80);
  const CommandResult cut = run_cli("import " + arg("cut.json") + config());
  EXPECT_NE(cut.exit_code, 0);
  EXPECT_NE(cut.err.find("neither a .npy array nor JSON"), std::string::npos) << cut.err;
}
