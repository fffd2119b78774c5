// The corpus profile: counts added document by document, the .moeprofile file (round trip,
// version check, corrupt files) and the corpus reader.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "model_fixtures.hpp"
#include "moe/corpus_profile.hpp"
#include "moe/corpus_profile_file.hpp"
#include "moe/corpus_profile_metrics.hpp"
#include "moe/corpus_profiling.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/corpus_reader.hpp"
#include "moe/error.hpp"

namespace {

// Two MoE layers (model layers 0 and 2; layer 1 dense), E = 3, top-2; token t chose sets[t] at
// layer 0 and next_sets[t] at layer 2, with gates 0.75 / 0.25 and expert norms 2 / 4.
moe::RoutingTrace two_layer_trace(const std::vector<std::vector<int32_t>>& sets,
                                  const std::vector<std::vector<int32_t>>& next_sets) {
  moe::RoutingTrace trace(3, 3, 2, {0, 2});
  for (size_t t = 0; t < sets.size(); ++t) {
    for (int layer : {0, 2}) {
      moe::RoutingRecord record;
      record.probs.assign(3, 1.0f / 3);  // a record counts once it has scores
      record.experts = layer == 0 ? sets[t] : next_sets[t];
      record.weights = {0.75f, 0.25f};
      record.values.available = true;
      record.values.expert_norms = {2, 4};
      trace.set(static_cast<int>(t), layer, record);
    }
  }
  return trace;
}

moe::CorpusProfile sample_profile() {
  const moe::RoutingTrace first = two_layer_trace({{0, 1}, {0, 2}, {1, 2}}, {{2, 0}, {2, 1}, {0, 1}});
  const moe::RoutingTrace second = two_layer_trace({{2, 1}, {2, 0}}, {{1, 0}, {1, 2}});
  moe::CorpusProfile profile = moe::make_corpus_profile(moe::profile_model_of(first));
  profile.model.name = "test";
  profile.model.architecture = "qwen2moe";
  profile.source = "corpus.txt";
  const std::vector<int32_t> first_ids = {7, 8, 7}, second_ids = {8, 7};
  const std::vector<int32_t> first_predicted = {8, 9, 8};
  moe::add_routing(profile, first, first_ids, "code", first_predicted);
  moe::add_routing(profile, second, second_ids, "maths");
  profile.documents = 2;
  return profile;
}

}  // namespace

