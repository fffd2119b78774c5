// `moescope-cli ppl MODEL --file TEXT [--ctx N] [--threads T] [--json]`: how well a model
// predicts a text: the tokens are cut into consecutive windows of the context size, every token
// after the first of a window is scored with Session::token_nll, and the mean negative
// log-likelihood (nats per token), the perplexity and bits per byte are printed. With routing
// interventions the unchanged model is scored beside the changed one (both perplexities, the
// mean KL(unchanged || changed) over the scored positions and the load balance of both).
#include <cmath>
#include <iomanip>
#include <iostream>

#include "cli_common.hpp"
#include "intervention_options.hpp"
#include "moe/error.hpp"
#include "moe/session.hpp"

namespace moescope::cli {

namespace {

struct PplArgs {
  std::string model_path;
  std::string text_path;
  int ctx = 0;
  int threads = 0;
  BackendChoice backend;
  bool add_bos = true;
  bool as_json = false;
  InterventionOptions interventions;
};

// Both models over every window: NLL sums, KL sum and per-layer slot counts.
struct PplComparison {
  double base_nll = 0, changed_nll = 0, kl_sum = 0;
  int64_t kl_positions = 0;
  std::vector<std::vector<int64_t>> base_counts, changed_counts;  // [moe index][expert]
  std::vector<int> layers;
  std::vector<int64_t> dropped;

