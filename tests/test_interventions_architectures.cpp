// Routing interventions on the gates that differ from llama's: the CPU backend against the
// reference forward (tests/support/reference_architectures.cpp, reference_routing.cpp) with
// experts knocked out, k changed, pins, capacity and expert choice, on olmoe (softmax, weights
// not renormalized), qwen2moe (the same plus a gated shared expert), deepseek2 V2-Lite (weights
// scaled, a leading dense layer, shared experts) and deepseek2 V3 style (sigmoid scores, a
// selection bias, normalized and scaled weights), gpt-oss (a router bias, softmax over the
// chosen), glm4moe (sigmoid with the selection bias, shared experts) and dbrx (LayerNorm, clamped
// q/k/v), and the router knobs (temperature, noise, scoring, expert bias) on each.
// test_interventions covers llama's gate.
//
// Tolerances as in test_interventions: logits within 1e-4 relative, scores and weights within
// 1e-5; chosen and dropped experts identical (these fixtures have no near ties).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "model_fixtures.hpp"
#include "moe/cpu_backend.hpp"
#include "moe/interventions.hpp"
#include "reference_architectures.hpp"

namespace {

using moe::RandomModelSpec;
using moe::RoutingInterventions;
using moe::RoutingRule;
using moe::testing::ModelCase;

constexpr double kLogitTolerance = 1e-4;
constexpr double kScoreTolerance = 1e-5;
constexpr int kContext = 64;

RandomModelSpec base_spec(const std::string& architecture, uint64_t seed) {
  RandomModelSpec s;
  s.architecture = architecture;
  s.n_embd = 64, s.n_layer = 3, s.n_head = 4, s.n_head_kv = 2;
  s.n_expert = 8, s.n_expert_used = 2, s.n_ff_exp = 32, s.n_ff = 64;
  s.n_ctx = kContext, s.seed = seed;
  return s;
}

std::vector<ModelCase> gate_cases() {
  std::vector<ModelCase> cases;
  {
    RandomModelSpec s = base_spec("olmoe", 51);
    s.n_head_kv = 4, s.n_expert = 16, s.n_expert_used = 4;
    cases.push_back({"olmoe_e16_top4", s});
  }
  cases.push_back({"qwen2moe_shared_gated", base_spec("qwen2moe", 52)});
  {
    RandomModelSpec s = base_spec("deepseek2", 53);
    s.dense_layers = {0};
    s.head_dim = 24, s.n_rot = 8, s.head_dim_v = 16, s.kv_lora_rank = 32;
    s.n_expert_shared = 2, s.expert_weights_scale = 1.5f;
    cases.push_back({"deepseek2_lite_scaled", s});
  }
  {
    RandomModelSpec s = base_spec("deepseek2", 54);
    s.dense_layers = {0};
    s.head_dim = 24, s.n_rot = 8, s.head_dim_v = 16, s.kv_lora_rank = 32, s.q_lora_rank = 32;
    s.n_expert = 16, s.n_expert_used = 4, s.n_expert_shared = 1;
    s.sigmoid_gating = true, s.selection_bias = true, s.expert_weights_norm = true;
    s.expert_weights_scale = 2.5f;
    cases.push_back({"deepseek2_v3_sigmoid_bias", s});
  }
  {
    // gpt-oss: biased router logits, sinks, a sliding window, biased clamped experts.
    RandomModelSpec s = base_spec("gpt-oss", 55);
    s.attention_biases = true;
    cases.push_back({"gpt_oss_router_bias", s});
  }
  {
    RandomModelSpec s = base_spec("glm4moe", 56);
    s.dense_layers = {0}, s.n_rot = 8, s.n_expert_shared = 1;
    s.sigmoid_gating = true, s.selection_bias = true, s.expert_weights_norm = true;
    s.expert_weights_scale = 2.5f;
    cases.push_back({"glm4moe_sigmoid_bias", s});
  }
  {
    RandomModelSpec s = base_spec("dbrx", 57);
    s.fused_qkv = true, s.clamp_kqv = 1.0f;
    cases.push_back({"dbrx_layer_norm_clamped", s});
  }
  {
    RandomModelSpec s = base_spec("llama4", 58);
    s.n_layer = 4, s.moe_layer_step = 2, s.dense_layers = {0, 2};
    cases.push_back({"llama4_input_weighted", s});
  }
  {
    RandomModelSpec s = base_spec("grok", 59);
    cases.push_back({"grok_geglu_softcap", s});
  }
  {
    RandomModelSpec s = base_spec("ernie4_5-moe", 60);
    s.dense_layers = {0}, s.n_expert_shared = 1, s.selection_bias = true;
    cases.push_back({"ernie4_5_moe_selection_bias", s});
  }
  {
    RandomModelSpec s = base_spec("bailingmoe2", 61);
    s.dense_layers = {0}, s.n_rot = 8, s.fused_qkv = true, s.n_expert_shared = 1;
    s.sigmoid_gating = s.selection_bias = s.expert_weights_norm = true;
    cases.push_back({"bailingmoe2_sigmoid_bias", s});
  }
  return cases;
}

// One of each kind of intervention, on the model's first and last MoE layers.
std::vector<std::pair<std::string, RoutingInterventions>> intervention_cases(
    const moe::ModelConfig& config) {
  const int first = config.moe_layers().front(), last = config.moe_layers().back();
  std::vector<std::pair<std::string, RoutingInterventions>> cases;
  RoutingInterventions knockout;
  knockout.disabled = {{first, 1}, {moe::kAllLayers, 4}};
  knockout.top_k_by_layer = {{last, 1}};
  cases.push_back({"knockout_and_top1", knockout});
  RoutingInterventions pins;
  pins.pins = {{3, first, 7}, {3, last, 6}, {10, last, 0}};
  cases.push_back({"pins", pins});
  RoutingInterventions capacity;
  capacity.rule = RoutingRule::Capacity;
  capacity.capacity_factor = 0.75;
  cases.push_back({"capacity", capacity});
  RoutingInterventions expert_choice;
  expert_choice.rule = RoutingRule::ExpertChoice;
  expert_choice.disabled = {{last, 0}};
  cases.push_back({"expert_choice", expert_choice});
  // The router knobs, on the model's own scoring and on the other one.
  RoutingInterventions tempered_noise;
  tempered_noise.temperature = 0.6;
  tempered_noise.noise_scale = 0.4, tempered_noise.noise_seed = 5;
  tempered_noise.expert_bias = {{2, 0.05}};
  cases.push_back({"temperature_noise_bias", tempered_noise});
  RoutingInterventions other_scoring;
  other_scoring.scoring = config.gating == moe::GatingFunction::Sigmoid ? moe::Scoring::Softmax
                                                                        : moe::Scoring::Sigmoid;
  other_scoring.temperature = 1.5;
  other_scoring.expert_bias = {{0, -0.03}, {3, 0.04}};
  cases.push_back({"other_scoring_and_bias", other_scoring});
  return cases;
}

class InterventionsOnGates : public ::testing::TestWithParam<ModelCase> {};

TEST_P(InterventionsOnGates, CpuBackendMatchesTheReferenceForward) {
  const moe::testing::TempModelFile file(GetParam().spec);
  const auto model = file.load();
  const moe::ModelConfig& config = model->config();
  const std::vector<int32_t> tokens = moe::testing::random_tokens(24, config.n_vocab, 9);
  const auto n_vocab = static_cast<size_t>(config.n_vocab);
  moe::CpuBackend backend({.n_threads = 2});
  for (const auto& [label, interventions] : intervention_cases(config)) {
    SCOPED_TRACE(label);
    ASSERT_NO_THROW(interventions.validate(config));
    const moe::testing::ReferenceResult reference =
        moe::testing::reference_forward(model->file(), tokens, {.interventions = interventions});
    auto state = backend.new_state(model, kContext);
    state->set_interventions(interventions);
    moe::RoutingTrace trace(config.n_layer, config.n_expert, config.n_expert_used,
                            config.moe_layers());
    std::vector<float> logits;
    backend.forward(*state, tokens, 0, moe::LogitsMode::All, logits, &trace);
    ASSERT_EQ(logits.size(), tokens.size() * n_vocab);

    for (size_t t = 0; t < tokens.size(); ++t) {
      const std::span<const float> row(logits.data() + t * n_vocab, n_vocab);
      EXPECT_LT(moe::testing::max_relative_difference(row, reference.logits[t]), kLogitTolerance)
          << "position " << t;
      for (int layer : config.moe_layers()) {
        const moe::RoutingRecord& record = trace.at(static_cast<int>(t), layer);
        const moe::testing::ReferenceRouting& expected =
            reference.routing[t][static_cast<size_t>(layer)];
        ASSERT_EQ(record.probs.size(), expected.probs.size());
        for (size_t e = 0; e < expected.probs.size(); ++e)
          EXPECT_NEAR(record.probs[e], expected.probs[e], kScoreTolerance) << "expert " << e;
        EXPECT_EQ(record.experts, expected.experts) << "position " << t << " layer " << layer;
        EXPECT_EQ(record.dropped, expected.dropped) << "position " << t << " layer " << layer;
        ASSERT_EQ(record.weights.size(), expected.weights.size());
        for (size_t j = 0; j < record.weights.size(); ++j)
          EXPECT_NEAR(record.weights[j], expected.weights[j], kScoreTolerance);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Gates, InterventionsOnGates, ::testing::ValuesIn(gate_cases()),
                         [](const auto& info) { return info.param.label; });

}  // namespace