TEST(CorpusProfile, CountsAddUpOverDocuments) {
  const moe::CorpusProfile profile = sample_profile();
  EXPECT_EQ(profile.tokens, 5);
  ASSERT_EQ(profile.layers.size(), 2u);
  const moe::ProfileLayer& layer = profile.layers[0];
  EXPECT_EQ(layer.tokens, 5);
  // Layer 0 sets: {0,1} {0,2} {1,2} | {2,1} {2,0}: expert 0 3x, 1 3x, 2 4x; k * tokens = 10.
  EXPECT_EQ(layer.token_counts, (std::vector<int64_t>{3, 3, 4}));
  EXPECT_EQ(layer.top1_counts, (std::vector<int64_t>{2, 1, 2}));
  EXPECT_DOUBLE_EQ(layer.gate_mass[2], 0.25 + 0.25 + 0.75 + 0.75);
  // Pairs stay inside a document: (0,1)->(0,2) same top-1, meet; (0,2)->(1,2) meet;
  // (2,1)->(2,0) same, meet. 3 pairs, not 4.
  EXPECT_EQ(layer.repetition.pairs, 3);
  EXPECT_EQ(layer.repetition.same_top1, 2);
  EXPECT_EQ(layer.repetition.sets_intersect, 3);
  // Transitions to layer 2: 2 tokens x 2 x 2 pairs... every token adds k * k = 4.
  EXPECT_EQ(std::accumulate(layer.transitions.begin(), layer.transitions.end(), int64_t{0}), 20);
  EXPECT_EQ(layer.top1_transitions[0 * 3 + 2], 2);  // top-1 0 then 2, twice in the first document
  EXPECT_TRUE(profile.layers[1].transitions.empty());
  // REAP: expert 0 is first (0.75 x 2) twice and second (0.25 x 4) once: (1.5 + 1.5 + 1) / 3.
  EXPECT_DOUBLE_EQ(moe::reap_saliency(layer.reap)[0], 4.0 / 3);
  // Token 7 occurs 3 times: {0,1}, {1,2} | {2,0}; keyed by the next token, 8 is next twice.
  EXPECT_EQ(layer.by_input.at(7).occurrences, 3);
  EXPECT_EQ(layer.by_input.at(7).experts, (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(layer.by_next.at(8).occurrences, 1);
  EXPECT_EQ(layer.by_next.at(7).occurrences, 2);
  // Keyed by the model's prediction (given for the first document only): 8 after {0,1} and
  // {1,2}, 9 after {0,2}.
  EXPECT_EQ(layer.by_predicted.at(8).occurrences, 2);
  EXPECT_EQ(layer.by_predicted.at(8).experts, (std::vector<int64_t>{1, 2, 1}));
  EXPECT_EQ(layer.by_predicted.at(9).occurrences, 1);
  EXPECT_EQ(profile.domains.at("code").tokens, 3);
  EXPECT_EQ(profile.domains.at("maths").tokens, 2);
  EXPECT_EQ(layer.cache.requests, 10);
  EXPECT_TRUE(moe::never_activated(layer).empty());
}

TEST(CorpusProfile, RejectsATraceOfAnotherShape) {
  moe::CorpusProfile profile = sample_profile();
  const moe::RoutingTrace other(1, 4, 2, {0});
  EXPECT_THROW(moe::add_routing(profile, other, {}, ""), moe::Error);
  const moe::RoutingTrace same = two_layer_trace({{0, 1}}, {{1, 2}});
  EXPECT_THROW(moe::add_routing(profile, same, std::vector<int32_t>{1, 2}, ""), moe::Error);
}

TEST(CorpusProfileFile, RoundTripIsExact) {
  const moe::CorpusProfile profile = sample_profile();
  const std::string text = moe::corpus_profile_to_text(profile);
  const moe::CorpusProfile back = moe::corpus_profile_from_text(text, "p.moeprofile");
  EXPECT_EQ(moe::corpus_profile_to_text(back), text);
  EXPECT_EQ(back.model, profile.model);
  EXPECT_EQ(back.layers[0].by_next.at(7).experts, profile.layers[0].by_next.at(7).experts);
  EXPECT_EQ(back.layers[0].by_predicted.at(8).experts, profile.layers[0].by_predicted.at(8).experts);
  // A profile written before the predicted-token table reads with that table empty.
  nlohmann::json older = nlohmann::json::parse(text);
  for (nlohmann::json& layer : older.at("layers")) layer.erase("by_predicted");
  const moe::CorpusProfile old = moe::corpus_profile_from_text(older.dump(), "old.moeprofile");
  EXPECT_TRUE(old.layers[0].by_predicted.empty());
  EXPECT_EQ(old.layers[0].by_next.at(7).experts, profile.layers[0].by_next.at(7).experts);
  EXPECT_EQ(back.domains.at("maths").expert_tokens, profile.domains.at("maths").expert_tokens);

  const auto path = moe::testing::unique_temp_path("profile", ".moeprofile");
  moe::write_corpus_profile(path, profile);
  EXPECT_EQ(moe::corpus_profile_to_text(moe::read_corpus_profile(path)), text);
  std::filesystem::remove(path);
}

TEST(CorpusProfileFile, NewerVersionAndCorruptFilesGiveClearErrors) {
  nlohmann::json json = nlohmann::json::parse(moe::corpus_profile_to_text(sample_profile()));
  auto message_of = [](const std::string& text) {
    try {
      moe::corpus_profile_from_text(text, "p.moeprofile");
    } catch (const moe::Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  nlohmann::json newer = json;
  newer["version"] = 2;
  EXPECT_NE(message_of(newer.dump()).find("version 2"), std::string::npos);
  EXPECT_NE(message_of("{\"format\": \"moeprofile\", \"ver").find("not JSON"), std::string::npos);
  EXPECT_NE(message_of("[1, 2]").find("not a moeprofile"), std::string::npos);
  nlohmann::json short_counts = json;
  short_counts["layers"][0]["token_counts"] = {1, 2};
  EXPECT_NE(message_of(short_counts.dump()).find("token_counts"), std::string::npos);
  nlohmann::json bad_expert = json;
  bad_expert["layers"][1]["by_input"][0] = {7, 3, 9, 1};
  EXPECT_NE(message_of(bad_expert.dump()).find("expert out of range"), std::string::npos);
  nlohmann::json no_layers = json;
  no_layers.erase("layers");
  EXPECT_NE(message_of(no_layers.dump()).find("missing \"layers\""), std::string::npos);
}

TEST(CorpusProfileMetrics, ComputesEveryMetricFromTheCounts) {
  const moe::ProfileMetrics metrics = moe::profile_metrics(sample_profile(), 0.5);
  ASSERT_EQ(metrics.layers.size(), 2u);
  EXPECT_DOUBLE_EQ(metrics.layers[0].repetition.same_top1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(metrics.layers[0].load_share[2], 0.4);
  EXPECT_EQ(metrics.layers[0].next_layer_probability.size(), 9u);
  EXPECT_TRUE(metrics.layers[1].next_layer_probability.empty());
  EXPECT_EQ(metrics.domains, (std::vector<std::string>{"code", "maths"}));
  ASSERT_EQ(metrics.domain_specialization.size(), 2u);
  // Code, layer 0: {0,1} {0,2} {1,2}: every expert in 2 of 3 tokens.
  EXPECT_DOUBLE_EQ(metrics.domain_specialization[0].token_share[0][0], 2.0 / 3);
  EXPECT_EQ(metrics.layers[0].cache.sizes, (std::vector<int>{1, 2, 3}));
}

TEST(CorpusReader, ReadsPlainJsonlAndDomainFolders) {
  const auto dir = moe::testing::unique_temp_path("corpus", "");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "code.txt") << "int x;\n\n  \nreturn 0;\n";
  std::ofstream(dir / "maths.jsonl") << "{\"text\": \"1 + 1\"}\n{\"text\": \"2\", \"domain\": \"sums\"}\n";
  std::ofstream(dir / "notes.md") << "not read\n";
  moe::CorpusReader reader(dir);
  std::vector<std::pair<std::string, std::string>> documents;
  while (auto document = reader.next()) documents.emplace_back(document->domain, document->text);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"code", "int x;"}, {"code", "return 0;"}, {"maths", "1 + 1"}, {"sums", "2"}};
  EXPECT_EQ(documents, expected);
  EXPECT_EQ(reader.bytes_read(), reader.total_bytes());

  std::ofstream(dir / "bad.jsonl") << "{\"title\": 1}\n";
  moe::CorpusReader bad(dir / "bad.jsonl");
  try {
    bad.next();
    ADD_FAILURE() << "no error";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("bad.jsonl:1"), std::string::npos);
  }
  EXPECT_THROW(moe::CorpusReader(dir / "absent.txt"), moe::Error);
  std::filesystem::remove_all(dir);
}

TEST(CorpusProfiling, ALongDocumentIsRoutedInContextSizedWindows) {
  moe::RandomModelSpec spec;
  spec.n_layer = 2;
  spec.n_expert = 4;
  spec.n_expert_used = 2;
  const moe::testing::TempModelFile file(spec);
  const std::shared_ptr<const moe::Model> model = file.load();
  moe::Session session(model, std::make_shared<moe::CpuBackend>(moe::CpuBackendOptions{1}),
                       moe::SessionOptions{.n_ctx = 8});
  const std::vector<int32_t> ids = moe::testing::random_tokens(20, model->config().n_vocab, 5);
  session.set_tokens(std::span<const int32_t>(ids.data(), 1));
  moe::CorpusProfile profile = moe::make_corpus_profile(moe::profile_model_of(session.trace()));
  EXPECT_EQ(moe::profile_document(profile, session, ids, "d"), 20);
  EXPECT_EQ(profile.tokens, 20);
  // Every routed token is counted once under the model's predicted next token.
  for (const moe::ProfileLayer& layer : profile.layers) {
    int64_t predicted = 0;
    for (const auto& entry : layer.by_predicted) predicted += entry.second.occurrences;
    EXPECT_EQ(predicted, 20);
  }
  // Windows of 8, 8 and 4 tokens: 7 + 7 + 3 consecutive pairs, none across a window.
  for (const moe::ProfileLayer& layer : profile.layers) {
    EXPECT_EQ(layer.tokens, 20);
    EXPECT_EQ(layer.repetition.pairs, 17);
  }
  // The last window alone, from an empty cache, routes as it did inside the document.
  moe::CorpusProfile last = moe::make_corpus_profile(profile.model);
  moe::CorpusProfile first_two = moe::make_corpus_profile(profile.model);
  const std::span<const int32_t> all(ids);
  moe::profile_document(first_two, session, all.subspan(0, 16), "d");
  moe::profile_document(last, session, all.subspan(16), "d");
  for (size_t m = 0; m < profile.layers.size(); ++m) {
    for (size_t e = 0; e < 4; ++e) {
      EXPECT_EQ(first_two.layers[m].token_counts[e] + last.layers[m].token_counts[e],
                profile.layers[m].token_counts[e]);
    }
  }
}

TEST(CorpusProfileFile, MangledFilesNeverCrashTheReader) {
  // Random edits of a valid file: each result is either a profile or one moe::Error.
  const std::string text = moe::corpus_profile_to_text(sample_profile());
  uint32_t state = 19;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  const std::string replacements[] = {"-1", "1e300", "99999999999", "[]", "{}", "null", "\"x\"", "7"};
  int parsed = 0, refused = 0;
  for (int i = 0; i < 400; ++i) {
    std::string mangled = text;
    for (int edit = 0; edit < 3; ++edit) {
      const size_t at = next() % mangled.size();
      switch (next() % 3) {
        case 0: mangled.erase(at, 1 + next() % 8); break;
        case 1: mangled.insert(at, replacements[next() % 8]); break;
        default: mangled[at] = static_cast<char>('0' + next() % 10); break;
      }
    }
    try {
      const moe::CorpusProfile profile = moe::corpus_profile_from_text(mangled, "m.moeprofile");
      moe::profile_metrics(profile, 0.5);  // what the report computes from it
      ++parsed;
    } catch (const moe::Error&) {
      ++refused;
    }
  }
  EXPECT_EQ(parsed + refused, 400);
  EXPECT_GT(refused, 0);
}

// The predicted next token after each position is the argmax of that position's logits: the
// same as the last logits of the prefix ending there.
TEST(CorpusProfiling, PredictedTokensAreTheArgmaxAfterEachPrefix) {
  moe::RandomModelSpec spec;
  spec.n_layer = 2;
  const moe::testing::TempModelFile file(spec);
  const std::shared_ptr<const moe::Model> model = file.load();
  const auto backend = std::make_shared<moe::CpuBackend>(moe::CpuBackendOptions{1});
  moe::Session session(model, backend);
  const std::vector<int32_t> ids = moe::testing::random_tokens(9, model->config().n_vocab, 6);
  const std::vector<int32_t> predicted = session.predicted_tokens(ids);
  ASSERT_EQ(predicted.size(), ids.size());
  EXPECT_EQ(session.tokens().size(), ids.size());
  moe::Session prefix(model, backend);
  for (size_t i = 0; i < ids.size(); ++i) {
    prefix.set_tokens(std::span(ids).first(i + 1));
    const std::span<const float> logits = prefix.last_logits();
    const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
    EXPECT_EQ(predicted[i], best) << "position " << i;
  }
}
