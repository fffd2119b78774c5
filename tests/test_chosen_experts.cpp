// Traces that hold only the chosen experts (servers, imports): the model's shape from a
// Hugging Face config, checking ids against it, base64, SGLang / vLLM / .npy / moescope-trace
// parsing, and that the pooled statistics work on them.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "fake_sglang_server.hpp"
#include "moe/base64.hpp"
#include "moe/chosen_experts.hpp"
#include "moe/corpus_profile.hpp"
#include "moe/engine_routing.hpp"
#include "moe/error.hpp"
#include "moe/plot/routing_figures.hpp"
#include "moe/routing_data.hpp"
#include "moe/routing_stats.hpp"

namespace {

using moe::testing::fake_expert;
using moe::testing::fake_server_shape;

// The message of the moe::Error `body` throws ("" when it throws none).
template <typename F>
std::string error_of(F body) {
  try {
    body();
  } catch (const moe::Error& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string base64_of(const std::vector<int32_t>& ids) {
  std::vector<uint8_t> bytes;
  for (int32_t id : ids)
    for (int b = 0; b < 4; ++b)
      bytes.push_back(static_cast<uint8_t>(static_cast<uint32_t>(id) >> (8 * b)));
  return moe::encode_base64(bytes.data(), bytes.size());
}

// An SGLang answer for `prompt` prompt tokens and `completion` generated ones, routing given
// for `layers` layers (SGLang: every layer of the model, zeros at dense ones).
nlohmann::json sglang_answer(int prompt, int completion, int layers = 4) {
  std::vector<int32_t> ids;
  const int rows = prompt + completion - 1;
  for (int t = 0; t < rows; ++t)
    for (int l = 0; l < layers; ++l)
      for (int j = 0; j < 2; ++j) ids.push_back(l == 0 ? 0 : fake_expert(t, l, j));
  nlohmann::json input = nlohmann::json::array(), output = nlohmann::json::array();
  // (Texts built with append: GCC 12 warns falsely about "p" + std::to_string(t).)
  for (int t = 0; t < prompt; ++t)
    input.push_back({nullptr, 100 + t, std::string("p").append(std::to_string(t))});
  for (int t = 0; t < completion; ++t)
    output.push_back({-0.5, 200 + t, std::string("g").append(std::to_string(t))});
  return {{"text", "generated"},
          {"meta_info",
           {{"prompt_tokens", prompt},
            {"completion_tokens", completion},
            {"routed_experts", base64_of(ids)},
            {"input_token_logprobs", input},
            {"output_token_logprobs", output}}}};
}

}  // namespace

TEST(Base64, RoundTripsAndRefusesWhatIsNotBase64) {
  for (size_t n = 0; n < 10; ++n) {
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<uint8_t>(i * 37 + 250));
    EXPECT_EQ(moe::decode_base64(moe::encode_base64(bytes.data(), n), "t"), bytes) << n;
  }
  EXPECT_EQ(moe::encode_base64(reinterpret_cast<const uint8_t*>("Man"), 3), "TWFu");
  EXPECT_EQ(moe::decode_base64("TW\nE=", "t"), (std::vector<uint8_t>{'M', 'a'}));
  EXPECT_TRUE(contains(error_of([] { moe::decode_base64("TWFu!", "here"); }), "here: not base64"));
  EXPECT_TRUE(contains(error_of([] { moe::decode_base64("TWF", "t"); }), "truncated"));
  EXPECT_TRUE(contains(error_of([] { moe::decode_base64("TW=u", "t"); }), "base64"));
  EXPECT_TRUE(contains(error_of([] { moe::decode_base64("=AAA", "t"); }), "misplaced"));
}

TEST(HfConfig, ShapesOfTheFamilies) {
  const moe::TraceShape deepseek = moe::trace_shape_from_hf_config({{"model_type", "deepseek_v3"},
                                                                    {"num_hidden_layers", 61},
                                                                    {"n_routed_experts", 256},
                                                                    {"num_experts_per_tok", 8},
                                                                    {"first_k_dense_replace", 3},
                                                                    {"moe_layer_freq", 1}},
                                                                   "config.json");
  EXPECT_EQ(deepseek.n_layer, 61);
  EXPECT_EQ(deepseek.n_expert, 256);
  EXPECT_EQ(deepseek.top_k, 8);
  ASSERT_EQ(deepseek.moe_layers.size(), 58u);
  EXPECT_EQ(deepseek.moe_layers.front(), 3);
  EXPECT_EQ(deepseek.model, "deepseek_v3");

  const moe::TraceShape qwen = moe::trace_shape_from_hf_config({{"num_hidden_layers", 6},
                                                                {"num_experts", 16},
                                                                {"num_experts_per_tok", 4},
                                                                {"decoder_sparse_step", 2},
                                                                {"mlp_only_layers", {5}}},
                                                               "qwen");
  EXPECT_EQ(qwen.moe_layers, (std::vector<int>{1, 3}));

  const moe::TraceShape mixtral = moe::trace_shape_from_hf_config(
      {{"num_hidden_layers", 3}, {"num_local_experts", 8}, {"num_experts_per_tok", 2}}, "m");
  EXPECT_EQ(mixtral.moe_layers, (std::vector<int>{0, 1, 2}));

  const moe::TraceShape vl = moe::trace_shape_from_hf_config(
      {{"text_config", {{"num_hidden_layers", 2}, {"num_experts", 4}, {"num_experts_per_tok", 1}}}},
      "vl");
  EXPECT_EQ(vl.n_layer, 2);

  EXPECT_TRUE(contains(error_of([] {
                         moe::trace_shape_from_hf_config(
                             {{"num_hidden_layers", 4}, {"intermediate_size", 8}}, "dense.json");
                       }),
                       "dense.json: no expert count"));
  EXPECT_TRUE(contains(
      error_of([] {
        moe::trace_shape_from_hf_config({{"num_hidden_layers", "four"}, {"num_experts", 4}}, "c");
      }),
      "'num_hidden_layers' is not an integer"));
  EXPECT_FALSE(moe::trace_shape_from_user("", 0, 0, 0).has_value());
  EXPECT_EQ(moe::trace_shape_from_user("", 3, 2, 0)->moe_layers, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(contains(error_of([] { moe::trace_shape_from_user("", 3, 0, 0); }), "give both"));
  EXPECT_TRUE(
      contains(error_of([] { moe::trace_shape_from_user("c.json", 3, 2, 0); }), "leave out"));
  EXPECT_TRUE(
      contains(error_of([] { moe::trace_shape_from_user("/nonexistent/config.json", 0, 0, 0); }),
               "/nonexistent/config.json: cannot open"));
  EXPECT_TRUE(contains(error_of([] { moe::trace_shape_from_counts(0, 2); }), "--layers"));
  EXPECT_TRUE(contains(error_of([] { moe::trace_shape_from_counts(4, 0); }), "--top-k"));
}

TEST(ChosenExperts, LayerAxisIsEveryLayerOrOnlyTheMoeLayers) {
  const moe::TraceShape shape = fake_server_shape();  // 4 layers, 0 dense, top-2 of 8
  // Every layer (SGLang): the dense layer's zeros are skipped.
  std::vector<int32_t> all;
  for (int t = 0; t < 2; ++t)
    for (int l = 0; l < 4; ++l)
      for (int j = 0; j < 2; ++j) all.push_back(l == 0 ? 0 : fake_expert(t, l, j));
  const moe::RoutingTrace trace = moe::chosen_experts_trace(shape, all, 2, "s");
  EXPECT_TRUE(trace.chosen_experts_only());
  EXPECT_EQ(trace.n_tokens(), 2);
  EXPECT_EQ(trace.moe_layers(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(trace.at(1, 2).experts,
            (std::vector<int32_t>{fake_expert(1, 2, 0), fake_expert(1, 2, 1)}));
  EXPECT_TRUE(trace.has(1, 2));
  EXPECT_TRUE(trace.at(1, 2).probs.empty());
  EXPECT_EQ(trace.at(1, 2).weights, (std::vector<float>{0.5f, 0.5f}));
  // Only the MoE layers.
  std::vector<int32_t> moe_only;
  for (int t = 0; t < 2; ++t)
    for (int l = 1; l < 4; ++l)
      for (int j = 0; j < 2; ++j) moe_only.push_back(fake_expert(t, l, j));
  const moe::RoutingTrace same = moe::chosen_experts_trace(shape, moe_only, 2, "s");
  EXPECT_EQ(same.at(1, 3).experts, trace.at(1, 3).experts);

  // Anything else is an error that names the counts.
  std::vector<int32_t> short_by_one(all.begin(), all.end() - 1);
  const std::string mismatch =
      error_of([&] { moe::chosen_experts_trace(shape, short_by_one, 2, "srv"); });
  EXPECT_TRUE(contains(mismatch, "srv: 15 expert ids, but 2 tokens x 4 layers x top-2 = 16"));
  EXPECT_TRUE(contains(mismatch, "or 12 counting only the 3 MoE layers"));
  EXPECT_TRUE(contains(error_of([&] { moe::chosen_experts_trace(shape, all, 2, 2, 4, "x"); }),
                       "4 experts per token and layer, but the model chooses top-2"));
  std::vector<int32_t> bad = all;
  bad[2 * 2 + 1] = 8;  // token 0, layer 2, rank 1
  EXPECT_TRUE(contains(error_of([&] { moe::chosen_experts_trace(shape, bad, 2, "x"); }),
                       "expert id 8 at token 0, layer 2 is outside 0..7"));
  bad[2 * 2 + 1] = -3;
  EXPECT_TRUE(
      contains(error_of([&] { moe::chosen_experts_trace(shape, bad, 2, "x"); }), "expert id -3"));
  // The dense layer's values are not checked (SGLang leaves whatever was there).
  std::vector<int32_t> dense_junk = all;
  dense_junk[0] = 999;
  EXPECT_NO_THROW(moe::chosen_experts_trace(shape, dense_junk, 2, "x"));
}

TEST(ChosenExperts, PooledStatisticsAndProfilesWorkWithoutScores) {
  moe::TraceShape shape = moe::trace_shape_from_counts(2, 2, 4);
  // 3 tokens, 2 layers, top-2: layer 0 chooses {0,1},{0,2},{0,1}; layer 1 {3,2},{3,2},{1,0}.
  const std::vector<int32_t> ids = {0, 1, 3, 2, 0, 2, 3, 2, 0, 1, 1, 0};
  const moe::RoutingTrace trace = moe::chosen_experts_trace(shape, ids, 3, 2, 2, "t");
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  EXPECT_EQ(stats.layers[0].token_counts, (std::vector<int64_t>{3, 2, 1, 0}));
  EXPECT_EQ(stats.layers[1].token_counts, (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(stats.coactivation[0][0 * 4 + 1], 2);
  EXPECT_EQ(stats.transitions[0][0 * 4 + 3], 2);        // 0 then 3 for tokens 0 and 1
  EXPECT_DOUBLE_EQ(stats.layers[0].mean_entropy, 0.0);  // no scores: nothing to average
  EXPECT_FALSE(stats.scores_known);
  EXPECT_DOUBLE_EQ(stats.layers[0].gate_mass[0], 0.0);  // the equal weights are not data

  moe::CorpusProfile profile = moe::make_corpus_profile(moe::profile_model_of(trace));
  const std::vector<int32_t> tokens = {5, 6, 5};
  moe::add_routing(profile, trace, tokens, "code");
  EXPECT_EQ(profile.layers[0].token_counts, (std::vector<int64_t>{3, 2, 1, 0}));
  EXPECT_EQ(profile.layers[0].top1_counts[0], 3);
}

TEST(ChosenExperts, RouteJsonAndCsvSayThatScoresAreAbsent) {
  const moe::RoutingTrace trace = moe::chosen_experts_trace(
      moe::trace_shape_from_counts(1, 2, 4), std::vector<int32_t>{3, 1, 0, 2}, 2, 1, 2, "t");
  const std::vector<moe::RoutingTokenInfo> tokens = {{0, 7, "a"}, {1, 8, "b"}};
  const nlohmann::json json = moe::routing_to_json({"m", "", "sglang", 1}, tokens, trace);
  EXPECT_EQ(json.at("chosen_experts_only"), true);
  const nlohmann::json& entry = json.at("layers")[0].at("routing")[0];
  EXPECT_EQ(entry.at("experts"), (std::vector<int32_t>{3, 1}));  // the server's order
  EXPECT_TRUE(entry.at("weights").empty());
  EXPECT_TRUE(entry.at("probs").empty());
  const moe::RoutingTrace back = moe::routing_trace_from_json(json);
  EXPECT_TRUE(back.chosen_experts_only());
  EXPECT_EQ(back.at(1, 0).experts, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(back.at(1, 0).weights.size(), 2u);

  std::stringstream csv;
  moe::write_routing_csv(csv, tokens, trace);
  const std::vector<moe::RoutingCsvRow> rows = moe::read_routing_csv(csv);
  ASSERT_EQ(rows.size(), 4u);  // one per chosen expert
  EXPECT_EQ(rows[0].expert, 3);
  EXPECT_EQ(rows[0].rank, 0);
  EXPECT_TRUE(std::isnan(rows[0].prob));
}

TEST(SglangAnswer, RowsArePromptAndCompletionButTheLastToken) {
  const moe::ImportedTrace imported =
      moe::trace_from_sglang_answer(sglang_answer(3, 2), fake_server_shape(), "answer");
  EXPECT_EQ(imported.trace.n_tokens(), 4);  // 3 + 2 - 1
  EXPECT_EQ(imported.prompt_tokens, 3);
  ASSERT_EQ(imported.tokens.size(), 4u);
  EXPECT_EQ(imported.tokens[0].id, 100);
  EXPECT_EQ(imported.tokens[2].text, "p2");
  EXPECT_EQ(imported.tokens[3].id, 200);  // the first generated token
  EXPECT_EQ(imported.completion, "generated");
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(imported.trace.at(t, 3).experts,
              (std::vector<int32_t>{fake_expert(t, 3, 0), fake_expert(t, 3, 1)}));
  // A list of one answer reads the same.
  EXPECT_EQ(moe::trace_from_sglang_answer(nlohmann::json::array({sglang_answer(3, 2)}),
                                          fake_server_shape(), "a")
                .trace.n_tokens(),
            4);
}

TEST(SglangAnswer, EveryBadInputIsOneClearError) {
  const moe::TraceShape shape = fake_server_shape();
  nlohmann::json no_flag = sglang_answer(3, 1);
  no_flag["meta_info"].erase("routed_experts");
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_sglang_answer(no_flag, shape, "a"); }),
                       "--enable-return-routed-experts"));
  nlohmann::json bad_base64 = sglang_answer(3, 1);
  bad_base64["meta_info"]["routed_experts"] = "AAAA$$$$";
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_sglang_answer(bad_base64, shape, "a"); }),
                       "a: routed_experts: not base64"));
  nlohmann::json odd_bytes = sglang_answer(3, 1);
  odd_bytes["meta_info"]["routed_experts"] = "AAAAAAA=";  // 5 bytes
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_sglang_answer(odd_bytes, shape, "a"); }),
                       "not a whole number of int32"));
  // The top-k says 3 where the server chose 2.
  moe::TraceShape top3 = shape;
  top3.top_k = 3;
  EXPECT_TRUE(
      contains(error_of([&] { moe::trace_from_sglang_answer(sglang_answer(3, 1), top3, "a"); }),
               "the layer count or top-k does not match"));
  // A config of another model: 6 layers, 5 of them MoE.
  moe::TraceShape six = shape;
  six.n_layer = 6;
  six.moe_layers = {1, 2, 3, 4, 5};
  EXPECT_TRUE(
      contains(error_of([&] { moe::trace_from_sglang_answer(sglang_answer(3, 1), six, "a"); }),
               "24 expert ids, but 3 tokens x 6 layers x top-2 = 36 (or 30 counting only "
               "the 5 MoE layers)"));
  // Counts far beyond the ids sent (rows x layers x top-k must not wrap around), and beyond any
  // answer.
  nlohmann::json huge = sglang_answer(3, 1);
  huge["meta_info"]["prompt_tokens"] = int64_t{1} << 39;
  EXPECT_TRUE(
      contains(error_of([&] { moe::trace_from_sglang_answer(huge, shape, "a"); }), "cannot cover"));
  huge["meta_info"]["prompt_tokens"] = INT64_MAX;
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_sglang_answer(huge, shape, "a"); }),
                       "no 'prompt_tokens' count"));
  const std::vector<int32_t> none;
  EXPECT_TRUE(contains(
      error_of([&] { moe::chosen_experts_trace(shape, none, int64_t{1} << 62, 4, 2, "x"); }),
      "do not fill"));
  nlohmann::json no_meta = {{"text", "x"}};
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_sglang_answer(no_meta, shape, "a"); }),
                       "no meta_info"));
  nlohmann::json no_count = sglang_answer(3, 1);
  no_count["meta_info"].erase("prompt_tokens");
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_sglang_answer(no_count, shape, "a"); }),
                       "prompt_tokens"));
  nlohmann::json bad_token = sglang_answer(3, 1);
  bad_token["meta_info"]["input_token_logprobs"][1] = "oops";
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_sglang_answer(bad_token, shape, "a"); }),
                       "[logprob, token id, text]"));
  EXPECT_TRUE(contains(error_of([&] {
                         moe::trace_from_sglang_answer(
                             nlohmann::json::array({sglang_answer(2, 1), sglang_answer(2, 1)}),
                             shape, "a");
                       }),
                       "2 answers in one"));
}

