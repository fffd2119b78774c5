#include "plot_profile.hpp"

#include <algorithm>
#include <functional>

#include "moe/corpus_profile_file.hpp"
#include "moe/corpus_profile_metrics.hpp"
#include "moe/error.hpp"
#include "moe/plot/aggregate_figures.hpp"
#include "moe/plot/profile_figures.hpp"
#include "moe/plot/routing_figures.hpp"
#include "moe/profile_stats.hpp"

namespace moescope::cli {

namespace plot = moe::plot;

namespace {

std::string layer_list(const std::vector<int>& layers) {
  std::string text;
  for (int layer : layers) text += (text.empty() ? "" : ", ") + std::to_string(layer);
  return text;
}

// Writes `figure_at(moe index)` for --layer, or one file per MoE layer in `layers` (suffix -L<l>).
void write_per_layer(const std::vector<int>& layers, const ProfilePlotRequest& request,
                     const FigureOutputArgs& output, const plot::ExportOptions& options,
                     const std::function<plot::Figure(int)>& figure_at) {
  const std::vector<int>& all = layers;
  if (request.layer) {
    const auto found = std::find(all.begin(), all.end(), *request.layer);
    if (found == all.end()) {
      throw moe::Error("--layer " + std::to_string(*request.layer) + " has no " + request.kind +
                       " figure in this profile (layers: " + layer_list(all) + ")");
    }
    write_figure(figure_at(static_cast<int>(found - all.begin())), output.out_path, options);
    return;
  }
  for (size_t m = 0; m < all.size(); ++m) {
    write_figure(figure_at(static_cast<int>(m)), with_layer_suffix(output.out_path, all[m]), options);
  }
}

}  // namespace

bool is_profile_kind(const std::string& kind) {
  return kind == "cache" || kind == "repetition" || kind == "vocabulary" || kind == "consistency" ||
         kind == "reap" || kind == "esft";
}

void plot_profile(const ProfilePlotRequest& request, const FigureOutputArgs& output) {
  const plot::ExportOptions options = figure_export_options(output);
  const std::string& kind = request.kind;
  if (kind == "layers" || kind == "path") {
    throw moe::Error("--kind " + kind + " needs router scores or single tokens, which a profile "
                     "does not keep; draw it from --prompt or --prompts");
  }
  const moe::CorpusProfile profile = moe::read_corpus_profile(request.profile_path);
  const moe::ProfileMetrics metrics = moe::profile_metrics(profile, 0.5);
  const moe::RoutingStats stats = moe::pooled_stats(profile);
  const std::vector<int>& layers = profile.model.moe_layers;
  const int top_k = profile.model.top_k, n_expert = profile.model.n_expert;
  const std::string pooled = "corpus profile: " + profile.source;  // the title gives the tokens

  if (kind == "repetition") return write_figure(plot::repetition_figure(metrics), output.out_path, options);
  if (kind == "vocabulary") {
    return write_figure(plot::vocabulary_figure(metrics, top_k, n_expert), output.out_path, options);
  }
  if (kind == "consistency") {
    if (layers.size() < 2) throw moe::Error("consistency needs two MoE layers; the profile has one");
    return write_figure(plot::consistency_figure(metrics), output.out_path, options);
  }
  if (kind == "esft") return write_figure(plot::esft_figure(metrics, n_expert), output.out_path, options);
  if (kind == "heatmap") {
    plot::Figure figure = plot::load_heatmap_figure(stats, top_k);
    figure.notes.insert(figure.notes.begin(), pooled);
    return write_figure(figure, output.out_path, options);
  }
  if (kind == "cache") {
    return write_per_layer(layers, request, output, options, [&](int m) {
      return plot::expert_cache_figure(metrics.layers[static_cast<size_t>(m)], top_k);
    });
  }
  if (kind == "reap") {
    return write_per_layer(layers, request, output, options, [&](int m) {
      return plot::reap_figure(metrics.layers[static_cast<size_t>(m)]);
    });
  }
  if (kind == "load") {
    const auto measure = request.gate_mass ? plot::LoadMeasure::GateMass : plot::LoadMeasure::TokenCount;
    return write_per_layer(layers, request, output, options, [&](int m) {
      plot::Figure figure = plot::expert_load_figure(stats, m, measure);
      figure.notes.insert(figure.notes.begin(), pooled);
      return figure;
    });
  }
  if (kind == "coactivation") {
    return write_per_layer(layers, request, output, options, [&](int m) {
      plot::Figure figure = plot::coactivation_figure(stats, m);
      figure.notes.insert(figure.notes.begin(), pooled);
      return figure;
    });
  }
  if (kind == "transitions") {
    if (layers.size() < 2) throw moe::Error("transitions need two MoE layers; the profile has one");
    const std::vector<int> from(layers.begin(), layers.end() - 1);  // the last has no next layer
    return write_per_layer(from, request, output, options, [&](int m) {
      return plot::transitions_figure(stats, m, request.normalize);
    });
  }
  if (kind == "domains") {
    const moe::ProfileDomains domains = moe::profile_domains(profile);
    if (domains.names.empty()) {
      throw moe::Error("the profile has no domain labels: profile a folder of <domain>.txt files "
                       "or JSONL with a \"domain\" field");
    }
    std::vector<plot::DomainStats> rows;
    for (size_t d = 0; d < domains.names.size(); ++d) rows.push_back({domains.names[d], domains.stats[d]});
    return write_per_layer(layers, request, output, options, [&](int m) {
      plot::Figure figure = plot::domain_expert_figure(rows, m, top_k);
      figure.notes.insert(figure.notes.begin(), pooled);
      return figure;
    });
  }
  throw moe::Error("--profile cannot draw --kind " + kind);
}

}  // namespace moescope::cli
