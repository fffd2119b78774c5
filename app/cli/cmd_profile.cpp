// `moescope-cli profile (MODEL | --server URL --model-config F) --data FILE|DIR --out P.moeprofile
// [--max-tokens N] [--resume]`: routes every document of a corpus and keeps the counts the routing
// metrics need in a .moeprofile file (docs/moeprofile.md). Memory is bounded by the model and the
// vocabulary, not the corpus. Ctrl-C stops after the current document and writes what is done;
// --resume reads the profile at --out and continues after the documents it already counts.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli_common.hpp"
#include "moe/corpus_profile_file.hpp"
#include "moe/corpus_profiling.hpp"
#include "moe/corpus_reader.hpp"
#include "moe/error.hpp"
#include "moe/session.hpp"
#include "server_source.hpp"

namespace moescope::cli {

namespace {

struct ProfileArgs {
  std::string model_path;
  std::string data_path;
  std::string out_path;
  int64_t max_tokens = 0;
  bool resume = false;
  bool no_bos = false;
  bool quiet = false;
  int threads = 0;
  BackendChoice backend;
  ServerSourceArgs server;
};

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_stop(int) {
  stop_requested = 1;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends at once
}

std::string seconds_text(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const auto s = static_cast<int64_t>(seconds);
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h";
  if (s >= 60) out << std::setw(s >= 3600 ? 2 : 1) << std::setfill('0') << (s / 60) % 60 << "m";
  out << std::setw(s >= 60 ? 2 : 1) << std::setfill('0') << s % 60 << "s";
  return out.str();
}

// One status line on stderr, redrawn in place: tokens, tokens/s, share of the corpus, ETA.
class Progress {
public:
  Progress(bool quiet, int64_t max_tokens) : quiet_(quiet), max_tokens_(max_tokens) {}

