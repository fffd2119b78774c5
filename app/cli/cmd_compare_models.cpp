// `moescope-cli compare-models A B (--data FILE|DIR | A and B .moeprofile) [--max-tokens N]
// [--out FIG] [--json] [--top N]`: two models or checkpoints of one shape on the same corpus.
// From two models: router saturation per MoE layer (OLMoE §5.1: the share of B's top-k set that
// A also chose, and top-1 agreement, on the same tokens), each model's load and the experts whose
// share changed most. From two profiles: the load comparison only (saturation needs both models'
// choices for every token). The figure is the load-difference heatmap, saturation in its notes.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli_common.hpp"
#include "corpus_progress.hpp"
#include "figure_output.hpp"
#include "moe/corpus_profile_file.hpp"
#include "moe/corpus_reader.hpp"
#include "moe/error.hpp"
#include "moe/model_comparison.hpp"
#include "moe/plot/comparison_figures.hpp"
#include "moe/session.hpp"

namespace moescope::cli {

namespace {

struct CompareModelsArgs {
  std::string path_a, path_b;
  std::string data_path;
  int64_t max_tokens = 0;
  int top = 10;
  bool as_json = false;
  bool quiet = false;
  int threads = 0;
  FigureOutputArgs figure;
};

bool is_profile_path(const std::string& path) {
  return std::filesystem::path(path).extension() == ".moeprofile";
}

// Routes the corpus through both models; Ctrl-C keeps what is done.
moe::CorpusComparison route_both(const CompareModelsArgs& args) {
  const LoadedModel a = load_model(args.path_a);
  const LoadedModel b = load_model(args.path_b);
  moe::Session session_a(a.model, make_cpu_backend(args.threads));
  moe::Session session_b(b.model, make_cpu_backend(args.threads));
  moe::CorpusComparison comparison = moe::make_corpus_comparison(
      model_identity(a, session_a), model_identity(b, session_b));
  comparison.a.source = comparison.b.source = args.data_path;
  const std::optional<int32_t> bos_a = bos_to_add(a, true), bos_b = bos_to_add(b, true);

  moe::CorpusReader reader(args.data_path);
  StopOnCtrlC stop;
  Progress progress(args.quiet, args.max_tokens);
  const auto total_bytes = static_cast<double>(std::max<uint64_t>(reader.total_bytes(), 1));
  int64_t tokens = 0;
  while (!stop.requested() && (args.max_tokens <= 0 || tokens < args.max_tokens)) {
    const std::optional<moe::CorpusDocument> document = reader.next();
    if (!document) break;
    std::vector<int32_t> ids = a.tokenizer->encode(document->text);
    if (bos_a) ids.insert(ids.begin(), *bos_a);
    std::vector<int32_t> ids_b = b.tokenizer->encode(document->text);
    if (bos_b) ids_b.insert(ids_b.begin(), *bos_b);
    if (ids != ids_b) {
      throw moe::Error("the two models tokenize the text differently, so their routing cannot "
                       "be compared token by token; compare checkpoints of one model, or two "
                       "profiles");
    }
    tokens += moe::compare_document(comparison, session_a, session_b, ids, document->domain);
    comparison.a.documents += 1;
    comparison.b.documents += 1;
    progress.update(tokens, static_cast<double>(reader.bytes_read()) / total_bytes);
  }
  progress.update(tokens, static_cast<double>(reader.bytes_read()) / total_bytes, true);
  if (stop.requested()) std::cerr << "Stopped: the comparison covers what was routed.\n";
  return comparison;
}

std::string label_of(const std::string& path) { return std::filesystem::path(path).stem().string(); }

void print_text(const moe::CorpusComparison& counts, const moe::ModelComparison& result,
                const std::string& label_a, const std::string& label_b) {
  std::cout << "A: " << label_a << " (" << counts.a.model.name << ")\nB: " << label_b << " ("
            << counts.b.model.name << ")\n"
            << counts.a.tokens << " tokens of " << counts.a.source << " (A), " << counts.b.tokens
            << " (B)\n\n";
  if (result.saturation.empty()) {
    std::cout << "Router saturation needs both models' choices for the same tokens: run "
                 "compare-models on the models with --data.\n";
  }
  std::cout << "layer  " << (result.saturation.empty() ? "" : "top-k overlap  top-1 agree  ")
            << "load distance (total variation)\n";
  for (size_t m = 0; m < result.load.layers.size(); ++m) {
    std::cout << std::setw(5) << result.load.layers[m] << "  ";
    if (!result.saturation.empty()) {
      std::cout << std::setw(13) << fixed(result.saturation[m].mean_overlap, 3) << "  "
                << std::setw(11) << fixed(result.saturation[m].top1_agreement, 3) << "  ";
    }
    std::cout << fixed(result.total_variation[m], 3) << "\n";
  }
  std::cout << "\nExperts whose share of the routing slots changed most (A -> B):\n";
  for (const moe::ExpertShift& shift : result.largest_shifts) {
    std::cout << "  layer " << shift.layer << " expert " << shift.expert << ": "
              << fixed(100 * shift.share_a, 1) << "% -> " << fixed(100 * shift.share_b, 1) << "% ("
              << (shift.share_b >= shift.share_a ? "+" : "") << fixed(100 * (shift.share_b - shift.share_a), 1)
              << " points)\n";
  }
}

nlohmann::json comparison_json(const moe::CorpusComparison& counts, const moe::ModelComparison& result) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t m = 0; m < result.load.layers.size(); ++m) {
    nlohmann::json layer{{"layer", result.load.layers[m]},
                         {"total_variation", result.total_variation[m]},
                         {"share_a", result.load.share_a[m]},
                         {"share_b", result.load.share_b[m]}};
    if (!result.saturation.empty()) {
      layer["saturation"] = {{"tokens", result.saturation[m].tokens},
                             {"mean_overlap", result.saturation[m].mean_overlap},
                             {"top1_agreement", result.saturation[m].top1_agreement}};
    }
    layers.push_back(std::move(layer));
  }
  nlohmann::json shifts = nlohmann::json::array();
  for (const moe::ExpertShift& shift : result.largest_shifts) {
    shifts.push_back({{"layer", shift.layer}, {"expert", shift.expert},
                      {"share_a", shift.share_a}, {"share_b", shift.share_b}});
  }
  return {{"a", {{"name", counts.a.model.name}, {"tokens", counts.a.tokens}}},
          {"b", {{"name", counts.b.model.name}, {"tokens", counts.b.tokens}}},
          {"source", counts.a.source},
          {"layers", layers},
          {"largest_shifts", shifts}};
}

