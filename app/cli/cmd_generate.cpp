// `moescope-cli generate MODEL --prompt TEXT [-n N] [--temp T] [--top-p P] [--seed S] [--json]`:
// continues a prompt and shows the routing of the generated tokens. With routing interventions
// the unchanged model's continuation (same sampling seed) is printed beside the changed one,
// with the effect on the prompt (KL, perplexity, balance). Under a batch routing rule
// (capacity, expert-choice) every step re-routes the whole sequence (see moe/session.hpp).
#include <iostream>
#include <optional>

#include "cli_common.hpp"
#include "intervention_options.hpp"
#include "moe/error.hpp"
#include "moe/session.hpp"
#include "moe/token_display.hpp"
#include "server_source.hpp"

namespace moescope::cli {

namespace {

struct GenerateArgs {
  std::string model_path;
  std::string prompt;
  int n_tokens = 32;
  float temperature = 0.8f;
  float top_p = 0.95f;
  uint64_t seed = 0;
  bool as_json = false;
  bool no_bos = false;
  int threads = 0;
  BackendChoice backend;
  InterventionOptions interventions;
  ServerSourceArgs server;
};

// Generation on an SGLang server: its text, and the routing of the generated tokens it returns
// (all but the last, which SGLang never feeds back).
void run_server_generate(const GenerateArgs& args) {
  const moe::ImportedTrace routed =
      route_on_server(args.server, args.prompt, args.n_tokens, args.temperature);
  const int first_generated = std::min(routed.prompt_tokens, routed.trace.n_tokens());
  if (args.as_json) {
    nlohmann::json out = imported_routing_json(routed, first_generated);
    out["prompt"] = args.prompt;
    out["sampling"] = {{"temperature", args.temperature}};
    std::cout << dump_json(out) << "\n";
    return;
  }
  std::cout << moe::terminal_text(args.prompt) << moe::terminal_text(routed.completion) << "\n\n";
  write_imported_table(std::cout, routed, first_generated);
}

void run_generate(GenerateArgs args) {
  if (uses_server(args.server)) {
    if (!args.model_path.empty())
      throw moe::Error("generate takes a model file or --server URL, not both");
    args.server.top_k = args.interventions.top_k;  // the served model's top-k
    args.interventions.top_k = 0;
    if (!no_interventions(args.interventions))
      throw moe::Error("routing interventions need a local model: the server routes by itself");
    run_server_generate(args);
    return;
  }
  const LoadedModel loaded = load_model(args.model_path);
  std::vector<int32_t> prompt_ids = encode_prompt(loaded, args.prompt, !args.no_bos);
  cut_to_context(prompt_ids, session_context(loaded));
  if (prompt_ids.empty()) throw moe::Error("the prompt is empty: give some text with --prompt");

  const moe::RoutingInterventions interventions =
      make_interventions(args.interventions, loaded.model->config());
  const std::shared_ptr<moe::Backend> backend = make_backend(args.backend, args.threads);
  moe::SessionOptions session_options;
  session_options.interventions = interventions;
  moe::Session session(loaded.model, backend, session_options);
  session.set_tokens(prompt_ids);
  const auto eos = loaded.tokenizer->eos_id();
  if (!args.as_json) std::cout << moe::terminal_text(args.prompt) << std::flush;
  const moe::SamplingOptions sampling{args.temperature, args.top_p, args.seed};
  const int room = session.n_ctx() - static_cast<int>(prompt_ids.size());
  session.generate(std::min(args.n_tokens, room), sampling, [&](int32_t token) {
    if (eos && token == *eos) return false;
    if (!args.as_json) std::cout << moe::terminal_text(loaded.tokenizer->token_piece(token)) << std::flush;
    return true;
  });
  const std::vector<int32_t>& ids = session.tokens();
  const int first_generated = static_cast<int>(prompt_ids.size());
  if (args.n_tokens > room && static_cast<int>(ids.size()) >= session.n_ctx()) {
    // Say why fewer tokens came than asked: the context is full (an end token says itself).
    std::cerr << "moescope-cli: note: generated " << ids.size() - prompt_ids.size() << " of "
              << args.n_tokens << " tokens: the context of " << session.n_ctx() << " is full\n";
  }
  // The unchanged model beside the changed one: the same prompt, the same sampling.
  std::optional<moe::InterventionEffect> effect;
  if (!interventions.empty()) {
    moe::InterventionEffectOptions effect_options;
    effect_options.continuation_tokens = std::min(args.n_tokens, room);
    effect_options.sampling = sampling;
    effect_options.stop_token = eos ? *eos : -1;
    effect = moe::measure_intervention_effect(loaded.model, backend, prompt_ids, interventions,
                                              effect_options);
  }
  if (!args.as_json) {
    std::cout << "\n\n";
    write_routing_table(std::cout, loaded, ids, session.trace(), first_generated);
    if (effect) {
      std::cout << "\nUnchanged model, same sampling:\n"
                << args.prompt << loaded.tokenizer->decode(effect->base.continuation) << "\n\n";
      write_intervention_effect(std::cout, loaded, *effect);
    }
    return;
  }
  const std::span<const int32_t> generated(ids.data() + first_generated, ids.size() - first_generated);
  nlohmann::json out = routing_json(loaded, ids, session.trace(), first_generated);
  out["prompt"] = args.prompt;
  out["prompt_tokens"] = first_generated;
  out["text"] = loaded.tokenizer->decode(generated);
  out["sampling"] = {{"temperature", args.temperature}, {"top_p", args.top_p}, {"seed", args.seed}};
  if (effect) {
    out["effect"] = intervention_effect_json(loaded, *effect);
    out["unchanged_text"] = loaded.tokenizer->decode(effect->base.continuation);
  }
  std::cout << dump_json(out) << "\n";
}

}  // namespace

void register_generate(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* command = app.add_subcommand("generate", "Continue a prompt; print the text and the routing of the new tokens");
  add_model_argument(*command, args->model_path);
  command->add_option("--prompt,-p", args->prompt, "Prompt text")->required();
  command->add_option("-n,--tokens", args->n_tokens, "Tokens to generate")->check(CLI::Range(1, 1 << 20));
  command->add_option("--temp", args->temperature, "Temperature (0: greedy)")->check(CLI::Range(0.0f, 100.0f));
  command->add_option("--top-p", args->top_p, "Nucleus sampling mass, in (0, 1]")->check(CLI::Range(1e-6f, 1.0f));
  command->add_option("--seed", args->seed, "Random seed");
  command->add_flag("--no-bos", args->no_bos, "Do not put the BOS token first");
  command->add_flag("--json", args->as_json, "Print JSON: text and routing of the generated tokens");
  add_threads_option(*command, args->threads);
  add_backend_options(*command, args->backend);
  add_intervention_options(*command, args->interventions);
  add_server_options(*command, args->server, true, false);
  command->callback([args] { run_generate(*args); });
}

}  // namespace moescope::cli