  void add(const moe::InterventionEffect& effect) {
    for (float nll : effect.base.token_nll) base_nll += nll;
    for (float nll : effect.changed.token_nll) changed_nll += nll;
    // The last position predicts past the window: not scored, not compared.
    for (size_t i = 0; i + 1 < effect.position_kl.size(); ++i) kl_sum += effect.position_kl[i];
    kl_positions += static_cast<int64_t>(effect.position_kl.size()) - 1;
    const size_t n_moe = effect.base.stats.layers.size();
    if (layers.empty()) {
      base_counts.assign(n_moe, {});
      changed_counts.assign(n_moe, {});
      dropped.assign(n_moe, 0);
      for (const moe::LayerLoad& load : effect.base.stats.layers) layers.push_back(load.layer);
    }
    for (size_t m = 0; m < n_moe; ++m) {
      accumulate(base_counts[m], effect.base.stats.layers[m].token_counts);
      accumulate(changed_counts[m], effect.changed.stats.layers[m].token_counts);
      dropped[m] += effect.changed.stats.layers[m].dropped;
    }
  }
  static void accumulate(std::vector<int64_t>& sum, const std::vector<int64_t>& counts) {
    sum.resize(counts.size(), 0);
    for (size_t e = 0; e < counts.size(); ++e) sum[e] += counts[e];
  }
};

void run_ppl(const PplArgs& args) {
  const LoadedModel loaded = load_model(args.model_path);
  const std::string text = read_text_file(args.text_path);
  const std::vector<int32_t> ids = encode_prompt(loaded, text, args.add_bos);
  if (ids.size() < 2)
    throw moe::Error(args.text_path + ": the text has fewer than 2 tokens, nothing to score");
  const int n_ctx = args.ctx > 0 ? args.ctx : loaded.model->config().n_ctx_train;
  if (n_ctx < 2) throw moe::Error("--ctx must be at least 2");

  const moe::RoutingInterventions interventions =
      make_interventions(args.interventions, loaded.model->config());
  const std::shared_ptr<moe::Backend> backend = make_backend(args.backend, args.threads);
  moe::SessionOptions options;
  options.n_ctx = n_ctx;
  options.capture_routing = false;
  moe::Session session(loaded.model, backend, options);
  double total_nll = 0;
  int64_t scored = 0, windows = 0;
  PplComparison comparison;
  for (size_t start = 0; start + 1 < ids.size(); start += static_cast<size_t>(n_ctx)) {
    const size_t count = std::min(ids.size() - start, static_cast<size_t>(n_ctx));
    if (count < 2) break;
    const auto window = std::span(ids).subspan(start, count);
    if (interventions.empty()) {
      for (float nll : session.token_nll(window)) total_nll += nll;
    } else {
      comparison.add(moe::measure_intervention_effect(loaded.model, backend, window, interventions));
    }
    scored += static_cast<int64_t>(count) - 1;
    ++windows;
  }
  if (!interventions.empty()) total_nll = comparison.changed_nll;
  const double mean = total_nll / static_cast<double>(scored);
  const double bits_per_byte = total_nll / std::log(2.0) / static_cast<double>(text.size());
  const double base_mean = comparison.base_nll / static_cast<double>(scored);
  const double mean_kl =
      comparison.kl_positions > 0 ? comparison.kl_sum / static_cast<double>(comparison.kl_positions) : 0;
  if (args.as_json) {
    nlohmann::json json{{"model", loaded.model->path().string()},
                        {"file", args.text_path},
                        {"bytes", text.size()},
                        {"tokens", ids.size()},
                        {"scored_tokens", scored},
                        {"windows", windows},
                        {"ctx", n_ctx},
                        {"mean_nll", mean},
                        {"perplexity", std::exp(mean)},
                        {"bits_per_byte", bits_per_byte}};
    if (!interventions.empty()) {
      nlohmann::json balance = nlohmann::json::array();
      for (size_t m = 0; m < comparison.layers.size(); ++m) {
        const BalanceFigures a = balance_of(comparison.base_counts[m]);
        const BalanceFigures b = balance_of(comparison.changed_counts[m]);
        balance.push_back({{"layer", comparison.layers[m]},
                           {"unchanged", {{"cv", a.cv}, {"max_over_mean", a.max_over_mean},
                                          {"token_counts", comparison.base_counts[m]}}},
                           {"changed", {{"cv", b.cv}, {"max_over_mean", b.max_over_mean},
                                        {"token_counts", comparison.changed_counts[m]},
                                        {"dropped", comparison.dropped[m]}}}});
      }
      json["interventions"] = moe::interventions_to_json(interventions);
      json["unchanged"] = {{"mean_nll", base_mean}, {"perplexity", std::exp(base_mean)}};
      json["mean_kl"] = mean_kl;
      json["balance"] = balance;
    }
    std::cout << dump_json(json, 2) << "\n";
    return;
  }
  std::cout << std::fixed << "file:        " << args.text_path << " (" << text.size() << " bytes)\n"
            << "tokens:      " << ids.size() << " (" << scored << " scored in " << windows
            << " windows of up to " << n_ctx << ")\n"
            << "mean NLL:    " << std::setprecision(4) << mean << " nats/token\n"
            << "perplexity:  " << std::setprecision(3) << std::exp(mean) << "\n"
            << "bits/byte:   " << std::setprecision(4) << bits_per_byte << "\n";
  if (interventions.empty()) return;
  std::cout << "\ninterventions: " << interventions.describe() << "\n"
            << "unchanged:   perplexity " << std::setprecision(3) << std::exp(base_mean)
            << " (mean NLL " << std::setprecision(4) << base_mean << "); changed is "
            << std::showpos << std::setprecision(1)
            << 100 * (std::exp(mean) / std::exp(base_mean) - 1) << std::noshowpos << "%\n"
            << "KL(unchanged || changed): " << std::setprecision(4) << mean_kl
            << " nats per scored position\n"
            << "load balance, unchanged -> changed (cv of tokens per expert, max/mean; dropped "
               "slots):\n";
  for (size_t m = 0; m < comparison.layers.size(); ++m) {
    const BalanceFigures a = balance_of(comparison.base_counts[m]);
    const BalanceFigures b = balance_of(comparison.changed_counts[m]);
    std::cout << "  L" << comparison.layers[m] << std::setprecision(2) << "  cv " << a.cv << " -> "
              << b.cv << "  max/mean " << a.max_over_mean << " -> " << b.max_over_mean
              << "  dropped " << comparison.dropped[m] << "\n";
  }
}

}  // namespace

void register_ppl(CLI::App& app) {
  auto args = std::make_shared<PplArgs>();
  auto* command = app.add_subcommand("ppl", "Perplexity of a model on a text file");
  add_model_argument(*command, args->model_path);
  command->add_option("--file", args->text_path, "Text file to score")->required();
  command
      ->add_option("--ctx", args->ctx,
                   "Window size in tokens (default: the model's context length)")
      ->check(CLI::Range(2, 1 << 20));
  command->add_flag("!--no-bos", args->add_bos, "Do not put BOS before the text");
  command->add_flag("--json", args->as_json, "Print the numbers as JSON");
  add_threads_option(*command, args->threads);
  add_backend_options(*command, args->backend);
  add_intervention_options(*command, args->interventions);
  command->callback([args] { run_ppl(*args); });
}

}  // namespace moescope::cli
