// `moescope-cli route MODEL --prompt TEXT [--json | --csv [--table trace|load]] [--out FILE]`:
// the routing trace of a prompt, or its load table, on stdout or written atomically to a file.
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli_common.hpp"
#include "intervention_options.hpp"
#include "moe/atomic_file.hpp"
#include "moe/error.hpp"
#include "moe/expert_insights.hpp"
#include "moe/routing_stats.hpp"
#include "moe/session.hpp"
#include "server_source.hpp"

namespace moescope::cli {

namespace {

struct RouteArgs {
  std::string model_path;
  std::string prompt;
  std::string prompt_file;
  bool as_json = false;
  bool as_csv = false;
  bool no_bos = false;
  std::string table = "trace";
  std::string out_path;
  int threads = 0;
  BackendChoice backend;
  InterventionOptions interventions;
  ServerSourceArgs server;
};

// The prompt routed by an SGLang server: the same JSON as a local route (chosen experts only).
void run_server_route(const RouteArgs& args, const std::string& text) {
  const moe::ImportedTrace routed = route_on_server(args.server, text);
  std::ostringstream out;
  if (args.as_json) {
    out << dump_json(imported_routing_json(routed)) << "\n";
  } else if (args.as_csv && args.table == "load") {
    moe::write_load_csv(out, moe::compute_routing_stats(routed.trace), routed.trace.top_k());
  } else if (args.as_csv) {
    moe::write_routing_csv(out, routed.tokens, routed.trace);
  } else {
    write_imported_table(out, routed);
  }
  if (args.out_path.empty()) {
    std::cout << out.str();
  } else {
    moe::write_file_atomically(args.out_path, out.str());
  }
}

void run_route(RouteArgs args) {
  const std::string text = args.prompt_file.empty() ? args.prompt : read_text_file(args.prompt_file);
  if (uses_server(args.server)) {
    if (!args.model_path.empty())
      throw moe::Error("route takes a model file or --server URL, not both");
    // With --server, --top-k is the served model's top-k, not an intervention.
    args.server.top_k = args.interventions.top_k;
    args.interventions.top_k = 0;
    if (!no_interventions(args.interventions))
      throw moe::Error("routing interventions need a local model: the server routes by itself");
    run_server_route(args, text);
    return;
  }
  const LoadedModel loaded = load_model(args.model_path);
  std::vector<int32_t> ids = encode_prompt(loaded, text, !args.no_bos);
  cut_to_context(ids, session_context(loaded));
  if (ids.empty()) throw moe::Error("the prompt is empty: give some text with --prompt");

  const moe::RoutingInterventions interventions =
      make_interventions(args.interventions, loaded.model->config());
  const std::shared_ptr<moe::Backend> backend = make_backend(args.backend, args.threads);
  // With interventions the trace shown is the changed model's, and the effect beside the
  // unchanged model comes with it (JSON: "effect"; the table: a section after it).
  moe::RoutingTrace trace;
  std::optional<moe::InterventionEffect> effect;
  if (interventions.empty()) {
    moe::Session session(loaded.model, backend);
    session.set_tokens(ids);
    trace = session.trace();
  } else {
    effect = moe::measure_intervention_effect(loaded.model, backend, ids, interventions);
    trace = effect->changed.trace;
  }
  std::ostringstream out;
  if (args.as_json) {
    nlohmann::json json = routing_json(loaded, ids, trace);
    if (effect) json["effect"] = intervention_effect_json(loaded, *effect);
    out << dump_json(json) << "\n";
  } else if (args.as_csv && args.table == "load") {
    moe::write_load_csv(out, moe::compute_routing_stats(trace), trace.top_k());
  } else if (args.as_csv) {
    write_routing_csv(out, loaded, ids, trace);
  } else {
    write_routing_table(out, loaded, ids, trace);
    // The compute counter: what this prompt used against a dense model of the same size.
    const moe::ComputeCount compute = moe::count_compute(*loaded.model, trace);
    out << "\nCompute: " << std::fixed << std::setprecision(2) << compute.mean_active_experts
        << " experts per token and layer; " << std::setprecision(0)
        << compute.active_parameters_per_token << " of " << compute.total_parameters
        << " parameters active per token (" << std::setprecision(1)
        << 100.0 * compute.active_parameters_per_token / static_cast<double>(compute.total_parameters)
        << "%); " << std::setprecision(3) << compute.moe_flops / 1e9 << " GFLOPs for the prompt vs "
        << compute.dense_flops / 1e9 << " for a dense model of the same total size\n";
    if (effect) {
      out << "\n";
      write_intervention_effect(out, loaded, *effect);
    }
  }
  if (args.out_path.empty()) {
    std::cout << out.str();
  } else {
    moe::write_file_atomically(args.out_path, out.str());
  }
}

}  // namespace

void register_route(CLI::App& app) {
  auto args = std::make_shared<RouteArgs>();
  auto* command = app.add_subcommand("route", "Run a prompt and print which experts each token chose at every MoE layer");
  add_model_argument(*command, args->model_path);
  auto* prompt = command->add_option("--prompt,-p", args->prompt, "Prompt text");
  auto* file = command->add_option("--file,-f", args->prompt_file, "Read the prompt from a file");
  prompt->excludes(file);
  command->add_flag("--no-bos", args->no_bos, "Do not put the BOS token first");
  auto* json = command->add_flag("--json", args->as_json, "Print the trace as JSON");
  auto* csv = command->add_flag("--csv", args->as_csv, "Print one CSV row per (token, layer, expert)");
  json->excludes(csv);
  auto* table = command->add_option("--table", args->table,
                                    "With --csv: trace (one row per token, layer, expert) or load "
                                    "(one row per layer, expert)")
                    ->check(CLI::IsMember({"trace", "load"}));
  command->add_option("--out,-o", args->out_path,
                      "Write to FILE instead of stdout (atomically: complete or not at all)");
  add_threads_option(*command, args->threads);
  add_backend_options(*command, args->backend);
  add_intervention_options(*command, args->interventions);
  add_server_options(*command, args->server, true, false);
  command->callback([args, prompt, file, table] {
    if (prompt->count() == 0 && file->count() == 0) {
      throw moe::Error("route needs a prompt: --prompt TEXT or --file PATH");
    }
    if (table->count() > 0 && !args->as_csv) {
      throw moe::Error("--table chooses a CSV table: use it with --csv");
    }
    run_route(*args);
  });
}

}  // namespace moescope::cli
