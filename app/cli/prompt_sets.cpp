#include "prompt_sets.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "moe/error.hpp"

namespace moescope::cli {

namespace fs = std::filesystem;

std::vector<std::string> read_prompt_lines(const std::string& path) {
  std::vector<std::string> prompts;
  std::istringstream in(read_text_file(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) prompts.push_back(line);
  }
  if (prompts.empty()) throw moe::Error(path + " holds no prompts (one prompt per line)");
  return prompts;
}

std::vector<PromptSet> read_prompt_sets(const fs::path& dir) {
  std::error_code error;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  if (error) throw moe::Error("cannot list " + dir.string() + ": " + error.message());
  if (files.empty()) {
    throw moe::Error(dir.string() + " holds no <domain>.txt prompt files (one prompt per line)");
  }
  std::sort(files.begin(), files.end());
  std::vector<PromptSet> sets;
  for (const fs::path& file : files) sets.push_back({file.stem().string(), read_prompt_lines(file.string())});
  return sets;
}

fs::path default_prompt_sets_dir() { return find_asset("prompts"); }

moe::RoutingTrace route_pooled(const LoadedModel& loaded, moe::Session& session,
                               const std::vector<std::string>& prompts, bool add_bos) {
  const moe::ModelConfig& config = loaded.model->config();
  moe::RoutingTrace pooled(config.n_layer, config.n_expert, config.n_expert_used, config.moe_layers());
  int next = 0;
  bool cut = false;
  for (const std::string& prompt : prompts) {
    std::vector<int32_t> ids = encode_prompt(loaded, prompt, add_bos);
    if (static_cast<int>(ids.size()) > session.n_ctx()) {
      ids.resize(static_cast<size_t>(session.n_ctx()));
      cut = true;
    }
    const int first = (add_bos && !ids.empty() && ids.front() == loaded.tokenizer->bos_id()) ? 1 : 0;
    if (static_cast<int>(ids.size()) <= first) continue;
    session.clear();
    session.set_tokens(ids);
    const moe::RoutingTrace& trace = session.trace();
    for (int t = first; t < trace.n_tokens(); ++t, ++next) {
      for (int layer : trace.moe_layers()) pooled.set(next, layer, trace.at(t, layer));
    }
  }
  if (cut) std::cerr << "moescope-cli: note: prompts longer than " << session.n_ctx() << " tokens were cut\n";
  return pooled;
}

}  // namespace moescope::cli