TEST(VllmAnswer, ArraysOfTokensLayersTopK) {
  nlohmann::json routed = nlohmann::json::array();
  for (int t = 0; t < 3; ++t) {
    nlohmann::json layers = nlohmann::json::array();
    for (int l = 0; l < 4; ++l)
      layers.push_back({l == 0 ? 0 : fake_expert(t, l, 0), l == 0 ? 0 : fake_expert(t, l, 1)});
    routed.push_back(layers);
  }
  const nlohmann::json document = {{"model", "Qwen3"},
                                   {"prompt_token_ids", {1, 2, 3}},
                                   {"outputs", {{{"text", "x"}, {"routed_experts", routed}}}}};
  const moe::ImportedTrace with_shape =
      moe::trace_from_vllm_json(document, fake_server_shape(), "v");
  EXPECT_EQ(with_shape.trace.moe_layers(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(with_shape.tokens[2].id, 3);
  EXPECT_EQ(with_shape.model, "Qwen3");
  const moe::ImportedTrace bare = moe::trace_from_vllm_json(routed, std::nullopt, "v");
  EXPECT_EQ(bare.trace.moe_layers().size(), 4u);  // without a config every layer counts
  EXPECT_EQ(bare.trace.at(2, 3).experts, with_shape.trace.at(2, 3).experts);

  nlohmann::json ragged = routed;
  ragged[1][2] = {1};
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_vllm_json(ragged, std::nullopt, "v"); }),
                       "token 1, layer 2 does not have 2 experts"));
  nlohmann::json text_id = routed;
  text_id[0][1][0] = "e1";
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_vllm_json(text_id, std::nullopt, "v"); }),
                       "other than an expert id"));
  EXPECT_TRUE(contains(error_of([&] {
                         moe::trace_from_vllm_json({{"x", 1}}, std::nullopt, "v");
                       }),
                       "no routed_experts"));
}

