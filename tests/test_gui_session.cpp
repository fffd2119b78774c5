// Saved sessions without a window: the JSON written from a snapshot reads back into the same
// prompt, tokens, view and routing; damaged files give errors naming the file and the field;
// routing_differences notices a model that now routes differently.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "moe/error.hpp"
#include "session_file.hpp"

namespace fs = std::filesystem;
using namespace moescope::gui;

namespace {

Snapshot snapshot_with_tokens(int n_prompt, int n_generated) {
  Snapshot snapshot;
  auto model = std::make_shared<ModelInfo>();
  model->name = "tiny";
  model->path = "/models/tiny.gguf";
  model->config.architecture = "llama";
  model->config.n_layer = 2;
  snapshot.model = model;
  snapshot.prompt = "Hi there";
  snapshot.n_prompt_tokens = n_prompt;
  snapshot.trace = moe::RoutingTrace(2, 4, 2, {0, 1});
  for (int t = 0; t < n_prompt + n_generated; ++t) {
    const std::string text = std::to_string(t);  // ("t" + to_string trips GCC 12's -Wrestrict)
    TokenView token{100 + t, text, text};
    token.generated = t >= n_prompt;
    snapshot.tokens.push_back(token);
    for (int layer = 0; layer < 2; ++layer) {
      moe::RoutingRecord record;
      record.logits = {0.1f * t, 0.2f, -0.3f, 0.05f * layer};
      record.probs = {0.4f, 0.3f, 0.2f, 0.1f};
      record.experts = {t % 4, (t + 1 + layer) % 4};
      record.weights = {0.625f, 0.375f};
      snapshot.trace.set(t, layer, record);
    }
  }
  return snapshot;
}

TEST(GuiSession, RoundTripsPromptTokensViewAndRouting) {
  const Snapshot snapshot = snapshot_with_tokens(3, 2);
  SessionView view;
  view.panel = "coactivation";
  view.layer = 1;
  view.token = 4;
  view.token_pinned = true;
  view.load_as_gate_mass = true;
  view.temperature = 0.5f;
  view.seed = 99;
  view.profile_path = "/corpora/wiki.moeprofile";
  const SavedSession back = session_from_json(session_to_json(snapshot, view), "test");
  EXPECT_EQ(back.view.profile_path, "/corpora/wiki.moeprofile");
  EXPECT_FALSE(session_to_json(snapshot, SessionView{}).contains("profile_path"));
  EXPECT_EQ(back.model_path, "/models/tiny.gguf");
  EXPECT_EQ(back.prompt, "Hi there");
  EXPECT_EQ(back.prompt_tokens, (std::vector<int32_t>{100, 101, 102}));
  EXPECT_EQ(back.generated_tokens, (std::vector<int32_t>{103, 104}));
  EXPECT_EQ(back.view.panel, "coactivation");
  EXPECT_EQ(back.view.layer, 1);
  EXPECT_EQ(back.view.token, 4);
  EXPECT_TRUE(back.view.token_pinned);
  EXPECT_TRUE(back.view.load_as_gate_mass);
  EXPECT_FLOAT_EQ(back.view.temperature, 0.5f);
  EXPECT_EQ(back.view.seed, 99u);
  ASSERT_TRUE(back.trace.has_value());
  EXPECT_TRUE(routing_differences(*back.trace, snapshot.trace).empty());
}

TEST(GuiSession, SavesAtomicallyAndLoadsFromDisk) {
  const fs::path dir = fs::temp_directory_path() / ("moescope_session_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path path = dir / "a.moescope.json";
  save_session(path, snapshot_with_tokens(2, 0), SessionView{});
  EXPECT_TRUE(is_session_file(path));
  const SavedSession back = load_session(path);
  EXPECT_EQ(back.prompt_tokens.size(), 2u);
  EXPECT_TRUE(back.generated_tokens.empty());
  // No temporary files are left beside it.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1);
  EXPECT_THROW(save_session(dir / "missing-folder" / "b.moescope.json", snapshot_with_tokens(2, 0),
                            SessionView{}),
               moe::Error);
  fs::remove_all(dir);
}

TEST(GuiSession, SessionMovedWithItsModelStillFindsIt) {
  const fs::path dir = fs::temp_directory_path() / ("moescope_moved_" + std::to_string(::getpid()));
  const fs::path before = dir / "before", after = dir / "after";
  fs::create_directories(before / "models");
  std::ofstream(before / "models" / "tiny.gguf") << "weights";
  Snapshot snapshot = snapshot_with_tokens(2, 0);
  auto model = std::make_shared<ModelInfo>(*snapshot.model);
  model->path = (before / "models" / "tiny.gguf").string();
  snapshot.model = model;
  std::ofstream(before / "models" / "corpus.moeprofile") << "counts";
  SessionView view;
  view.profile_path = (before / "models" / "corpus.moeprofile").string();
  save_session(before / "class.moescope.json", snapshot, view);
  EXPECT_EQ(load_session(before / "class.moescope.json").model_path, model->path);

  // The whole folder moves (a handout copied elsewhere): the absolute paths are gone.
  fs::rename(before, after);
  const SavedSession moved = load_session(after / "class.moescope.json");
  EXPECT_TRUE(fs::equivalent(moved.model_path, after / "models" / "tiny.gguf")) << moved.model_path;
  EXPECT_TRUE(fs::equivalent(moved.view.profile_path, after / "models" / "corpus.moeprofile"))
      << moved.view.profile_path;

  // Without the model beside it, the saved absolute path is kept for the error message.
  fs::remove(after / "models" / "tiny.gguf");
  EXPECT_EQ(load_session(after / "class.moescope.json").model_path, model->path);
  fs::remove_all(dir);
}

TEST(GuiSession, DamagedFilesNameTheProblem) {
  const auto message = [](const std::string& text) {
    try {
      session_from_json(nlohmann::json::parse(text), "s.json");
    } catch (const moe::Error& error) {
      return std::string(error.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message("{}").find("not a moescope session"), std::string::npos);
  EXPECT_NE(message(R"({"format":"moescope-session","version":9,"model_path":"m"})")
                .find("version 9"),
            std::string::npos);
  EXPECT_NE(message(R"({"format":"moescope-session","version":1})").find("model_path"),
            std::string::npos);
  EXPECT_NE(message(R"({"format":"moescope-session","version":1,"model_path":"m",
                        "generated_tokens":[1,-2]})")
                .find("generated_tokens"),
            std::string::npos);
  EXPECT_NE(message(R"({"format":"moescope-session","version":1,"model_path":"m",
                        "view":{"layer":"two"}})")
                .find("\"layer\" in view"),
            std::string::npos);
  EXPECT_NE(message(R"({"format":"moescope-session","version":1,"model_path":"m",
                        "routing":{"layers":3}})")
                .find("routing"),
            std::string::npos);
  EXPECT_FALSE(is_session_file("model.gguf"));
  EXPECT_FALSE(is_session_file("notes.json"));
}

TEST(GuiSession, RoutingDifferencesNameTokenAndLayer) {
  const Snapshot saved = snapshot_with_tokens(3, 0);
  moe::RoutingTrace changed = saved.trace;
  moe::RoutingRecord record = changed.at(1, 1);
  std::swap(record.experts[0], record.experts[1]);
  changed.set(1, 1, record);
  const std::vector<std::string> differences = routing_differences(saved.trace, changed);
  ASSERT_EQ(differences.size(), 1u);
  EXPECT_EQ(differences[0], "token 1, layer 1");
  EXPECT_FALSE(routing_differences(saved.trace, moe::RoutingTrace(2, 8, 2, {0, 1})).empty());
}

}  // namespace
