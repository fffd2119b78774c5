// `moescope-cli tokenize MODEL (--text TEXT | --file F) [--json]`: token ids and their pieces.
// Works on vocabulary-only GGUF files (no tensors): only the tokenizer is loaded.
#include <iostream>

#include "cli_common.hpp"
#include "moe/error.hpp"
#include "moe/gguf.hpp"
#include "moe/token_display.hpp"

namespace moescope::cli {

namespace {

struct TokenizeArgs {
  std::string model_path;
  std::string text;
  std::string file;
  bool as_json = false;
};

void run_tokenize(const TokenizeArgs& args) {
  const moe::gguf::GgufFile file = moe::gguf::GgufFile::open(resolve_model_path(args.model_path));
  const moe::Tokenizer tokenizer = moe::Tokenizer::from_gguf(file);  // errors name the file
  const std::string text = args.file.empty() ? args.text : read_text_file(args.file);
  const std::vector<int32_t> ids = tokenizer.encode(text);
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
  command->callback([args, text, file] {
    if (text->count() == 0 && file->count() == 0) {
      throw moe::Error("tokenize needs a text: --text TEXT or --file PATH");
    }
    run_tokenize(*args);
  });
}

}  // namespace moescope::cli