TEST(NpyTrace, Int32AndInt64ArraysAndTheirErrors) {
  auto npy = [](const std::string& descr, const std::string& shape, const std::vector<int64_t>& ids,
                int size) {
    std::string header =
        "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string bytes = "\x93NUMPY";
    bytes += '\x01';
    bytes += '\x00';
    bytes += static_cast<char>(header.size() & 0xff);
    bytes += static_cast<char>(header.size() >> 8);
    bytes += header;
    for (int64_t id : ids)
      for (int b = 0; b < size; ++b)
        bytes += static_cast<char>(static_cast<uint64_t>(id) >> (8 * b));
    return bytes;
  };
  const std::vector<int64_t> ids = {0, 1, 2, 3, 1, 0, 3, 2};  // 2 tokens x 2 layers x 2
  const moe::ImportedTrace i32 =
      moe::trace_from_npy(npy("<i4", "(2, 2, 2)", ids, 4), std::nullopt, "f");
  const moe::ImportedTrace i64 =
      moe::trace_from_npy(npy("<i8", "(2, 2, 2)", ids, 8), std::nullopt, "f");
  EXPECT_EQ(i32.trace.at(1, 1).experts, (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(i64.trace.at(1, 1).experts, (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(i32.trace.n_expert(), 4);
  EXPECT_TRUE(contains(
      error_of([&] { moe::trace_from_npy(npy("<f4", "(2, 2, 2)", ids, 4), std::nullopt, "f"); }),
      "int32 or int64"));
  EXPECT_TRUE(contains(
      error_of([&] { moe::trace_from_npy(npy("<i4", "(2, 4)", ids, 4), std::nullopt, "f"); }),
      "2 dimensions"));
  std::string truncated = npy("<i4", "(2, 2, 2)", ids, 4);
  truncated.resize(truncated.size() - 3);
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_npy(truncated, std::nullopt, "f"); }),
                       "not the 2 x 2 x 2 array"));
  // A shape whose product wraps around to 0 in 64 bits, with no data: refused, not allocated.
  EXPECT_TRUE(contains(error_of([&] {
                         moe::trace_from_npy(
                             npy("<i4", "(17592186044416, 1048576, 1048576)", {}, 4), std::nullopt,
                             "f");
                       }),
                       "array its header says"));
  EXPECT_TRUE(contains(error_of([&] {
                         moe::trace_from_npy(npy("<i4", "(99999999, 99999999, 9999)", ids, 4),
                                             std::nullopt, "f");
                       }),
                       "array its header says"));
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_npy("PK\x03\x04", std::nullopt, "f"); }),
                       "not a NumPy .npy file"));
  // With the model's shape: 2 layers, top-2 of 3 experts: id 3 is out of range.
  EXPECT_TRUE(contains(error_of([&] {
                         moe::trace_from_npy(npy("<i4", "(2, 2, 2)", ids, 4),
                                             moe::trace_shape_from_counts(2, 2, 3), "f");
                       }),
                       "expert id 3"));
}

