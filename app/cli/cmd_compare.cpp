// `moescope-cli compare MODEL --prompt A --prompt-b B [--out fig.png] [--json]`: where two
// prompts load the experts differently (per layer and expert, B's share of the routing slots
// minus A's; as a diverging heatmap with --out), and what each cost in parameters and FLOPs
// against a dense model of the same total size (the compute counter).
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli_common.hpp"
#include "figure_output.hpp"
#include "moe/error.hpp"
#include "moe/expert_insights.hpp"
#include "moe/plot/comparison_figures.hpp"
#include "moe/session.hpp"

namespace moescope::cli {

namespace {

struct CompareArgs {
  std::string model_path;
  std::string prompt_a;
  std::string prompt_b;
  bool as_json = false;
  bool no_bos = false;
  int threads = 0;
  FigureOutputArgs figure;
};

std::string short_count(double value) {
  const char* suffixes[] = {"", "K", "M", "G", "T"};
  int i = 0;
  while (std::abs(value) >= 1000 && i < 4) {
    value /= 1000;
    ++i;
  }
  return fixed(value, value < 10 ? 2 : value < 100 ? 1 : 0) + suffixes[i];
}

nlohmann::json compute_json(const moe::ComputeCount& count) {
  return {{"tokens", count.tokens},
          {"total_parameters", count.total_parameters},
          {"active_parameters_per_token", count.active_parameters_per_token},
          {"mean_active_experts", count.mean_active_experts},
          {"moe_flops", count.moe_flops},
          {"dense_flops", count.dense_flops},
          {"attention_flops", count.attention_flops}};
}

void print_compute(const std::string& name, const moe::ComputeCount& count) {
  std::cout << "  " << name << ": " << count.tokens << " tokens, "
            << fixed(count.mean_active_experts, 2) << " experts per token and layer, "
            << short_count(count.active_parameters_per_token) << " of "
            << short_count(static_cast<double>(count.total_parameters))
            << " parameters active per token ("
            << fixed(100.0 * count.active_parameters_per_token /
                         static_cast<double>(count.total_parameters),
                     1)
            << "%); " << short_count(count.moe_flops) << " FLOPs vs "
            << short_count(count.dense_flops) << " for a dense model of the same size ("
            << fixed(100.0 * count.moe_flops / std::max(count.dense_flops, 1.0), 1) << "%)\n";
}

void run_compare(const CompareArgs& args) {
  const bool write_image = !args.figure.out_path.empty();
  moe::plot::ExportOptions export_options;
  if (write_image) export_options = figure_export_options(args.figure);  // fail early
  const LoadedModel loaded = load_model(args.model_path);
  const std::shared_ptr<moe::Backend> backend = make_cpu_backend(args.threads);

  struct Routed {
    moe::RoutingTrace trace;
    int first = 0;
  };
  const auto route = [&](const std::string& text, const char* option) {
    std::vector<int32_t> ids = encode_prompt(loaded, text, !args.no_bos);
    cut_to_context(ids, session_context(loaded));
    const int first =
        (!args.no_bos && !ids.empty() && ids.front() == loaded.tokenizer->bos_id()) ? 1 : 0;
    if (static_cast<int>(ids.size()) <= first)
      throw moe::Error(std::string(option) + " is empty: give some text");
    moe::Session session(loaded.model, backend);
    session.set_tokens(ids);
    return Routed{session.trace(), first};
  };
  // BOS is left out of both: it is the same token at the same place.
  const Routed a = route(args.prompt_a, "--prompt");
  const Routed b = route(args.prompt_b, "--prompt-b");
  const moe::LoadComparison comparison = moe::compare_load(a.trace, b.trace, a.first, b.first);
  const moe::ComputeCount compute_a = moe::count_compute(*loaded.model, a.trace, a.first);
  const moe::ComputeCount compute_b = moe::count_compute(*loaded.model, b.trace, b.first);

  if (args.as_json) {
    nlohmann::json layers = nlohmann::json::array();
    for (size_t m = 0; m < comparison.layers.size(); ++m) {
      layers.push_back({{"layer", comparison.layers[m]},
                        {"share_a", comparison.share_a[m]},
                        {"share_b", comparison.share_b[m]},
                        {"difference", comparison.difference[m]}});
    }
    std::cout << dump_json({{"model", loaded.model->path().string()},
                            {"prompt_a", args.prompt_a},
                            {"prompt_b", args.prompt_b},
                            {"tokens_a", comparison.tokens_a},
                            {"tokens_b", comparison.tokens_b},
                            {"max_abs_difference", comparison.max_abs_difference},
                            {"layers", layers},
                            {"compute",
                             {{"a", compute_json(compute_a)}, {"b", compute_json(compute_b)}}}},
                           2)
              << "\n";
  } else {
    std::cout << "Load difference, B - A, in percentage points of each layer's routing slots "
                 "(A: "
              << comparison.tokens_a << " tokens, B: " << comparison.tokens_b << "):\n      ";
    const size_t n_expert = comparison.difference.empty() ? 0 : comparison.difference[0].size();
    for (size_t e = 0; e < n_expert; ++e) std::cout << std::setw(7) << ("E" + std::to_string(e));
    std::cout << "\n";
    for (size_t m = 0; m < comparison.layers.size(); ++m) {
      std::cout << "  L" << std::setw(2) << std::left << comparison.layers[m] << std::right;
      for (double difference : comparison.difference[m])
        std::cout << std::setw(7) << fixed(100.0 * difference, 1);
      std::cout << "\n";
    }
    std::cout << "\nCompute counter (active vs total parameters, FLOPs for the whole prompt):\n";
    print_compute("A", compute_a);
    print_compute("B", compute_b);
  }
  if (write_image) {
    write_figure(moe::plot::load_difference_figure(comparison, args.prompt_a, args.prompt_b),
                 args.figure.out_path, export_options);
  }
}

}  // namespace

void register_compare(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  auto* command = app.add_subcommand(
      "compare", "Expert load of two prompts side by side (difference heatmap) and their compute");
  add_model_argument(*command, args->model_path);
  command->add_option("--prompt,-p", args->prompt_a, "Prompt A")->required();
  command->add_option("--prompt-b", args->prompt_b, "Prompt B")->required();
  command->add_flag("--json", args->as_json, "Print JSON");
  command->add_flag("--no-bos", args->no_bos, "Do not put the BOS token first");
  add_figure_output_options(*command, args->figure);
  // The heatmap is optional here: without --out only the numbers are printed.
  command->get_option("--out")->required(false)->description(
      "Write the difference heatmap to this image file (PNG/SVG/PDF)");
  add_threads_option(*command, args->threads);
  command->callback([args] { run_compare(*args); });
}

}  // namespace moescope::cli