  void update(int64_t tokens, double corpus_fraction, bool final_line = false) {
    using clock = std::chrono::steady_clock;
    const auto now = clock::now();
    if (quiet_ || (!final_line && now - last_ < std::chrono::milliseconds(500))) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(tokens - first_tokens_) / elapsed : 0;
    double fraction = corpus_fraction;
    if (max_tokens_ > 0) fraction = std::max(fraction, static_cast<double>(tokens) / max_tokens_);
    // From the progress of this run only: a resumed run skipped its first part in no time.
    if (first_fraction_ < 0) first_fraction_ = fraction;
    const double done = fraction - first_fraction_;
    const double eta = done > 0 ? elapsed * (1 - fraction) / done : -1;
    std::cerr << "\r" << tokens << " tokens, " << std::fixed << std::setprecision(0) << rate
              << " tokens/s, " << std::setprecision(1) << 100 * std::min(fraction, 1.0)
              << "%, ETA " << (final_line ? "0s" : seconds_text(eta)) << "    "
              << (final_line ? "\n" : "") << std::flush;
  }
  // Where this run starts: the tokens and the share of the corpus a resumed profile holds.
  void set_start(int64_t tokens, double corpus_fraction) {
    first_tokens_ = tokens;
    first_fraction_ = corpus_fraction;
    if (max_tokens_ > 0) {
      first_fraction_ = std::max(first_fraction_, static_cast<double>(tokens) / max_tokens_);
    }
  }

private:
  bool quiet_;
  int64_t max_tokens_;
  int64_t first_tokens_ = 0;
  double first_fraction_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

moe::ProfileModel model_identity(const LoadedModel& loaded, const moe::RoutingTrace& shape) {
  moe::ProfileModel model = moe::profile_model_of(shape);
  const moe::ModelConfig& config = loaded.model->config();
  model.architecture = config.architecture;
  model.name = !config.name.empty() ? config.name : loaded.model->path().filename().string();
  return model;
}

// The profile's model when an SGLang server routes: the shape the user gave.
moe::ProfileModel server_identity(const ServerSourceArgs& server) {
  const moe::TraceShape shape = required_shape(server);
  moe::ProfileModel model = moe::profile_model_of(
      moe::RoutingTrace(shape.n_layer, shape.n_expert, shape.top_k, shape.moe_layers));
  model.name = shape.model.empty() ? server.server_url : shape.model;
  model.architecture = "server";
  return model;
}

void run_profile(const ProfileArgs& args) {
  const bool remote = uses_server(args.server);
  if (remote && !args.model_path.empty())
    throw moe::Error("profile takes a model file or --server URL, not both");
  std::optional<LoadedModel> loaded;
  std::unique_ptr<moe::Session> session;
  std::optional<int32_t> bos;
  moe::ProfileModel model;
  if (remote) {
    model = server_identity(args.server);
  } else {
    loaded = load_model(args.model_path);
    session =
        std::make_unique<moe::Session>(loaded->model, make_backend(args.backend, args.threads));
    bos = bos_to_add(*loaded, !args.no_bos);
    // The model's routing shape, from one routed token.
    const int32_t probe = bos.value_or(0);
    session->set_tokens(std::span<const int32_t>(&probe, 1));
    model = model_identity(*loaded, session->trace());
  }

  moe::CorpusProfile profile;
  if (args.resume && std::filesystem::exists(args.out_path)) {
    profile = moe::read_corpus_profile(args.out_path);
    if (!(profile.model == model)) {
      throw moe::Error(args.out_path + " was made with another model (" + profile.model.name +
                       "); --resume needs the same model");
    }
    if (profile.source != args.data_path) {
      std::cerr << "note: " << args.out_path << " was made from " << profile.source
                << "; continuing with " << args.data_path << "\n";
    }
  } else {
    profile = moe::make_corpus_profile(model);
  }
  profile.source = args.data_path;

  moe::CorpusReader reader(args.data_path);
  int64_t skipped = 0;
  while (skipped < profile.documents && reader.next()) ++skipped;
  if (skipped < profile.documents) {
    throw moe::Error(args.out_path + " counts " + std::to_string(profile.documents) +
                     " documents but " + args.data_path + " has only " + std::to_string(skipped));
  }
  if (args.resume && profile.documents > 0 && !args.quiet) {
    std::cerr << "Resuming after " << profile.documents << " documents (" << profile.tokens
              << " tokens).\n";
  }

  stop_requested = 0;
  std::signal(SIGINT, request_stop);
  Progress progress(args.quiet, args.max_tokens);
  const auto total_bytes = static_cast<double>(std::max<uint64_t>(reader.total_bytes(), 1));
  progress.set_start(profile.tokens, static_cast<double>(reader.bytes_read()) / total_bytes);
  bool complete = true;
  while (true) {
    if (args.max_tokens > 0 && profile.tokens >= args.max_tokens) break;
    if (stop_requested) {
      complete = false;
      break;
    }
    const std::optional<moe::CorpusDocument> document = reader.next();
    if (!document) break;
    if (remote) {
      // The server tokenizes (its BOS rule) and routes the whole document at once.
      if (!document->text.empty()) {
        const moe::ImportedTrace routed = route_on_server(args.server, document->text);
        std::vector<int32_t> ids;
        for (const moe::RoutingTokenInfo& token : routed.tokens) ids.push_back(token.id);
        moe::add_routing(profile, routed.trace, ids, document->domain);
      }
    } else {
      std::vector<int32_t> ids = loaded->tokenizer->encode(document->text);
      if (bos) ids.insert(ids.begin(), *bos);
      moe::profile_document(profile, *session, ids, document->domain);
    }
    profile.documents += 1;
    progress.update(profile.tokens, static_cast<double>(reader.bytes_read()) / total_bytes);
  }
  std::signal(SIGINT, SIG_DFL);
  progress.update(profile.tokens, static_cast<double>(reader.bytes_read()) / total_bytes, true);
  moe::write_corpus_profile(args.out_path, profile);
  std::cerr << (complete ? "Wrote " : "Stopped; wrote ") << args.out_path << ": "
            << profile.documents << " documents, " << profile.tokens << " tokens, "
            << profile.domains.size() << " domain(s)"
            << (complete ? "" : " (run again with --resume to continue)") << ".\n";
}

}  // namespace

void register_profile(CLI::App& app) {
  auto args = std::make_shared<ProfileArgs>();
  auto* command = app.add_subcommand(
      "profile", "Route a corpus and keep its routing counts in a .moeprofile file");
  add_model_argument(*command, args->model_path);
  command->add_option("--data", args->data_path,
                      "Plain text (one document per line), JSONL with a \"text\" field, or a "
                      "folder of <domain>.txt")
      ->required();
  command->add_option("--out", args->out_path, "The profile to write (.moeprofile)")->required();
  command->add_option("--max-tokens", args->max_tokens,
                      "Stop at the first document boundary after this many tokens (0: all)")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--resume", args->resume,
                    "Continue the profile at --out after the documents it already counts");
  command->add_flag("--no-bos", args->no_bos, "Do not put the BOS token before each document");
  command->add_flag("--quiet", args->quiet, "No progress line");
  add_threads_option(*command, args->threads);
  add_backend_options(*command, args->backend);
  add_server_options(*command, args->server);
  command->callback([args] { run_profile(*args); });
}

}  // namespace moescope::cli
