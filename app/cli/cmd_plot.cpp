// `moescope-cli plot MODEL (--prompt TEXT | --prompts FILE | --domains DIR) --kind KIND --out
// FILE`: runs the prompts (on the model, or on an SGLang server with --server URL; or plots a
// trace file with --trace FILE), builds the same plot::Figure the desktop app shows, and writes it
// as PNG, SVG or PDF with the cairo exporter. No display is needed.
//
// Kinds: load (expert load at --layer), heatmap (layer x expert utilization), layers (balance
// figures per MoE layer), path (the experts --token visited), coactivation and transitions (at
// --layer), domains (domain x expert load share, one file per MoE layer unless --layer is given);
// from a corpus profile (--profile P, no model run): cache (expert-cache hit rates) and
// repetition (consecutive-token repetition per layer), in plot_profile.cpp.
// With --prompts or --domains, every prompt runs from an empty context and their routing is
// pooled, as if the tokens of all prompts formed one long trace.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli_common.hpp"
#include "figure_output.hpp"
#include "moe/error.hpp"
#include "moe/plot/aggregate_figures.hpp"
#include "moe/plot/export.hpp"
#include "moe/plot/routing_figures.hpp"
#include "moe/routing_stats.hpp"
#include "moe/session.hpp"
#include "moe/token_display.hpp"
#include "plot_profile.hpp"
#include "prompt_sets.hpp"
#include "server_source.hpp"

