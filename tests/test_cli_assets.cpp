// Where moescope-cli finds its assets (app/common/asset_paths.hpp): $MOESCOPE_ASSETS first, then
// beside the build tree, then an installed copy, then ./assets; when none holds the file, the
// error names every place tried. A copy of the binary in a folder of its own has no build tree
// or install beside it, so only the environment and the working folder can help it.
#include <gtest/gtest.h>

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
using moe::testing::run_program;
using moe::testing::shell_quote;

class CliAssetsTest : public ::testing::Test {
protected:
  void SetUp() override {
    workspace_ =
        std::make_unique<CliWorkspace>("moescope_cli_assets_test", moe::testing::cli_test_model(5));
    root_ = fs::canonical(workspace_->dir());  // the CLI prints paths without symlinks
    // <root>/lonely/bin/moescope-cli: <exe>/../../assets is <root>/assets, which stays absent.
    fs::create_directories(root_ / "lonely" / "bin");
    lonely_cli_ = root_ / "lonely" / "bin" / "moescope-cli";
    fs::copy_file(MOESCOPE_CLI_PATH, lonely_cli_);
    fs::create_directories(root_ / "elsewhere");
  }

  // Runs `cli` in `folder` with MOESCOPE_ASSETS set to `assets` (unset when empty).
  CommandResult run_in(const fs::path& folder, const std::string& assets, const fs::path& cli,
                       const std::string& args) const {
    const std::string env =
        assets.empty() ? "unset MOESCOPE_ASSETS" : "export MOESCOPE_ASSETS=" + shell_quote(assets);
    const std::string script = "cd " + shell_quote(folder.string()) + " && " + env + " && exec " +
                               shell_quote(cli.string()) + " " + args;
    return run_program("/bin/sh", "-c " + shell_quote(script));
  }

  std::unique_ptr<CliWorkspace> workspace_;
  fs::path root_, lonely_cli_;
};

}  // namespace

TEST_F(CliAssetsTest, NothingFoundNamesEveryPlaceTried) {
  const CommandResult r = run_in(root_ / "elsewhere", (root_ / "nowhere").string(), lonely_cli_,
                                 "route --prompt hello");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  for (const std::string& expected :
       {std::string("cannot find assets/models/moescope-moe-v2.gguf"),
        (root_ / "nowhere").string() + " ($MOESCOPE_ASSETS)",
        (root_ / "assets").string() + " (build tree)",
        (root_ / "lonely" / "share" / "moescope" / "assets").string() + " (installed)",
        (root_ / "elsewhere" / "assets").string() + " (working folder)"}) {
    EXPECT_NE(r.err.find(expected), std::string::npos)
        << "missing '" << expected << "' in " << r.err;
  }
}

TEST_F(CliAssetsTest, InfoSaysWhenNoAssetsFolderIsFound) {
  const CommandResult r =
      run_in(root_ / "elsewhere", "", lonely_cli_, "info " + workspace_->model());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Assets        none found in "), std::string::npos) << r.out;
  const CommandResult json =
      run_in(root_ / "elsewhere", "", lonely_cli_, "info " + workspace_->model() + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(nlohmann::json::parse(json.out).at("assets_dir").is_null()) << json.out;
}

TEST_F(CliAssetsTest, EnvironmentComesBeforeTheBuildTree) {
  // Only prompt sets here: the build's own binary, which also sees the build tree's assets,
  // must take them from $MOESCOPE_ASSETS.
  const fs::path custom = root_ / "custom-assets";
  fs::create_directories(custom / "prompts");
  std::ofstream(custom / "prompts" / "greetings.txt") << "hello there\ngood morning\n";
  const CommandResult r = run_in(root_ / "elsewhere", custom.string(), MOESCOPE_CLI_PATH,
                                 "domains " + workspace_->model() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json.at("prompts"), (custom / "prompts").string());
  EXPECT_TRUE(json.at("tokens").contains("greetings")) << r.out;
  // A relative $MOESCOPE_ASSETS is taken from the working folder.
  const CommandResult info =
      run_in(root_, "custom-assets", MOESCOPE_CLI_PATH, "info " + workspace_->model() + " --json");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(nlohmann::json::parse(info.out).at("assets_dir"), custom.string());
}

TEST_F(CliAssetsTest, WorkingFolderIsTheLastResort) {
  fs::create_directories(root_ / "elsewhere" / "assets" / "models");
  fs::create_symlink(fs::path(MOESCOPE_SOURCE_DIR) / "assets" / "models" / "moescope-moe-v2.gguf",
                     root_ / "elsewhere" / "assets" / "models" / "moescope-moe-v2.gguf");
  const CommandResult r = run_in(root_ / "elsewhere", "", lonely_cli_, "info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json.at("model"), "moescope-moe-v2");
  EXPECT_EQ(json.at("assets_dir"), (root_ / "elsewhere" / "assets").string());
}
