#pragma once
// The routing sources that are not a local model: an SGLang server (--server URL) or an imported
// trace file. The model's shape comes from --model-config (its Hugging Face config.json) or from
// --layers / --top-k (and --experts); the commands that take a server share these options and the
// writers of the imported trace (a table, route JSON, CSV).
#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "intervention_options.hpp"
#include "moe/engine_routing.hpp"
#include "moe/routing_data.hpp"

namespace moescope::cli {

struct ServerSourceArgs {
  std::string server_url;
  std::string model_config;
  int layers = 0;
  int top_k = 0;
  int experts = 0;
  double timeout_s = 600;
};

// --server (unless `with_server` is false: import takes only the shape), --model-config,
// --layers, --top-k (unless `with_top_k` is false: route and generate have an intervention
// --top-k, which names the served model's top-k when --server is given), --experts, --timeout.
void add_server_options(CLI::App& command, ServerSourceArgs& args, bool with_server = true,
                        bool with_top_k = true);
// True when none of the routing-intervention flags was given (a server routes by itself).
bool no_interventions(const InterventionOptions& options);
bool uses_server(const ServerSourceArgs& args);
// The shape the options give, nullopt when none (a vLLM array or .npy then speaks for itself);
// throws moe::Error when they are incomplete (--layers without --top-k) or contradict each other.
std::optional<moe::TraceShape> shape_from_options(const ServerSourceArgs& args);
// The same, but required (a server's answer holds no shape).
moe::TraceShape required_shape(const ServerSourceArgs& args);

// `prompt` routed on the server (max_new_tokens 0: the prompt alone).
moe::ImportedTrace route_on_server(const ServerSourceArgs& args, const std::string& prompt,
                                   int max_new_tokens = 0, double temperature = 0);
// Several prompts, each from an empty context, pooled as one trace (positions one prompt after
// the other); `labels` gets each token's display text.
moe::RoutingTrace route_prompts_on_server(const ServerSourceArgs& args,
                                          const std::vector<std::string>& prompts,
                                          std::vector<std::string>* labels = nullptr);

// The route JSON of an imported trace (moe::routing_to_json), tokens [first_token, end).
nlohmann::json imported_routing_json(const moe::ImportedTrace& imported, int first_token = 0);
// A readable table: per token the chosen experts at each MoE layer, then the load.
void write_imported_table(std::ostream& out, const moe::ImportedTrace& imported,
                          int first_token = 0);

}  // namespace moescope::cli