namespace moescope::cli {

namespace {

namespace fs = std::filesystem;
namespace plot = moe::plot;

struct PlotArgs {
  std::string model_path;
  std::string prompt;
  std::string prompts_file;
  std::string domains_dir;
  std::string profile_path;
  std::string kind;
  std::optional<int> layer;  // unset: the first MoE layer (domains: every one)
  std::optional<int> token;  // unset: the last token
  FigureOutputArgs output;
  std::string measure = "tokens";
  bool normalize = false;
  bool no_bos = false;
  int threads = 0;
  std::string trace_path;  // an imported trace instead of a model run
  ServerSourceArgs server;
};

// Routing of several prompts, pooled into one trace (tokens one prompt after the other).
struct PooledRouting {
  moe::RoutingTrace trace;
  std::vector<std::string> labels;  // short display text per token
  int n_prompts = 0;
};

std::string token_label(const LoadedModel& loaded, int32_t id) {
  return printable_piece(*loaded.tokenizer, id);
}

PooledRouting route_prompts(const LoadedModel& loaded, moe::Session& session,
                            const std::vector<std::string>& prompts, bool add_bos) {
  PooledRouting pooled;
  int offset = 0;
  bool cut = false;
  for (const std::string& prompt : prompts) {
    std::vector<int32_t> ids = encode_prompt(loaded, prompt, add_bos);
    if (ids.empty()) continue;
    if (static_cast<int>(ids.size()) > session.n_ctx()) {
      ids.resize(static_cast<size_t>(session.n_ctx()));
      cut = true;
    }
    session.clear();
    session.set_tokens(ids);
    const moe::RoutingTrace& trace = session.trace();
    if (pooled.n_prompts == 0) {
      pooled.trace =
          moe::RoutingTrace(trace.n_layer(), trace.n_expert(), trace.top_k(), trace.moe_layers());
    }
    for (int t = 0; t < trace.n_tokens(); ++t) {
      for (int layer : trace.moe_layers()) pooled.trace.set(offset + t, layer, trace.at(t, layer));
      pooled.labels.push_back(token_label(loaded, ids[static_cast<size_t>(t)]));
    }
    offset += trace.n_tokens();
    ++pooled.n_prompts;
  }
  if (pooled.n_prompts == 0) throw moe::Error("every prompt was empty: nothing to plot");
  if (cut)
    std::cerr << "moescope-cli: note: prompts longer than " << session.n_ctx()
              << " tokens were cut\n";
  return pooled;
}

// Any --layer the user typed, negative too, is checked against the model's MoE layers, so the
// error names the valid ones.
int moe_index_for(const moe::RoutingTrace& trace, std::optional<int> layer_option) {
  if (trace.moe_layers().empty()) throw moe::Error("the model has no MoE layer to plot");
  if (!layer_option) return 0;
  const int layer = *layer_option;
  const int index = layer < 0 ? -1 : trace.moe_index(layer);
  if (index < 0) {
    std::string layers;
    for (int l : trace.moe_layers()) layers += (layers.empty() ? "" : ", ") + std::to_string(l);
    throw moe::Error("--layer " + std::to_string(layer) +
                     " is not a MoE layer (MoE layers: " + layers + ")");
  }
  return index;
}

void run_plot(const PlotArgs& args) {
  // Check the options (and the format the extension names) before running the model.
  const plot::ExportOptions options = figure_export_options(args.output);

  // Where the routing comes from: a local model, an SGLang server, or a trace file.
  const bool remote = uses_server(args.server) || !args.trace_path.empty();
  if (remote && !args.model_path.empty())
    throw moe::Error("plot takes a model file, --server URL or --trace FILE: one of them");
  std::shared_ptr<const LoadedModel> loaded;
  std::shared_ptr<moe::Session> session;
  if (!remote) {
    loaded = std::make_shared<const LoadedModel>(load_model(args.model_path));
    session = std::make_shared<moe::Session>(loaded->model, make_cpu_backend(args.threads));
  }
  const bool add_bos = !args.no_bos;
  // One domain's prompts, pooled (the BOS token left out locally, as `domains` does).
  auto pool_domain = [&](const std::vector<std::string>& prompts) {
    return remote ? route_prompts_on_server(args.server, prompts)
                  : route_pooled(*loaded, *session, prompts, add_bos);
  };

  if (args.kind == "domains") {
    if (args.domains_dir.empty()) throw moe::Error("--kind domains needs --domains DIR");
    if (!args.trace_path.empty())
      throw moe::Error("--kind domains routes prompt sets: use --server or a model");
    std::vector<plot::DomainStats> domains;
    moe::RoutingTrace shape;
    // Same pooling as `moescope-cli domains`, so the numbers agree.
    for (const moe::PromptSet& set : moe::read_prompt_sets(args.domains_dir)) {
      shape = pool_domain(set.prompts);
      domains.push_back({set.name, moe::compute_routing_stats(shape)});
    }
    const int top_k = shape.top_k();
    if (args.layer) {
      write_figure(plot::domain_expert_figure(domains, moe_index_for(shape, args.layer), top_k),
                   args.output.out_path, options);
    } else {
      for (size_t m = 0; m < shape.moe_layers().size(); ++m) {
        write_figure(plot::domain_expert_figure(domains, static_cast<int>(m), top_k),
                     with_layer_suffix(args.output.out_path, shape.moe_layers()[m]), options);
      }
    }
    return;
  }

  std::vector<std::string> prompts;
  if (!args.trace_path.empty()) {
    if (!args.prompt.empty() || !args.prompts_file.empty() || !args.domains_dir.empty())
      throw moe::Error(
          "--trace FILE is the routing to plot: leave out --prompt, --prompts and --domains");
  } else if (!args.prompt.empty()) {
    prompts.push_back(args.prompt);
  } else if (!args.prompts_file.empty()) {
    prompts = moe::read_prompt_file(args.prompts_file);
  } else {
    for (const moe::PromptSet& set : moe::read_prompt_sets(args.domains_dir)) {
      prompts.insert(prompts.end(), set.prompts.begin(), set.prompts.end());
    }
  }
  PooledRouting routed;
  if (!args.trace_path.empty()) {
    moe::ImportedTrace imported =
        moe::import_trace_file(args.trace_path, shape_from_options(args.server));
    routed.trace = std::move(imported.trace);
    for (const moe::RoutingTokenInfo& token : imported.tokens)
      routed.labels.push_back(moe::terminal_text(token.text));
    routed.n_prompts = 1;
  } else if (remote) {
    routed.trace = route_prompts_on_server(args.server, prompts, &routed.labels);
    routed.n_prompts = static_cast<int>(prompts.size());
  } else {
    routed = route_prompts(*loaded, *session, prompts, add_bos);
  }
  const moe::RoutingTrace& trace = routed.trace;
  const moe::RoutingStats stats = moe::compute_routing_stats(trace);
  const int moe_index = moe_index_for(trace, args.layer);

  if (trace.chosen_experts_only() && args.kind == "load" && args.measure == "gate")
    throw moe::Error(std::string("--measure gate needs gate weights: ") +
                     moe::kChosenExpertsOnlyNote);
  plot::Figure figure;
  if (args.kind == "load") {
    figure = plot::expert_load_figure(
        stats, moe_index,
        args.measure == "gate" ? plot::LoadMeasure::GateMass : plot::LoadMeasure::TokenCount);
  } else if (args.kind == "heatmap") {
    figure = plot::load_heatmap_figure(stats, trace.top_k());
  } else if (args.kind == "layers") {
    figure = plot::layer_balance_figure(stats, trace.n_expert());
  } else if (args.kind == "path") {
    const int token = args.token.value_or(trace.n_tokens() - 1);
    if (token < 0 || token >= trace.n_tokens()) {
      throw moe::Error("--token " + std::to_string(token) + " is not a token position (0 to " +
                       std::to_string(trace.n_tokens() - 1) + ")");
    }
    figure = plot::token_path_figure(trace, token, routed.labels[static_cast<size_t>(token)]);
  } else if (args.kind == "coactivation") {
    figure = plot::coactivation_figure(stats, moe_index);
  } else if (args.kind == "transitions") {
    const std::vector<int>& layers = trace.moe_layers();
    if (layers.size() < 2) throw moe::Error("transitions need two MoE layers; the model has one");
    if (moe_index + 1 >= static_cast<int>(layers.size())) {
      // The last MoE layer has no next one: say so rather than draw another pair of layers.
      std::string valid;
      for (size_t m = 0; m + 1 < layers.size(); ++m)
        valid += (valid.empty() ? "" : ", ") + std::to_string(layers[m]);
      throw moe::Error("--layer " + std::to_string(layers.back()) +
                       " is the last MoE layer: transitions go from a MoE layer to the next "
                       "one (valid --layer: " +
                       valid + ")");
    }
    figure = plot::transitions_figure(stats, moe_index, args.normalize);
  }
  if (routed.n_prompts > 1) {
    // The title already gives the token count.
    figure.notes.insert(figure.notes.begin(),
                        "pooled over " + std::to_string(routed.n_prompts) + " prompts");
  }
  write_figure(figure, args.output.out_path, options);
}

}  // namespace

void register_plot(CLI::App& app) {
  auto args = std::make_shared<PlotArgs>();
  auto* command = app.add_subcommand(
      "plot", "Run prompts and write a routing figure as PNG, SVG or PDF (no display needed)");
  add_model_argument(*command, args->model_path);
  auto* prompt = command->add_option("--prompt,-p", args->prompt, "One prompt");
  auto* prompts = command->add_option("--prompts", args->prompts_file,
                                      "A file of prompts, one per line, pooled");
  auto* domains = command->add_option(
      "--domains", args->domains_dir,
      "A folder of <domain>.txt prompt files (one prompt per line), e.g. assets/prompts");
  auto* profile = command->add_option(
      "--profile", args->profile_path,
      "A corpus profile (moescope-cli profile) to draw from instead of running the model");
  prompt->excludes(prompts)->excludes(domains)->excludes(profile);
  prompts->excludes(domains)->excludes(profile);
  domains->excludes(profile);
  command
      ->add_option("--kind,-k", args->kind,
                   "load | heatmap | layers | path | coactivation | transitions | domains; "
                   "with --profile also: cache | repetition | vocabulary | consistency | reap | "
                   "esft (not layers, path)")
      ->required()
      ->check(CLI::IsMember({"load", "heatmap", "layers", "path", "coactivation", "transitions",
                             "domains", "cache", "repetition", "vocabulary", "consistency",
                             "reap", "esft"}));
  add_figure_output_options(*command, args->output);
  command
      ->add_option("--layer", args->layer,
                   "Model layer for load, coactivation, transitions, domains (default: the "
                   "first MoE layer; for domains, and every per-layer kind with --profile: one "
                   "file per MoE layer)");
  command->add_option("--token", args->token, "Token position for path (default: the last token)");
  command->add_option("--measure", args->measure, "load: tokens (default) | gate (gate mass)")
      ->check(CLI::IsMember({"tokens", "gate"}));
  command->add_flag("--normalize", args->normalize, "transitions: rows as P(next expert | expert)");
  command->add_flag("--no-bos", args->no_bos, "Do not put the BOS token first");
  add_threads_option(*command, args->threads);
  command->add_option(
      "--trace", args->trace_path,
      "Plot a trace file instead of running prompts: moescope-cli import's "
      "output, a route --json file, an SGLang or vLLM answer, .npy, moescope-trace");
  add_server_options(*command, args->server);
  command->callback([args, prompt, prompts, domains, profile] {
    if (profile->count() > 0 || is_profile_kind(args->kind)) {
      if (profile->count() == 0) throw moe::Error("--kind " + args->kind + " needs --profile P");
      plot_profile({args->profile_path, args->kind, args->layer, args->measure == "gate",
                    args->normalize},
                   args->output);
      return;
    }
    if (prompt->count() + prompts->count() + domains->count() == 0 && args->trace_path.empty())
      throw moe::Error(
          "plot needs prompts: --prompt TEXT, --prompts FILE or --domains DIR (or --trace FILE)");
    run_plot(*args);
  });
}

}  // namespace moescope::cli
