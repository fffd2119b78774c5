// `moescope-cli import FILE [--model-config F | --layers N --top-k K] [--out T.json]
// [--profile P.moeprofile] [--csv]`: reads routing that another program recorded (an SGLang
// /generate answer, vLLM's routed_experts, a .npy array of expert ids, the moescope-trace format
// of docs/trace-import.md, or a route --json file), checks it against the model's shape, prints
// it as route does, and writes it as a route --json document (which the app, plot --trace and
// import itself open) and/or as a corpus profile for profile-report and plot --profile.
#include <iostream>
#include <sstream>

#include "cli_common.hpp"
#include "moe/atomic_file.hpp"
#include "moe/corpus_profile.hpp"
#include "moe/corpus_profile_file.hpp"
#include "moe/error.hpp"
#include "moe/routing_stats.hpp"
#include "server_source.hpp"

namespace moescope::cli {

namespace {

struct ImportArgs {
  std::string trace_path;
  std::string out_path;
  std::string profile_path;
  bool as_json = false;
  bool as_csv = false;
  ServerSourceArgs shape;
};

void write_profile(const moe::ImportedTrace& imported, const std::string& path) {
  moe::ProfileModel model = moe::profile_model_of(imported.trace);
  model.name = imported.model.empty() ? imported.source : imported.model;
  model.architecture = imported.trace.chosen_experts_only() ? "server" : "imported";
  moe::CorpusProfile profile = moe::make_corpus_profile(model);
  profile.source = imported.source;
  std::vector<int32_t> ids;
  for (const moe::RoutingTokenInfo& token : imported.tokens) ids.push_back(token.id);
  moe::add_routing(profile, imported.trace, ids, "");
  profile.documents = 1;
  moe::write_corpus_profile(path, profile);
}

void run_import(const ImportArgs& args) {
  const moe::ImportedTrace imported =
      moe::import_trace_file(args.trace_path, shape_from_options(args.shape));
  if (!args.out_path.empty())
    moe::write_file_atomically(args.out_path, dump_json(imported_routing_json(imported)) + "\n");
  if (!args.profile_path.empty()) write_profile(imported, args.profile_path);
  std::ostringstream out;
  if (args.as_json) {
    out << dump_json(imported_routing_json(imported)) << "\n";
  } else if (args.as_csv) {
    moe::write_routing_csv(out, imported.tokens, imported.trace);
  } else if (args.out_path.empty() && args.profile_path.empty()) {
    write_imported_table(out, imported);
  } else {
    out << "Imported " << imported.trace.n_tokens() << " tokens x "
        << imported.trace.moe_layers().size() << " MoE layers (top-" << imported.trace.top_k()
        << " of " << imported.trace.n_expert() << " experts) from " << imported.source
        << (imported.trace.chosen_experts_only() ? " (chosen experts only)" : "") << "\n";
  }
  std::cout << out.str();
}

}  // namespace

void register_import(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  auto* command = app.add_subcommand(
      "import",
      "Read routing recorded elsewhere (SGLang, vLLM, .npy, moescope-trace JSON) and "
      "write it as a moescope trace or profile");
  command->add_option("trace", args->trace_path, "The file to import")->required();
  command->add_option("--out,-o", args->out_path,
                      "Write the trace as route --json (the app's File > Import trace opens it)");
  command->add_option("--profile", args->profile_path,
                      "Write a corpus profile (.moeprofile) of the trace for profile-report");
  auto* json = command->add_flag("--json", args->as_json, "Print the trace as route --json");
  auto* csv = command->add_flag("--csv", args->as_csv, "Print one CSV row per chosen expert");
  json->excludes(csv);
  add_server_options(*command, args->shape, false);
  command->callback([args] { run_import(*args); });
}

}  // namespace moescope::cli
