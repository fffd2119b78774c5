// `moescope-cli tokenize MODEL (--text TEXT | --file F) [--json] [--stats]`: token ids and their
// pieces; --stats: only how well the vocabulary fits the text (tokens per word, bytes per token).
// Works on vocabulary-only GGUF files (no tensors): only the tokenizer is loaded.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "cli_common.hpp"
#include "moe/error.hpp"
#include "moe/gguf.hpp"
#include "moe/token_display.hpp"
#include "moe/token_words.hpp"

namespace moescope::cli {

namespace {

struct TokenizeArgs {
  std::string model_path;
  std::string text;
  std::string file;
  bool as_json = false;
  bool stats = false;
};

// Tokens per word (words: whitespace-separated) and bytes per token.
void print_stats(const moe::Tokenizer& tokenizer, const std::vector<int32_t>& ids, size_t bytes,
                 bool as_json) {
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(tokenizer.token_piece(id));
  std::vector<int> per_word = moe::tokens_per_word(pieces);
  if (per_word.empty()) throw moe::Error("the text has no words");
  const double mean =
      std::accumulate(per_word.begin(), per_word.end(), 0.0) / static_cast<double>(per_word.size());
  const auto single = std::count(per_word.begin(), per_word.end(), 1);
  std::nth_element(per_word.begin(), per_word.begin() + static_cast<ptrdiff_t>(per_word.size() / 2),
                   per_word.end());
  const int median = per_word[per_word.size() / 2];
  const double one_token_share = static_cast<double>(single) / static_cast<double>(per_word.size());
  const double bytes_per_token = ids.empty() ? 0 : static_cast<double>(bytes) / static_cast<double>(ids.size());
  if (as_json) {
    std::cout << dump_json({{"tokens", ids.size()},
                            {"words", per_word.size()},
                            {"bytes", bytes},
                            {"tokens_per_word", {{"mean", mean}, {"median", median}}},
                            {"one_token_words", one_token_share},
                            {"bytes_per_token", bytes_per_token}})
              << "\n";
    return;
  }
  std::cout << std::fixed << std::setprecision(2) << ids.size() << " tokens, " << per_word.size()
            << " words, " << bytes << " bytes\ntokens per word: mean " << mean << ", median "
            << median << "; words of one token: " << std::setprecision(1) << 100 * one_token_share
            << "%\nbytes per token: " << std::setprecision(2) << bytes_per_token << "\n";
}

void run_tokenize(const TokenizeArgs& args) {
  const moe::gguf::GgufFile file = moe::gguf::GgufFile::open(resolve_model_path(args.model_path));
  const moe::Tokenizer tokenizer = moe::Tokenizer::from_gguf(file);  // errors name the file
  const std::string text = args.file.empty() ? args.text : read_text_file(args.file);
  const std::vector<int32_t> ids = tokenizer.encode(text);
  if (args.stats) return print_stats(tokenizer, ids, text.size(), args.as_json);
  if (args.as_json) {
    nlohmann::json tokens = nlohmann::json::array();
    for (int32_t id : ids) tokens.push_back({{"id", id}, {"text", data_piece(tokenizer, id)}});
    std::cout << dump_json({{"n_tokens", ids.size()}, {"ids", ids}, {"tokens", tokens}}) << "\n";
    return;
  }
  for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
  std::cout << "\n";
  const std::vector<std::string> texts = moe::display_token_texts(tokenizer, ids);
  for (size_t i = 0; i < ids.size(); ++i) {
    std::cout << std::setw(8) << ids[i] << "  '" << texts[i] << "'\n";
  }
  std::cout << ids.size() << " tokens\n";
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* command = app.add_subcommand("tokenize", "Token ids and pieces of a text (no BOS/EOS added)");
  add_model_argument(*command, args->model_path);
  auto* text = command->add_option("--text,-t", args->text, "Text to tokenize");
  auto* file = command->add_option("--file,-f", args->file, "Read the text from a file");
  text->excludes(file);
  command->add_flag("--json", args->as_json, "Print JSON");
  command->add_flag("--stats", args->stats,
                    "Only how well the vocabulary fits: tokens per word (mean, median, share of "
                    "one-token words) and bytes per token");
  command->callback([args, text, file] {
    if (text->count() == 0 && file->count() == 0) {
      throw moe::Error("tokenize needs a text: --text TEXT or --file PATH");
    }
    run_tokenize(*args);
  });
}

}  // namespace moescope::cli
