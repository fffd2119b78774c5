#include "example_prompts.hpp"

#include <algorithm>

#include "moe/prompt_sets.hpp"

namespace moescope::gui {

std::vector<ExamplePrompt> load_example_prompts(const std::filesystem::path& prompts_folder) {
  std::vector<ExamplePrompt> examples = {
      {"Classics", "Solve 15 \xC3\x97 8"},
      {"Classics", "Write a poem about peace"},
      {"Classics", "Translate this text to Spanish: The weather is nice today."},
      {"Classics", "Write a Python function to calculate the Fibonacci sequence"}};
  for (const moe::PromptSet& set : moe::find_prompt_sets(prompts_folder)) {
    for (const std::string& prompt : set.prompts) examples.push_back({set.name, prompt});
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
