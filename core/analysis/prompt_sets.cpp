#include "moe/prompt_sets.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>

#include "moe/error.hpp"
#include "moe/text_file.hpp"

namespace moe {

namespace fs = std::filesystem;

namespace {

bool is_prompt(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] != '#';
}

// The .txt files of `dir` in name order; `error` says why the folder could not be listed.
std::vector<fs::path> prompt_files(const fs::path& dir, std::error_code& error) {
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    if (it->path().extension() == ".txt") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<std::string> parse_prompt_lines(std::string_view text) {
  std::vector<std::string> prompts;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_prompt(line)) prompts.emplace_back(line);
  }
  return prompts;
}

std::vector<std::string> read_prompt_file(const fs::path& path) {
  std::vector<std::string> prompts = parse_prompt_lines(read_text_file(path));
  if (prompts.empty()) throw Error(path.string() + " holds no prompts (one prompt per line)");
  return prompts;
}

std::vector<PromptSet> read_prompt_sets(const fs::path& dir) {
  std::error_code error;
  const std::vector<fs::path> files = prompt_files(dir, error);
  if (error) throw Error("cannot list " + dir.string() + ": " + error.message());
  if (files.empty()) {
    throw Error(dir.string() + " holds no <domain>.txt prompt files (one prompt per line)");
  }
  std::vector<PromptSet> sets;
  for (const fs::path& file : files) sets.push_back({file.stem().string(), read_prompt_file(file)});
  return sets;
}

std::vector<PromptSet> find_prompt_sets(const fs::path& dir) {
  std::error_code error;
  std::vector<PromptSet> sets;
  for (const fs::path& file : prompt_files(dir, error)) {
    std::ifstream in(file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> prompts = parse_prompt_lines(text);
    if (!prompts.empty()) sets.push_back({file.stem().string(), std::move(prompts)});
  }
  return sets;
}

}  // namespace moe
