// `moescope-cli experts MODEL --layer L --expert E [--prompts DIR|FILE] [--top N] [--json]`:
// an expert's vocabulary — the tokens routed to it most over the domain prompt sets (or the
// lines of one text file), with context snippets, and its share of each domain's tokens.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli_common.hpp"
#include "moe/domain_routing.hpp"
#include "moe/error.hpp"
#include "moe/expert_insights.hpp"
#include "moe/session.hpp"
#include "prompt_sets.hpp"

namespace moescope::cli {

namespace {

struct ExpertsArgs {
  std::string model_path;
  std::string prompts;
  int layer = -1;
  int expert = -1;
  int top = 15;
  int examples = 2;
  bool as_json = false;
  bool no_bos = false;
  int threads = 0;
};

std::vector<moe::PromptSet> prompt_sets_from(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path source = path.empty() ? default_prompt_sets_dir() : fs::path(path);
  if (fs::is_directory(source)) return moe::read_prompt_sets(source);
  return {{source.stem().string(), moe::read_prompt_file(source)}};
}

std::string percent(double part, double whole) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << (whole > 0 ? 100.0 * part / whole : 0.0) << "%";
  return out.str();
}

void run_experts(const ExpertsArgs& args) {
  const LoadedModel loaded = load_model(args.model_path);
  const moe::ModelConfig& config = loaded.model->config();
  const std::vector<int> moe_layers = config.moe_layers();
  if (std::find(moe_layers.begin(), moe_layers.end(), args.layer) == moe_layers.end()) {
    throw moe::Error("--layer " + std::to_string(args.layer) + " is not a MoE layer of this model");
  }
  if (args.expert < 0 || args.expert >= config.n_expert) {
    throw moe::Error("--expert " + std::to_string(args.expert) + " is out of range (0.." +
                     std::to_string(config.n_expert - 1) + ")");
  }
  const std::vector<moe::PromptSet> sets = prompt_sets_from(args.prompts);

  moe::Session session(loaded.model, make_cpu_backend(args.threads));
  const std::vector<moe::RoutedText> texts =
      moe::route_set_texts(session, *loaded.tokenizer, sets, bos_to_add(loaded, !args.no_bos));
  if (texts.empty()) throw moe::Error("the prompts have no tokens to route");
  const moe::ExpertVocabulary vocabulary =
      moe::expert_vocabulary(texts, args.layer, args.expert, args.top, args.examples);

  if (args.as_json) {
    nlohmann::json domains = nlohmann::json::array();
    for (const moe::DomainShare& d : vocabulary.domains) {
      domains.push_back(
          {{"domain", d.domain}, {"tokens", d.tokens}, {"routed", d.routed}, {"top1", d.top1}});
    }
    nlohmann::json tokens = nlohmann::json::array();
    for (const moe::ExpertToken& token : vocabulary.top_tokens) {
      nlohmann::json examples = nlohmann::json::array();
      for (const moe::TokenOccurrence& occurrence : token.examples) {
        examples.push_back({{"domain", texts[static_cast<size_t>(occurrence.text)].domain},
                            {"snippet", moe::context_snippet(*loaded.tokenizer, texts, occurrence)},
                            {"rank", occurrence.rank},
                            {"weight", occurrence.weight}});
      }
      tokens.push_back({{"id", token.id},
                        {"text", data_piece(*loaded.tokenizer, token.id)},
                        {"routed", token.routed},
                        {"occurrences", token.occurrences},
                        {"mean_weight", token.weight_sum / static_cast<double>(token.routed)},
                        {"examples", examples}});
    }
    std::cout << dump_json({{"model", loaded.model->path().string()},
                            {"layer", vocabulary.layer},
                            {"expert", vocabulary.expert},
                            {"tokens", vocabulary.tokens},
                            {"routed", vocabulary.routed},
                            {"domains", domains},
                            {"top_tokens", tokens}},
                           2)
              << "\n";
    return;
  }

  std::cout << "Expert " << vocabulary.expert << " at layer " << vocabulary.layer << ": chosen for "
            << vocabulary.routed << " of " << vocabulary.tokens << " tokens ("
            << percent(static_cast<double>(vocabulary.routed),
                       static_cast<double>(vocabulary.tokens))
            << "; uniform routing would give " << percent(config.n_expert_used, config.n_expert)
            << ")\n\n";
  std::cout << "Share per domain (of the domain's tokens: chosen at any rank / as first choice; "
               "of the expert's tokens):\n";
  for (const moe::DomainShare& d : vocabulary.domains) {
    std::cout << "  " << std::setw(10) << std::left << d.domain << std::right << std::setw(8)
              << percent(static_cast<double>(d.routed), static_cast<double>(d.tokens)) << " / "
              << std::setw(6) << percent(static_cast<double>(d.top1), static_cast<double>(d.tokens))
              << "   " << std::setw(6)
              << percent(static_cast<double>(d.routed), static_cast<double>(vocabulary.routed))
              << "  (" << d.tokens << " tokens)\n";
  }
  std::cout << "\nTokens routed here most (routed / occurrences, mean gate weight; examples with "
               "the token in [brackets]):\n";
  for (const moe::ExpertToken& token : vocabulary.top_tokens) {
    const std::string shown = printable_piece(*loaded.tokenizer, token.id);
    std::cout << "  " << std::setw(14) << std::left << ("'" + shown + "'") << std::right
              << std::setw(5) << token.routed << " / " << std::setw(4) << std::left
              << token.occurrences << std::right << std::fixed << std::setprecision(2) << "  w "
              << token.weight_sum / static_cast<double>(token.routed) << "\n";
    for (const moe::TokenOccurrence& occurrence : token.examples) {
      std::cout << "        " << texts[static_cast<size_t>(occurrence.text)].domain << ": "
                << moe::context_snippet(*loaded.tokenizer, texts, occurrence) << "\n";
    }
  }
}

}  // namespace

void register_experts(CLI::App& app) {
  auto args = std::make_shared<ExpertsArgs>();
  auto* command = app.add_subcommand(
      "experts",
      "An expert's vocabulary: the tokens routed to it most over prompt sets, with context");
  add_model_argument(*command, args->model_path);
  command->add_option("--layer", args->layer, "MoE layer")->required();
  command->add_option("--expert", args->expert, "Expert id")->required();
  command->add_option("--prompts", args->prompts,
                      "Folder of <domain>.txt prompt files or one text file, one prompt per line "
                      "(default: assets/prompts)");
  command->add_option("--top", args->top, "How many tokens to list")->check(CLI::Range(1, 10000));
  command->add_option("--examples", args->examples, "Context snippets per token")
      ->check(CLI::Range(0, 100));
  command->add_flag("--json", args->as_json, "Print JSON");
  command->add_flag("--no-bos", args->no_bos, "Do not put the BOS token first");
  add_threads_option(*command, args->threads);
  command->callback([args] { run_experts(*args); });
}

}  // namespace moescope::cli
