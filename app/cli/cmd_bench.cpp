// `moescope-cli bench MODEL [--prompt-tokens N] [--gen N] [--threads T]`: prefill and decode
// speed, with routing capture on and off. Timings live here, never in tests.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <random>

#include "cli_common.hpp"
#include "moe/cpu_level.hpp"
#include "moe/error.hpp"
#include "moe/session.hpp"

namespace moescope::cli {

namespace {

struct BenchArgs {
  std::string model_path;
  int prompt_tokens = 128;
  int gen_tokens = 32;
  int repetitions = 2;
  int threads = 0;
  BackendChoice backend;
  bool as_json = false;
};

struct BenchResult {
  bool capture = false;
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Best of `repetitions` runs: the least disturbed by whatever else the machine does.
BenchResult measure(const LoadedModel& loaded, const std::shared_ptr<moe::Backend>& backend,
                    const std::vector<int32_t>& prompt, int gen_tokens, int repetitions, bool capture) {
  BenchResult result;
  result.capture = capture;
  moe::SessionOptions options;
  options.n_ctx = static_cast<int>(prompt.size()) + gen_tokens;
  options.capture_routing = capture;
  for (int r = 0; r < repetitions; ++r) {
    moe::Session session(loaded.model, backend, options);
    auto start = std::chrono::steady_clock::now();
    session.set_tokens(prompt);
    const double prefill_s = seconds_since(start);
    start = std::chrono::steady_clock::now();
    const auto generated = session.generate(gen_tokens, moe::SamplingOptions{});
    const double decode_s = seconds_since(start);
    result.prefill_tokens_per_s = std::max(result.prefill_tokens_per_s, static_cast<double>(prompt.size()) / prefill_s);
    if (!generated.empty()) {
      result.decode_tokens_per_s = std::max(result.decode_tokens_per_s, static_cast<double>(generated.size()) / decode_s);
    }
  }
  return result;
}

void run_bench(const BenchArgs& args) {
  const LoadedModel loaded = load_model(args.model_path);
  const moe::ModelConfig& config = loaded.model->config();
  const int needed = args.prompt_tokens + args.gen_tokens;
  const int room = config.n_ctx_train > 0 ? config.n_ctx_train : needed;
  if (needed > room) {
    throw moe::Error("--prompt-tokens + --gen = " + std::to_string(needed) +
                     " exceeds the model's context of " + std::to_string(room) + " tokens");
  }
  // A fixed pseudo-random prompt: same tokens every run, no tokenizer cost in the timing.
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> token(0, config.n_vocab - 1);
  std::vector<int32_t> prompt(static_cast<size_t>(args.prompt_tokens));
  for (int32_t& id : prompt) id = token(rng);

  const auto backend = make_backend(args.backend, args.threads);
  std::vector<BenchResult> results;
  for (bool capture : {true, false}) {
    results.push_back(measure(loaded, backend, prompt, args.gen_tokens, args.repetitions, capture));
  }

  if (args.as_json) {
    nlohmann::json runs = nlohmann::json::array();
    for (const BenchResult& r : results) {
      runs.push_back({{"routing_capture", r.capture},
                      {"prefill_tokens_per_s", r.prefill_tokens_per_s},
                      {"decode_tokens_per_s", r.decode_tokens_per_s}});
    }
    std::cout << dump_json({{"model", loaded.model->path().string()}, {"backend", backend->name()},
                            {"cpu_kernels", moe::cpu::simd_level_name(moe::cpu::active_simd_level())},
                            {"prompt_tokens", args.prompt_tokens}, {"gen_tokens", args.gen_tokens},
                            {"runs", runs}}, 2) << "\n";
    return;
  }
  std::cout << "Model    " << loaded.model->path().string() << " (" << config.n_layer << " layers, "
            << config.n_expert << " experts, top-" << config.n_expert_used << ")\n"
            << "Backend  " << describe_backend(*backend) << "\n"
            << "Prompt   " << args.prompt_tokens << " tokens, then " << args.gen_tokens
            << " generated (greedy), best of " << args.repetitions << "\n\n"
            << "routing capture   prefill tok/s   decode tok/s\n";
  for (const BenchResult& r : results) {
    std::cout << std::left << std::setw(18) << (r.capture ? "on" : "off") << std::right << std::fixed
              << std::setprecision(1) << std::setw(13) << r.prefill_tokens_per_s << std::setw(15)
              << r.decode_tokens_per_s << "\n";
  }
}

}  // namespace

void register_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* command = app.add_subcommand("bench", "Prefill and decode tokens/s, with routing capture on and off");
  add_model_argument(*command, args->model_path);
  command->add_option("--prompt-tokens", args->prompt_tokens, "Prompt length")->check(CLI::Range(1, 1 << 20));
  command->add_option("--gen", args->gen_tokens, "Tokens to generate")->check(CLI::Range(0, 1 << 20));
  command->add_option("--repeat", args->repetitions, "Runs per setting (best is reported)")->check(CLI::Range(1, 100));
  command->add_flag("--json", args->as_json, "Print JSON");
  add_threads_option(*command, args->threads);
  add_backend_options(*command, args->backend);
  command->callback([args] { run_bench(*args); });
}

}  // namespace moescope::cli
