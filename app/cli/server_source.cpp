#include "server_source.hpp"

#include <iomanip>

#include "moe/error.hpp"
#include "moe/routing_stats.hpp"
#include "moe/sglang_client.hpp"
#include "moe/token_display.hpp"

namespace moescope::cli {

bool no_interventions(const InterventionOptions& options) {
  return options.top_k == 0 && options.top_k_at.empty() && options.disabled.empty() &&
         options.pins.empty() && options.routing == "topk" && options.temperature == 1.0 &&
         options.noise == 0.0 && options.scoring == "model" && options.expert_bias.empty();
}

void add_server_options(CLI::App& command, ServerSourceArgs& args, bool with_server,
                        bool with_top_k) {
  if (with_server) {
    command.add_option("--server", args.server_url,
                       "Route on an SGLang server started with --enable-return-routed-experts "
                       "(e.g. http://gpu-node:30000) instead of a local model");
    command.add_option("--timeout", args.timeout_s, "Seconds to wait for the server's answer")
        ->check(CLI::Range(1.0, 86400.0));
  }
  command.add_option("--model-config", args.model_config,
                     "The served model's Hugging Face config.json (layers, experts, top-k, dense "
                     "layers)");
  command
      .add_option("--layers", args.layers,
                  "The served model's layer count (without --model-config)")
      ->check(CLI::Range(1, 4096));
  if (with_top_k) {
    command.add_option("--top-k", args.top_k, "Experts chosen per token (without --model-config)")
        ->check(CLI::Range(1, 65536));
  }
  command
      .add_option("--experts", args.experts,
                  "Routed experts per layer (without --model-config; default: the largest id + 1)")
      ->check(CLI::Range(1, 65536));
}

bool uses_server(const ServerSourceArgs& args) { return !args.server_url.empty(); }

std::optional<moe::TraceShape> shape_from_options(const ServerSourceArgs& args) {
  return moe::trace_shape_from_user(args.model_config, args.layers, args.top_k, args.experts);
}

moe::TraceShape required_shape(const ServerSourceArgs& args) {
  std::optional<moe::TraceShape> shape = shape_from_options(args);
  if (!shape)
    throw moe::Error(
        "the server does not say the model's shape: give --model-config (the "
        "model's config.json) or --layers N --top-k K");
  return *shape;
}

moe::ImportedTrace route_on_server(const ServerSourceArgs& args, const std::string& prompt,
                                   int max_new_tokens, double temperature) {
  moe::HttpOptions options;
  options.timeout_s = args.timeout_s;
  moe::ImportedTrace routed = moe::sglang_route(
      args.server_url, {prompt, max_new_tokens, temperature}, required_shape(args), options);
  return routed;
}

moe::RoutingTrace route_prompts_on_server(const ServerSourceArgs& args,
                                          const std::vector<std::string>& prompts,
                                          std::vector<std::string>* labels) {
  moe::RoutingTrace pooled;
  int offset = 0, routed = 0;
  for (const std::string& prompt : prompts) {
    if (prompt.empty()) continue;
    const moe::ImportedTrace one = route_on_server(args, prompt);
    const moe::RoutingTrace& trace = one.trace;
    if (routed++ == 0) {
      pooled =
          moe::RoutingTrace(trace.n_layer(), trace.n_expert(), trace.top_k(), trace.moe_layers());
      pooled.set_chosen_experts_only(true);
    }
    for (int t = 0; t < trace.n_tokens(); ++t) {
      for (int layer : trace.moe_layers()) pooled.set(offset + t, layer, trace.at(t, layer));
      if (labels) labels->push_back(moe::terminal_text(one.tokens[static_cast<size_t>(t)].text));
    }
    offset += trace.n_tokens();
  }
  if (routed == 0) throw moe::Error("every prompt was empty: nothing to route");
  return pooled;
}

nlohmann::json imported_routing_json(const moe::ImportedTrace& imported, int first_token) {
  const moe::RoutingTrace& trace = imported.trace;
  moe::RoutingModelInfo model{imported.model, imported.source,
                              trace.chosen_experts_only() ? "server" : "imported", trace.n_layer()};
  std::vector<moe::RoutingTokenInfo> tokens(imported.tokens.begin() + first_token,
                                            imported.tokens.end());
  nlohmann::json json = moe::routing_to_json(model, tokens, trace, first_token);
  json["source"] = imported.source;
  json["prompt_tokens"] = imported.prompt_tokens;
  if (!imported.completion.empty()) json["text"] = imported.completion;
  return json;
}

void write_imported_table(std::ostream& out, const moe::ImportedTrace& imported, int first_token) {
  const moe::RoutingTrace& trace = imported.trace;
  out << "Routing from " << imported.source << ": " << trace.n_tokens() - first_token << " tokens, "
      << trace.moe_layers().size() << " MoE layers, " << trace.n_expert() << " experts, top-"
      << trace.top_k() << "\n";
  if (trace.chosen_experts_only()) {
    out << "Each cell: the chosen experts as e<id>, in the server's order ("
        << moe::kChosenExpertsOnlyNote << ").\n\n";
  } else {
    out << "Each cell: chosen experts as e<id>:<gate weight>, highest router score first.\n\n";
  }
  for (int t = first_token; t < trace.n_tokens(); ++t) {
    const moe::RoutingTokenInfo& token = imported.tokens[static_cast<size_t>(t)];
    out << std::setw(4) << t << "  " << std::setw(6) << token.id << "  '"
        << moe::terminal_text(token.text) << "'";
    for (int layer : trace.moe_layers()) {
      const moe::RoutingRecord& record = trace.at(t, layer);
      out << " | L" << layer << ":";
      for (size_t j = 0; j < record.experts.size(); ++j) {
        out << " e" << record.experts[j];
        if (!trace.chosen_experts_only())
          out << ":" << std::fixed << std::setprecision(2) << record.weights[j];
      }
    }
    out << "\n";
  }
  const moe::RoutingStats stats = moe::compute_routing_stats(trace, first_token);
  out << "\nExpert load (tokens per expert) per layer:\n";
  for (const moe::LayerLoad& load : stats.layers) {
    out << "  L" << load.layer << ":";
    for (int64_t count : load.token_counts) out << " " << count;
    out << "   (cv " << std::fixed << std::setprecision(2) << load.cv << ")\n";
  }
}

}  // namespace moescope::cli
