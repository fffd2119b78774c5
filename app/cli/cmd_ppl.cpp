// `moescope-cli ppl MODEL --file TEXT [--ctx N] [--threads T] [--json]`: how well a model
// predicts a text: the tokens are cut into consecutive windows of the context size, every token
// after the first of a window is scored with Session::token_nll, and the mean negative
// log-likelihood (nats per token), the perplexity and bits per byte are printed.
#include <cmath>
#include <iomanip>
#include <iostream>

#include "cli_common.hpp"
#include "moe/error.hpp"
#include "moe/session.hpp"

namespace moescope::cli {

namespace {

struct PplArgs {
  std::string model_path;
  std::string text_path;
  int ctx = 0;
  int threads = 0;
  std::string backend = "cpu";
  bool add_bos = true;
  bool as_json = false;
};

void run_ppl(const PplArgs& args) {
  const LoadedModel loaded = load_model(args.model_path);
  const std::string text = read_text_file(args.text_path);
  const std::vector<int32_t> ids = encode_prompt(loaded, text, args.add_bos);
  if (ids.size() < 2)
    throw moe::Error(args.text_path + ": the text has fewer than 2 tokens, nothing to score");
  const int n_ctx = args.ctx > 0 ? args.ctx : loaded.model->config().n_ctx_train;
  if (n_ctx < 2) throw moe::Error("--ctx must be at least 2");

  moe::SessionOptions options;
  options.n_ctx = n_ctx;
  options.capture_routing = false;
  moe::Session session(loaded.model, make_backend(args.backend, args.threads), options);
  double total_nll = 0;
  int64_t scored = 0, windows = 0;
  for (size_t start = 0; start + 1 < ids.size(); start += static_cast<size_t>(n_ctx)) {
    const size_t count = std::min(ids.size() - start, static_cast<size_t>(n_ctx));
    if (count < 2) break;
    for (float nll : session.token_nll(std::span(ids).subspan(start, count))) total_nll += nll;
    scored += static_cast<int64_t>(count) - 1;
    ++windows;
  }
  const double mean = total_nll / static_cast<double>(scored);
  const double bits_per_byte = total_nll / std::log(2.0) / static_cast<double>(text.size());
  if (args.as_json) {
    std::cout << dump_json(nlohmann::json{{"model", loaded.model->path().string()},
                                          {"file", args.text_path},
                                          {"bytes", text.size()},
                                          {"tokens", ids.size()},
                                          {"scored_tokens", scored},
                                          {"windows", windows},
                                          {"ctx", n_ctx},
                                          {"mean_nll", mean},
                                          {"perplexity", std::exp(mean)},
                                          {"bits_per_byte", bits_per_byte}},
                           2)
              << "\n";
    return;
  }
  std::cout << std::fixed << "file:        " << args.text_path << " (" << text.size() << " bytes)\n"
            << "tokens:      " << ids.size() << " (" << scored << " scored in " << windows
            << " windows of up to " << n_ctx << ")\n"
            << "mean NLL:    " << std::setprecision(4) << mean << " nats/token\n"
            << "perplexity:  " << std::setprecision(3) << std::exp(mean) << "\n"
            << "bits/byte:   " << std::setprecision(4) << bits_per_byte << "\n";
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
  add_backend_option(*command, args->backend);
  command->callback([args] { run_ppl(*args); });
}

}  // namespace moescope::cli