void run_compare_models(const CompareModelsArgs& args) {
  const bool profiles = is_profile_path(args.path_a) && is_profile_path(args.path_b);
  if (!profiles && (is_profile_path(args.path_a) || is_profile_path(args.path_b))) {
    throw moe::Error("compare two models (with --data) or two profiles, not one of each");
  }
  if (profiles && !args.data_path.empty()) {
    throw moe::Error("--data routes a corpus through two models; two profiles already hold theirs");
  }
  if (!profiles && args.data_path.empty()) throw moe::Error("two models need --data FILE|DIR");
  std::optional<moe::plot::ExportOptions> export_options;
  if (!args.figure.out_path.empty()) export_options = figure_export_options(args.figure);

  const moe::CorpusComparison counts =
      profiles ? moe::corpus_comparison_of(moe::read_corpus_profile(args.path_a),
                                           moe::read_corpus_profile(args.path_b))
               : route_both(args);
  const moe::ModelComparison result = moe::compare_models(counts, args.top);
  const std::string label_a = label_of(args.path_a), label_b = label_of(args.path_b);
  if (args.as_json) {
    std::cout << dump_json(comparison_json(counts, result), 2) << "\n";
  } else {
    print_text(counts, result, label_a, label_b);
  }
  if (export_options) {
    moe::plot::Figure figure = moe::plot::load_difference_figure(result.load, label_a, label_b);
    if (!result.saturation.empty()) {
      std::string line = "router saturation (share of B's top-k that A chose too):";
      for (const moe::RouterSaturation& layer : result.saturation) {
        line += " L" + std::to_string(layer.layer) + " " + fixed(layer.mean_overlap, 2);
      }
      figure.notes.push_back(line);
    }
    write_figure(figure, args.figure.out_path, *export_options);
  }
}

}  // namespace

void register_compare_models(CLI::App& app) {
  auto args = std::make_shared<CompareModelsArgs>();
  auto* command = app.add_subcommand(
      "compare-models",
      "Two models or checkpoints on one corpus: router saturation, load difference, shifted experts");
  command->add_option("a", args->path_a, "Model A (.gguf) or profile A (.moeprofile)")->required();
  command->add_option("b", args->path_b, "Model B (.gguf) or profile B (.moeprofile)")->required();
  command->add_option("--data", args->data_path,
                      "Corpus for two models: text (a document per line), JSONL or a folder of "
                      "<domain>.txt");
  command->add_option("--max-tokens", args->max_tokens, "Stop after about this many tokens");
  command->add_option("--top", args->top, "Experts listed among the largest shifts (default 10)")
      ->check(CLI::Range(0, 100000));
  command->add_flag("--json", args->as_json, "Print JSON");
  command->add_flag("--quiet,-q", args->quiet, "No progress line");
  add_figure_output_options(*command, args->figure);
  command->get_option("--out")->required(false)->description(
      "Write the load-difference heatmap to this image file (PNG/SVG/PDF)");
  add_threads_option(*command, args->threads);
  command->callback([args] { run_compare_models(*args); });
}

}  // namespace moescope::cli
