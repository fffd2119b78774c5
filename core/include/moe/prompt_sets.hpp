#pragma once
// Prompt files and folders of prompt sets (assets/prompts/<domain>.txt), read the same way by the
// CLI (domains, experts, plot) and the app (example prompts, the Domains view).
//
// The rule, one for every reader: one prompt per line; a trailing '\r' is dropped; a line that
// is blank (spaces and tabs only) or whose first non-blank character is '#' (a comment) is
// skipped; every other line is a prompt, kept as written.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

struct PromptSet {
  std::string name;  // the file name without .txt, e.g. "code"
  std::vector<std::string> prompts;
};

// The prompts of a prompt file's text, by the rule above (possibly none).
std::vector<std::string> parse_prompt_lines(std::string_view text);

// The prompts of the file at `path`; throws moe::Error if it cannot be read or holds none.
std::vector<std::string> read_prompt_file(const std::filesystem::path& path);

// Every <name>.txt in `dir`, sorted by name. Throws moe::Error if the folder cannot be listed,
// holds no .txt file, or one of them cannot be read or holds no prompt.
std::vector<PromptSet> read_prompt_sets(const std::filesystem::path& dir);

// The same, forgiving, for offering examples: a missing or unreadable folder gives no sets, and
// a file that cannot be read or holds no prompt is left out.
std::vector<PromptSet> find_prompt_sets(const std::filesystem::path& dir);

}  // namespace moe
