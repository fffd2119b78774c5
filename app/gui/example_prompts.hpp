#pragma once
// The prompts offered in the prompt panel: the classics people try first, then the bundled
// domain prompt sets (assets/prompts/<domain>.txt, one prompt per line).
#include <filesystem>
#include <string>
#include <vector>

namespace moescope::gui {

struct ExamplePrompt {
  std::string group;  // "Classics", or the prompt set's name (its file name without .txt)
  std::string text;
};

// The classics, then every *.txt in `prompts_folder` in name order, read by
// moe::find_prompt_sets (blank lines and '#' comment lines skipped). A missing folder gives the
// classics alone.
std::vector<ExamplePrompt> load_example_prompts(const std::filesystem::path& prompts_folder);

// The group names in order of first appearance.
std::vector<std::string> example_groups(const std::vector<ExamplePrompt>& examples);

}  // namespace moescope::gui
