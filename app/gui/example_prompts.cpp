#include "example_prompts.hpp"

#include <algorithm>
#include <fstream>

namespace moescope::gui {

std::vector<ExamplePrompt> load_example_prompts(const std::filesystem::path& prompts_folder) {
  std::vector<ExamplePrompt> examples = {
      {"Classics", "Solve 15 \xC3\x97 8"},
      {"Classics", "Write a poem about peace"},
      {"Classics", "Translate this text to Spanish: The weather is nice today."},
      {"Classics", "Write a Python function to calculate the Fibonacci sequence"}};
  std::error_code error;
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(prompts_folder, error), end; !error && it != end;
       it.increment(error)) {
    if (it->path().extension() == ".txt") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line.front() == '#') continue;
      examples.push_back({file.stem().string(), line});
    }
  }
  return examples;
}

std::vector<std::string> example_groups(const std::vector<ExamplePrompt>& examples) {
  std::vector<std::string> groups;
  for (const ExamplePrompt& example : examples) {
    if (std::find(groups.begin(), groups.end(), example.group) == groups.end())
      groups.push_back(example.group);
  }
  return groups;
}

}  // namespace moescope::gui
