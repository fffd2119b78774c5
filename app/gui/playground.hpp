#pragma once
// The playground's results, computed by the worker and published with each snapshot: what the
// routing interventions do (measured against the unchanged model), the load difference to a
// second prompt, the vocabulary of one expert over the domain prompt sets, and the compute
// counter of the current prompt. The functions here run on the worker thread only.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "moe/backend.hpp"
#include "moe/expert_insights.hpp"
#include "moe/intervention_effects.hpp"
#include "moe/interventions.hpp"
#include "moe/model.hpp"
#include "moe/tokenizer.hpp"

namespace moescope::gui {

struct NextTokenRow {
  std::string text;  // for display
  float base = 0, changed = 0;
};

// The unchanged model beside the model with interventions, for the current tokens.
struct EffectView {
  moe::RoutingInterventions interventions;
  std::vector<int32_t> tokens;  // what both models ran
  std::shared_ptr<const moe::InterventionEffect> effect;
  std::vector<NextTokenRow> next_tokens;  // the most likely next tokens of either model
  std::string base_continuation, changed_continuation;  // when asked for
};

struct ExpertVocabularyView {
  moe::ExpertVocabulary vocabulary;
  std::vector<std::string> token_texts;            // per top token, for display
  std::vector<std::vector<std::string>> snippets;  // per top token, its example contexts
  int n_texts = 0;
};

struct PromptRun;  // worker.hpp

struct PlaygroundResult {
  std::optional<EffectView> effect;  // absent when no intervention is on
  std::string compare_prompt;        // prompt B; empty: no comparison
  std::optional<moe::LoadComparison> comparison;
  std::shared_ptr<const PromptRun> prompt_b;  // prompt B's own routing, with the comparison
  std::optional<ExpertVocabularyView> vocabulary;
  std::optional<moe::ComputeCount> compute;
};

// Everything the computations need from the worker's state.
struct PlaygroundInputs {
  std::shared_ptr<const moe::Model> model;
  std::shared_ptr<moe::Backend> backend;
  const moe::Tokenizer* tokenizer = nullptr;
  bool add_bos = false;
};

EffectView measure_effect(const PlaygroundInputs& inputs, const std::vector<int32_t>& tokens,
                          const moe::RoutingInterventions& interventions, int continuation_tokens,
                          const moe::SamplingOptions& sampling);

struct PromptComparison {
  moe::LoadComparison load;
  std::shared_ptr<const PromptRun> prompt_b;
};

// Routes `prompt_b` from an empty context (with the same interventions as the session) and
// compares its load with `trace_a`, BOS left out of both.
PromptComparison compare_with_prompt(const PlaygroundInputs& inputs,
                                     const moe::RoutingTrace& trace_a, int first_token_a,
                                     const std::string& prompt_b,
                                     const moe::RoutingInterventions& interventions);

// Routes every prompt of the domain prompt sets (<domain>.txt in `folder`), each from an empty
// context, BOS left out of the counts. Calls `keep_going` between prompts (false: stop, and
// the texts so far are returned).
std::vector<moe::RoutedText> route_domain_prompts(const PlaygroundInputs& inputs,
                                                  const std::filesystem::path& folder,
                                                  const std::function<bool(int, int)>& keep_going);

ExpertVocabularyView expert_vocabulary_view(const PlaygroundInputs& inputs,
                                            const std::vector<moe::RoutedText>& texts, int layer,
                                    int expert);

}  // namespace moescope::gui
