// `moescope-cli route MODEL --prompt TEXT [--json | --csv]`: the routing trace of a prompt.
#include <iostream>

#include "cli_common.hpp"
#include "moe/error.hpp"
#include "moe/session.hpp"

namespace moescope::cli {

namespace {

struct RouteArgs {
  std::string model_path;
  std::string prompt;
  std::string prompt_file;
  bool as_json = false;
  bool as_csv = false;
  bool no_bos = false;
  int threads = 0;
};

void run_route(const RouteArgs& args) {
  const LoadedModel loaded = load_model(args.model_path);
  const std::string text = args.prompt_file.empty() ? args.prompt : read_text_file(args.prompt_file);
  const std::vector<int32_t> ids = encode_prompt(loaded, text, !args.no_bos);
  if (ids.empty()) throw moe::Error("the prompt is empty: give some text with --prompt");

  moe::Session session(loaded.model, make_cpu_backend(args.threads));
  session.set_tokens(ids);
  if (args.as_json) {
    std::cout << dump_json(routing_json(loaded, ids, session.trace())) << "\n";
  } else if (args.as_csv) {
    write_routing_csv(std::cout, loaded, ids, session.trace());
  } else {
    write_routing_table(std::cout, loaded, ids, session.trace());
  }
}

}  // namespace

void register_route(CLI::App& app) {
  auto args = std::make_shared<RouteArgs>();
  auto* command = app.add_subcommand("route", "Run a prompt and print which experts each token chose at every MoE layer");
  command->add_option("MODEL", args->model_path, "GGUF model file")->required();
  auto* prompt = command->add_option("--prompt,-p", args->prompt, "Prompt text");
  auto* file = command->add_option("--file,-f", args->prompt_file, "Read the prompt from a file");
  prompt->excludes(file);
  command->add_flag("--no-bos", args->no_bos, "Do not put the BOS token first");
  auto* json = command->add_flag("--json", args->as_json, "Print the trace as JSON");
  auto* csv = command->add_flag("--csv", args->as_csv, "Print one CSV row per (token, layer, expert)");
  json->excludes(csv);
  add_threads_option(*command, args->threads);
  command->callback([args, prompt, file] {
    if (prompt->count() == 0 && file->count() == 0) {
      throw moe::Error("route needs a prompt: --prompt TEXT or --file PATH");
    }
    run_route(*args);
  });
}

}  // namespace moescope::cli
