// The app's corpus profiles without a window: a .moeprofile read as the pooled views' snapshot
// (its counts, domains and shape, never a prompt's version), the shape check against the open
// model, and what the Playground's pruning ranks by.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "export_files.hpp"
#include "moe/corpus_profile_file.hpp"
#include "moe/error.hpp"
#include "moe/plot/routing_figures.hpp"
#include "moe/prune_plan.hpp"
#include "profile_fixtures.hpp"
#include "profile_source.hpp"
#include "prune_source.hpp"

namespace fs = std::filesystem;
using namespace moescope::gui;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / "moescope_test_gui_profile";
  fs::create_directories(dir);
  return dir / name;
}

std::shared_ptr<const ProfileSource> demo_source() {
  const fs::path path = scratch("demo.moeprofile");
  moe::write_corpus_profile(path, moe::testing::demo_shaped_profile());
  return read_profile_source(path);
}

ModelInfo demo_model_info(int n_expert) {
  ModelInfo info;
  info.name = "demo";
  info.config.n_layer = 4;
  info.config.n_expert = n_expert;
  info.config.n_expert_used = 2;
  info.config.layer_is_moe.assign(4, true);
  return info;
}

}  // namespace

TEST(GuiProfile, TheSnapshotHoldsTheProfilesCountsAndNoTokens) {
  const auto source = demo_source();
  const moe::CorpusProfile& profile = source->profile;
  Snapshot live;
  live.version = 7;
  live.model_generation = 3;
  live.tokens.resize(5);
  const auto snapshot = profile_snapshot(source, live);
  EXPECT_NE(snapshot->version, live.version);
  EXPECT_NE(snapshot->version & (uint64_t{1} << 63), 0u);  // never a prompt's version
  EXPECT_TRUE(snapshot->tokens.empty());
  EXPECT_EQ(snapshot->profile, source);
  EXPECT_EQ(snapshot->trace.moe_layers(), profile.model.moe_layers);
  EXPECT_EQ(snapshot->trace.top_k(), 2);
  EXPECT_EQ(snapshot->stats.n_tokens, 600);
  ASSERT_EQ(snapshot->stats.layers.size(), 4u);
  for (size_t m = 0; m < 4; ++m)
    EXPECT_EQ(snapshot->stats.layers[m].token_counts, profile.layers[m].token_counts);
  ASSERT_TRUE(snapshot->domains);
  EXPECT_EQ(snapshot->domains->domains, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(snapshot->domains->model_generation, 3u);  // current on the open model
  EXPECT_EQ(snapshot->domains->n_tokens, 600);
  ASSERT_EQ(snapshot->domains->specialization.size(), 4u);
  EXPECT_GT(snapshot->domains->specialization[0].mi_bits, 0);  // the domains route differently
  // Another profile opened: another version, so no view shows the first one's figures.
  EXPECT_NE(profile_snapshot(demo_source(), live)->version, snapshot->version);

  const std::string summary = profile_summary(*source);
  EXPECT_NE(summary.find("Profile: synthetic-corpus"), std::string::npos) << summary;
  EXPECT_NE(summary.find("600 tokens"), std::string::npos) << summary;
  EXPECT_NE(summary.find("moescope-random-demo"), std::string::npos) << summary;
  EXPECT_NE(profile_has_no_tokens(*source).find("no router scores"), std::string::npos);
  const moe::plot::Figure noted = with_profile_note(moe::plot::Figure{}, *snapshot);
  ASSERT_EQ(noted.notes.size(), 1u);
  EXPECT_NE(noted.notes[0].find("corpus profile synthetic-corpus"), std::string::npos);
  EXPECT_TRUE(with_profile_note(moe::plot::Figure{}, live).notes.empty());
}

TEST(GuiProfile, SaysWhenTheOpenModelHasAnotherShape) {
  const auto source = demo_source();
  const ModelInfo same = demo_model_info(8), other = demo_model_info(16);
  EXPECT_EQ(profile_model_mismatch(source->profile.model, &same), "");
  EXPECT_EQ(profile_model_mismatch(source->profile.model, nullptr), "");
  const std::string mismatch = profile_model_mismatch(source->profile.model, &other);
  EXPECT_NE(mismatch.find("8 experts"), std::string::npos) << mismatch;
  EXPECT_NE(mismatch.find("16 experts"), std::string::npos) << mismatch;
}

TEST(GuiProfile, DamagedFilesNameTheProblem) {
  EXPECT_TRUE(is_profile_file("a/b.moeprofile"));
  EXPECT_FALSE(is_profile_file("a/b.moescope.json"));
  EXPECT_FALSE(is_profile_file(".moeprofile"));
  const fs::path broken = scratch("broken.moeprofile");
  std::ofstream(broken) << "{\"not\": \"a profile\"";
  try {
    read_profile_source(broken);
    FAIL() << "a broken file was read";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("broken.moeprofile"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(read_profile_source(scratch("missing.moeprofile")), moe::Error);
}

TEST(GuiProfile, PruningRanksByTheOpenProfileElseByTheUnchangedPromptsRouting) {
  const auto source = demo_source();
  Snapshot snapshot;
  const PruneSource from_profile = prune_source(snapshot, source);
  ASSERT_TRUE(from_profile.profile);
  EXPECT_EQ(from_profile.profile.get(), &source->profile);  // no copy of a large profile
  EXPECT_NE(from_profile.description.find("open profile"), std::string::npos);

  // No profile, no prompt: nothing to rank by, and a reason.
  const PruneSource nothing = prune_source(snapshot, nullptr);
  EXPECT_FALSE(nothing.profile);
  EXPECT_FALSE(nothing.problem.empty());

  // The prompt's routing, counted as a one-document profile.
  snapshot.trace = moe::RoutingTrace(4, 8, 2, {0, 1, 2, 3});
  for (int t = 0; t < 3; ++t) {
    moe::RoutingRecord record;
    record.probs.assign(8, 0.125f);
    record.experts = {t, 7};
    record.weights = {0.5f, 0.5f};
    for (int layer = 0; layer < 4; ++layer) snapshot.trace.set(t, layer, record);
    TokenView token;
    token.id = 100 + t;
    snapshot.tokens.push_back(token);
  }
  const PruneSource from_prompt = prune_source(snapshot, nullptr);
  ASSERT_TRUE(from_prompt.profile) << from_prompt.problem;
  EXPECT_NE(from_prompt.description.find("this prompt"), std::string::npos);
  EXPECT_EQ(from_prompt.profile->tokens, 3);
  EXPECT_EQ(from_prompt.profile->layers[0].token_counts,
            (std::vector<int64_t>{1, 1, 1, 0, 0, 0, 0, 3}));

  // Once pruned, the snapshot's routing is the pruned model's: rank by the unchanged side of
  // the measured effect, or wait for it.
  moe::RoutingInterventions pruned;
  pruned.disabled.push_back({0, 3});
  const moe::RoutingTrace unchanged = snapshot.trace;
  snapshot.trace.set_interventions(pruned);
  EXPECT_FALSE(prune_source(snapshot, nullptr).profile);
  auto effect = std::make_shared<moe::InterventionEffect>();
  effect->base.trace = unchanged;
  auto result = std::make_shared<PlaygroundResult>();
  result->effect = EffectView{pruned, {100, 101, 102}, effect, {}, {}, {}};
  snapshot.playground = result;
  for (int layer = 0; layer < 4; ++layer) snapshot.trace.set(0, layer, moe::RoutingRecord{});
  const PruneSource from_unchanged = prune_source(snapshot, nullptr);
  ASSERT_TRUE(from_unchanged.profile) << from_unchanged.problem;
  EXPECT_EQ(from_unchanged.profile->layers[0].token_counts,
            (std::vector<int64_t>{1, 1, 1, 0, 0, 0, 0, 3}));

  // The plan replaces the disabled experts and keeps the other interventions.
  moe::RoutingInterventions current;
  current.top_k = 3;
  current.disabled.push_back({1, 5});
  const moe::PrunePlan plan =
      moe::make_prune_plan(*from_profile.profile, 0.5, moe::PruneCriterion::Frequency);
  const moe::RoutingInterventions next = with_pruned_experts(current, plan);
  EXPECT_EQ(next.top_k, 3);
  EXPECT_EQ(next.disabled, moe::prune_interventions(plan).disabled);
  EXPECT_EQ(next.disabled.size(), 16u);  // 4 of 8 at each of 4 layers
}

// A profile has no router scores: its load figure says nothing of the Switch loss or of mean
// router scores (the P it would need), and shows the counts.
TEST(GuiProfile, TheLoadFigureOfAProfileClaimsNoRouterScores) {
  const auto source = demo_source();
  const moe::plot::Figure figure =
      moe::plot::expert_load_figure(source->stats, 0, moe::plot::LoadMeasure::TokenCount);
  ASSERT_EQ(figure.bars.size(), 8u);
  for (const std::string& note : figure.notes)
    EXPECT_EQ(note.find("Switch"), std::string::npos) << note;
  for (size_t e = 0; e < 8; ++e) {
    EXPECT_EQ(figure.bars[e].tooltip.find("router score"), std::string::npos);
    EXPECT_EQ(figure.bars[e].text, std::to_string(source->profile.layers[0].token_counts[e]));
  }
}

// Export data with a profile open: its load table, and no trace (a profile has none).
TEST(GuiProfile, ExportDataWritesTheProfilesLoadAndRefusesATrace) {
  const auto source = demo_source();
  const auto snapshot = profile_snapshot(source, Snapshot{});
  const fs::path csv = scratch("profile-load.csv");
  export_snapshot_data(*snapshot, DataExport::LoadCsv, csv);
  std::ifstream in(csv);
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || !std::isdigit(static_cast<unsigned char>(line[0]))) continue;
    std::istringstream fields(line);
    std::string layer, expert, tokens;
    std::getline(fields, layer, ',');
    std::getline(fields, expert, ',');
    std::getline(fields, tokens, ',');
    const moe::ProfileLayer& counted =
        source->profile.layers[static_cast<size_t>(std::stoi(layer))];
    EXPECT_EQ(std::stoll(tokens), counted.token_counts[static_cast<size_t>(std::stoi(expert))]);
    ++rows;
  }
  EXPECT_EQ(rows, 4 * 8);
  try {
    export_snapshot_data(*snapshot, DataExport::TraceJson, scratch("trace.json"));
    FAIL() << "a profile exported a trace";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("no per-token routing"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(scratch("trace.json")));
}

// A profile of unlabelled text has no domains to show (the Domains view says how to label).
TEST(GuiProfile, AProfileWithoutLabelsHasNoDomains) {
  moe::CorpusProfile profile = moe::testing::demo_shaped_profile();
  moe::DomainCounts all = profile.domains.at("alpha");
  all.domain = "";
  profile.domains = {{"", all}};
  const fs::path path = scratch("unlabelled.moeprofile");
  moe::write_corpus_profile(path, profile);
  const auto source = read_profile_source(path);
  EXPECT_FALSE(source->domains);
  EXPECT_FALSE(profile_snapshot(source, Snapshot{})->domains);
}
