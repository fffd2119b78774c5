// `moescope-cli profile (MODEL | --server URL --model-config F) --data FILE|DIR --out P.moeprofile
// [--max-tokens N] [--resume]`: routes every document of a corpus and keeps the counts the routing
// metrics need in a .moeprofile file (docs/moeprofile.md). Memory is bounded by the model and the
// vocabulary, not the corpus. Ctrl-C stops after the current document and writes what is done;
// --resume reads the profile at --out and continues after the documents it already counts.
#include <iostream>
#include <sstream>

#include "cli_common.hpp"
#include "corpus_progress.hpp"
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

  StopOnCtrlC stop;
  Progress progress(args.quiet, args.max_tokens);
  const auto total_bytes = static_cast<double>(std::max<uint64_t>(reader.total_bytes(), 1));
  progress.set_start(profile.tokens, static_cast<double>(reader.bytes_read()) / total_bytes);
  bool complete = true;
  while (true) {
    if (args.max_tokens > 0 && profile.tokens >= args.max_tokens) break;
    if (stop.requested()) {
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
  stop.release();
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
