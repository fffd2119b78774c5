#include "playground.hpp"

#include <algorithm>
#include <set>

#include "moe/domain_routing.hpp"
#include "moe/error.hpp"
#include "moe/prompt_sets.hpp"
#include "moe/session.hpp"
#include "token_text.hpp"
#include "worker.hpp"

namespace moescope::gui {

namespace {

constexpr size_t kNextTokenRows = 8;

std::vector<int32_t> encode(const PlaygroundInputs& inputs, const std::string& text) {
  std::vector<int32_t> tokens;
  if (inputs.add_bos && inputs.tokenizer->bos_id()) tokens.push_back(*inputs.tokenizer->bos_id());
  const std::vector<int32_t> ids = inputs.tokenizer->encode(text);
  tokens.insert(tokens.end(), ids.begin(), ids.end());
  return tokens;
}

std::string display_text(const moe::Tokenizer& tokenizer, int32_t id) {
  return display_token_texts({tokenizer.token_piece(id)}).front();
}

std::string decode(const moe::Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  std::string pieces;
  for (int32_t id : ids) pieces += tokenizer.token_piece(id);
  return pieces;
}

}  // namespace

EffectView measure_effect(const PlaygroundInputs& inputs, const std::vector<int32_t>& tokens,
                          const moe::RoutingInterventions& interventions, int continuation_tokens,
                          const moe::SamplingOptions& sampling) {
  moe::InterventionEffectOptions options;
  options.continuation_tokens = continuation_tokens;
  options.sampling = sampling;
  if (inputs.tokenizer->eos_id()) options.stop_token = *inputs.tokenizer->eos_id();
  auto effect = std::make_shared<moe::InterventionEffect>(moe::measure_intervention_effect(
      inputs.model, inputs.backend, tokens, interventions, options));

  EffectView view;
  view.interventions = interventions;
  view.tokens = tokens;
  // The most likely next tokens of either model, ordered by the unchanged model.
  const std::vector<float>& base = effect->base.next_probs;
  const std::vector<float>& changed = effect->changed.next_probs;
  std::vector<int32_t> order(base.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  const auto top_of = [&](const std::vector<float>& probs) {
    std::vector<int32_t> ids = order;
    const size_t n = std::min(kNextTokenRows, ids.size());
    std::partial_sort(ids.begin(), ids.begin() + static_cast<long>(n), ids.end(),
                      [&](int32_t a, int32_t b) { return probs[a] > probs[b]; });
    ids.resize(n);
    return ids;
  };
  std::vector<int32_t> shown = top_of(base);
  for (int32_t id : top_of(changed))
    if (std::find(shown.begin(), shown.end(), id) == shown.end()) shown.push_back(id);
  std::sort(shown.begin(), shown.end(), [&](int32_t a, int32_t b) {
    return base[a] > base[b] || (base[a] == base[b] && changed[a] > changed[b]);
  });
  for (int32_t id : shown)
    view.next_tokens.push_back({display_text(*inputs.tokenizer, id), base[id], changed[id]});
  view.base_continuation = decode(*inputs.tokenizer, effect->base.continuation);
  view.changed_continuation = decode(*inputs.tokenizer, effect->changed.continuation);
  view.effect = std::move(effect);
  return view;
}

PromptComparison compare_with_prompt(const PlaygroundInputs& inputs,
                                     const moe::RoutingTrace& trace_a, int first_token_a,
                                     const std::string& prompt_b,
                                     const moe::RoutingInterventions& interventions) {
  const std::vector<int32_t> tokens = encode(inputs, prompt_b);
  if (tokens.empty()) throw moe::Error("prompt B is empty");
  moe::SessionOptions options;
  options.interventions = interventions;
  moe::Session session(inputs.model, inputs.backend, options);
  session.set_tokens(tokens);
  const int first_token_b = inputs.add_bos ? 1 : 0;
  auto run = std::make_shared<PromptRun>();
  run->prompt = prompt_b;
  run->tokens = token_views(*inputs.tokenizer, tokens, static_cast<int>(tokens.size()));
  run->trace = session.trace();
  run->stats = moe::compute_routing_stats(run->trace);
  return {moe::compare_load(trace_a, run->trace, first_token_a, first_token_b), std::move(run)};
}

std::vector<moe::RoutedText> route_domain_prompts(const PlaygroundInputs& inputs,
                                                  const std::filesystem::path& folder,
                                                  const std::function<bool(int, int)>& keep_going) {
  moe::Session session(inputs.model, inputs.backend);
  const std::optional<int32_t> bos =
      inputs.add_bos ? inputs.tokenizer->bos_id() : std::optional<int32_t>();
  return moe::route_set_texts(session, *inputs.tokenizer, moe::find_prompt_sets(folder), bos,
                              keep_going);
}

ExpertVocabularyView expert_vocabulary_view(const PlaygroundInputs& inputs,
                                            const std::vector<moe::RoutedText>& texts, int layer,
                                    int expert) {
  ExpertVocabularyView view;
  view.vocabulary = moe::expert_vocabulary(texts, layer, expert, 16, 2);
  view.n_texts = static_cast<int>(texts.size());
  for (const moe::ExpertToken& token : view.vocabulary.top_tokens) {
    view.token_texts.push_back(display_text(*inputs.tokenizer, token.id));
    std::vector<std::string> snippets;
    for (const moe::TokenOccurrence& occurrence : token.examples)
      snippets.push_back(moe::context_snippet(*inputs.tokenizer, texts, occurrence));
    view.snippets.push_back(std::move(snippets));
  }
  return view;
}

}  // namespace moescope::gui