TEST(MoescopeTraceFormat, ExpertsOrRouterLogits) {
  nlohmann::json document = {{"format", "moescope-trace"},
                             {"version", 1},
                             {"model", "tiny"},
                             {"n_layer", 3},
                             {"n_expert", 4},
                             {"top_k", 2},
                             {"moe_layers", {1, 2}},
                             {"sequences",
                              {{{"tokens", {"Hello", " world"}},
                                {"token_ids", {10, 11}},
                                {"experts", {{{0, 1}, {2, 3}}, {{1, 0}, {3, 2}}}}}}}};
  const moe::ImportedTrace chosen = moe::trace_from_moescope_json(document, "f");
  EXPECT_TRUE(chosen.trace.chosen_experts_only());
  EXPECT_EQ(chosen.trace.at(1, 2).experts, (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(chosen.tokens[1].text, " world");

  nlohmann::json logits = document;
  logits["sequences"][0].erase("experts");
  logits["sequences"][0]["router_logits"] = {{{0.0, 2.0, 1.0, -1.0}, {1, 1, 3, 0}},
                                             {{5, 0, 0, 0}, {0, 0, 0, 0.5}}};
  const moe::ImportedTrace scored = moe::trace_from_moescope_json(logits, "f");
  EXPECT_FALSE(scored.trace.chosen_experts_only());
  const moe::RoutingRecord& record = scored.trace.at(0, 1);
  EXPECT_EQ(record.experts, (std::vector<int32_t>{1, 2}));
  EXPECT_NEAR(record.probs[1], std::exp(2.0) / (1 + std::exp(2.0) + std::exp(1.0) + std::exp(-1.0)),
              1e-6);
  EXPECT_NEAR(record.weights[0] + record.weights[1], 1.0, 1e-6);
  EXPECT_NEAR(record.weights[0] / record.weights[1], std::exp(1.0), 1e-5);
  EXPECT_GT(moe::compute_routing_stats(scored.trace).layers[0].mean_entropy, 0.1);

  nlohmann::json out_of_range = document;
  out_of_range["sequences"][0]["experts"][0][1] = {4, 0};
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_moescope_json(out_of_range, "f"); }),
                       "expert id 4 is outside 0..3"));
  nlohmann::json short_layers = document;
  short_layers["sequences"][0]["experts"][0] = {{0, 1}};
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_moescope_json(short_layers, "f"); }),
                       "one entry per MoE layer expected (2)"));
  nlohmann::json newer = document;
  newer["version"] = 9;
  EXPECT_TRUE(contains(error_of([&] { moe::trace_from_moescope_json(newer, "f"); }), "newer"));
  nlohmann::json nan_logits = logits;
  nan_logits["sequences"][0]["router_logits"][0][0][0] = "x";
  EXPECT_NE(error_of([&] { moe::trace_from_moescope_json(nan_logits, "f"); }), "");
}

