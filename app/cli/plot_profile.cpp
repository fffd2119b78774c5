#include "plot_profile.hpp"

#include "moe/corpus_profile_file.hpp"
#include "moe/corpus_profile_metrics.hpp"
#include "moe/error.hpp"
#include "moe/plot/profile_figures.hpp"

namespace moescope::cli {

bool is_profile_kind(const std::string& kind) { return kind == "cache" || kind == "repetition"; }

void plot_profile(const std::string& profile_path, const std::string& kind,
                  std::optional<int> layer, const FigureOutputArgs& output) {
  const moe::plot::ExportOptions options = figure_export_options(output);
  if (!is_profile_kind(kind)) {
    throw moe::Error("--profile draws --kind cache or repetition, not " + kind);
  }
  const moe::CorpusProfile profile = moe::read_corpus_profile(profile_path);
  const moe::ProfileMetrics metrics = moe::profile_metrics(profile, 0.5);
  if (kind == "repetition") {
    write_figure(moe::plot::repetition_figure(metrics), output.out_path, options);
    return;
  }
  bool found = false;
  for (const moe::ProfileLayerMetrics& layer_metrics : metrics.layers) {
    if (layer && *layer != layer_metrics.layer) continue;
    found = true;
    const auto figure = moe::plot::expert_cache_figure(layer_metrics, profile.model.top_k);
    write_figure(figure, layer ? std::filesystem::path(output.out_path)
                               : with_layer_suffix(output.out_path, layer_metrics.layer),
                 options);
  }
  if (!found) throw moe::Error("--layer " + std::to_string(layer.value_or(-1)) + " is not a MoE layer of the profile");
}

}  // namespace moescope::cli
