// The worker's playground requests: routing interventions, prompt comparison, expert
// vocabulary and continuations side by side (results: playground.hpp).
#include "worker.hpp"

#include "moe/error.hpp"
#include "moe/session.hpp"
#include "worker_state.hpp"

namespace moescope::gui {

namespace {

// Merges a new request into the waiting one: the latest of each kind wins.
void merge(std::optional<Worker::PlaygroundRequest>& pending, Worker::PlaygroundRequest request) {
  if (!pending) {
    pending = std::move(request);
    return;
  }
  if (request.interventions) pending->interventions = std::move(request.interventions);
  if (request.compare_prompt) pending->compare_prompt = std::move(request.compare_prompt);
  if (request.explain) {
    pending->explain = request.explain;
    pending->prompts_folder = std::move(request.prompts_folder);
  }
  if (request.continuations) pending->continuations = std::move(request.continuations);
}

}  // namespace

void Worker::post_playground(PlaygroundRequest request) {
  {
    std::lock_guard lock(mutex_);
    merge(pending_playground_, std::move(request));
  }
  wake_.notify_all();
}

void Worker::set_interventions(moe::RoutingInterventions interventions) {
  PlaygroundRequest request;
  request.interventions = std::move(interventions);
  post_playground(std::move(request));
}

void Worker::set_compare_prompt(std::string text) {
  PlaygroundRequest request;
  request.compare_prompt = std::move(text);
  post_playground(std::move(request));
}

void Worker::explain_expert(int layer, int expert, std::filesystem::path prompts_folder) {
  PlaygroundRequest request;
  request.explain = std::make_pair(layer, expert);
  request.prompts_folder = std::move(prompts_folder);
  post_playground(std::move(request));
}

void Worker::compare_continuations(int n_tokens, moe::SamplingOptions sampling) {
  PlaygroundRequest request;
  request.continuations = std::make_pair(n_tokens, sampling);
  post_playground(std::move(request));
}

PlaygroundInputs Worker::playground_inputs() const {
  const State& state = *state_;
  return {state.model, state.backend, state.tokenizer.get(), state.add_bos};
}

void Worker::do_playground(const PlaygroundRequest& request) {
  State& state = *state_;
  if (!state.session) return;
  if (state.remote_shown) {
    post_message({"The playground needs a local model", kRemoteTraceNote, false});
    return;
  }
  const auto started = Clock::now();
  const PromptRequest as_prompt{state.prompt, started};
  auto result = std::make_shared<PlaygroundResult>(
      state.playground ? *state.playground : PlaygroundResult{});
  try {
    if (request.interventions) {
      state.session->set_interventions(*request.interventions);  // recomputes the tokens
      result->effect.reset();
    }
    if (request.compare_prompt) state.compare_prompt = *request.compare_prompt;
    if (request.explain) {
      if (state.domain_texts.empty() || state.domain_texts_generation != state.model_generation) {
        state.domain_texts = route_domain_prompts(
            playground_inputs(), request.prompts_folder, [&](int done, int total) {
              set_status(WorkerActivity::Domains, done, total);
              return !other_request_pending();
            });
        state.domain_texts_generation = state.model_generation;
      }
      if (state.domain_texts.empty()) {
        throw moe::Error("no domain prompts were routed (" + request.prompts_folder.string() +
                         " holds no <domain>.txt files)");
      }
      result->vocabulary = expert_vocabulary_view(playground_inputs(), state.domain_texts,
                                                  request.explain->first, request.explain->second);
    }
  } catch (const std::exception& error) {
    post_message({"Playground", error.what(), true});
  }
  state.playground = std::move(result);
  // What depends on the tokens changes only with the routing or prompt B; an expert's
  // vocabulary alone leaves it as it is.
  if (request.interventions || request.compare_prompt) refresh_playground();
  if (request.continuations && !state.session->interventions().empty()) {
    try {
      set_status(WorkerActivity::Generating, 0, request.continuations->first);
      auto result = std::make_shared<PlaygroundResult>(*state.playground);
      result->effect = measure_effect(playground_inputs(), state.session->tokens(),
                                      state.session->interventions(),
                                      request.continuations->first, request.continuations->second);
      state.playground = std::move(result);
    } catch (const std::exception& error) {
      post_message({"Continuations", error.what(), true});
    }
  }
  // New interventions recomputed every token; otherwise the cache served them all.
  const int n_tokens = static_cast<int>(state.session->tokens().size());
  const int computed = request.interventions ? n_tokens : 0;
  publish(as_prompt, true, Milliseconds(Clock::now() - started).count(), n_tokens - computed,
          computed);
}

void Worker::refresh_playground() {
  State& state = *state_;
  if (!state.session) return;
  auto result = std::make_shared<PlaygroundResult>(
      state.playground ? *state.playground : PlaygroundResult{});
  const std::vector<int32_t>& tokens = state.session->tokens();
  const moe::RoutingInterventions& interventions = state.session->interventions();
  const int first_token = state.add_bos ? 1 : 0;
  try {
    result->compute.reset();
    if (static_cast<int>(tokens.size()) > first_token)
      result->compute = moe::count_compute(*state.model, state.session->trace(), first_token);
    // An effect with continuations stays until the tokens or interventions change.
    const bool effect_current = result->effect && result->effect->interventions == interventions &&
                                result->effect->tokens == tokens;
    if (interventions.empty() || tokens.empty()) {
      result->effect.reset();
    } else if (!effect_current) {
      result->effect = measure_effect(playground_inputs(), tokens, interventions, 0, {});
    }
    result->compare_prompt = state.compare_prompt;
    result->comparison.reset();
    result->prompt_b.reset();
    if (!state.compare_prompt.empty() && static_cast<int>(tokens.size()) > first_token) {
      PromptComparison comparison = compare_with_prompt(
          playground_inputs(), state.session->trace(), first_token, state.compare_prompt,
          interventions);
      result->comparison = std::move(comparison.load);
      result->prompt_b = std::move(comparison.prompt_b);
    }
  } catch (const std::exception& error) {
    post_message({"Playground", error.what(), true});
  }
  state.playground = std::move(result);
}

}  // namespace moescope::gui