TEST(ImportTraceFile, RecognizesEachFormatAndRefusesHugeFiles) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("moescope_import_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  };
  const auto sglang = write("answer.json", sglang_answer(3, 2).dump());
  EXPECT_TRUE(
      contains(error_of([&] { moe::import_trace_file(sglang, std::nullopt); }), "--model-config"));
  EXPECT_EQ(moe::import_trace_file(sglang, fake_server_shape()).trace.n_tokens(), 4);
  EXPECT_TRUE(contains(error_of([&] { moe::import_trace_file(sglang, fake_server_shape(), 100); }),
                       "larger than the 100 bytes"));
  const auto garbage = write("garbage.json", "{\"meta_info\": {\"prompt_tokens\": 3, \"routed");
  EXPECT_TRUE(contains(error_of([&] { moe::import_trace_file(garbage, fake_server_shape()); }),
                       "neither a .npy array nor JSON"));
  EXPECT_TRUE(
      contains(error_of([&] { moe::import_trace_file(dir / "missing.json", std::nullopt); }),
               "missing.json"));
  std::filesystem::remove_all(dir);
}

TEST(ChosenExperts, FiguresDrawTheChosenExpertsAndSayWhatIsMissing) {
  // 2 tokens, 1 layer, top-2 of 4.
  const moe::RoutingTrace trace = moe::chosen_experts_trace(
      moe::trace_shape_from_counts(1, 2, 4), std::vector<int32_t>{3, 1, 0, 2}, 2, 1, 2, "t");
  const moe::plot::Figure heatmap = moe::plot::router_heatmap_figure(trace, 0, {"a", "b"}, -1, {});
  ASSERT_EQ(heatmap.cells.size(), 4u);  // one per chosen expert
  EXPECT_EQ(heatmap.cells[0].text, "#1");
  EXPECT_TRUE(heatmap.cells[0].outlined);
  EXPECT_FALSE(heatmap.color_scale.has_value());  // no probabilities to colour by
  const moe::plot::Figure path = moe::plot::token_path_figure(trace, 1, "b");
  ASSERT_EQ(path.cells.size(), 2u);
  EXPECT_EQ(path.cells[1].text, "#2");
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  const moe::plot::Figure load =
      moe::plot::expert_load_figure(stats, 0, moe::plot::LoadMeasure::TokenCount);
  ASSERT_FALSE(load.notes.empty());
  EXPECT_EQ(load.notes[0].find("Switch"), std::string::npos);  // needs probabilities
  const moe::plot::Figure scores = moe::plot::router_scores_figure(trace, 0, 0, "a");
  EXPECT_TRUE(scores.bars.empty());
  bool says_so = false;
  for (const std::string& note : scores.notes) says_so |= note == moe::kChosenExpertsOnlyNote;
  EXPECT_TRUE(says_so);
}
