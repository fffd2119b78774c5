#pragma once
// Prompt files and folders of prompt sets (assets/prompts/<domain>.txt, one prompt per line),
// and their routing pooled into one trace.
#include <filesystem>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "moe/routing.hpp"
#include "moe/session.hpp"

namespace moescope::cli {

struct PromptSet {
  std::string name;  // the file name without .txt, e.g. "code"
  std::vector<std::string> prompts;
};

// Non-empty lines of a prompt file (a trailing \r is dropped); throws if there are none.
std::vector<std::string> read_prompt_lines(const std::string& path);
// Every <name>.txt in `dir`, sorted by name; throws if there is none.
std::vector<PromptSet> read_prompt_sets(const std::filesystem::path& dir);
// The bundled prompt sets: assets/prompts, found as find_asset finds it.
std::filesystem::path default_prompt_sets_dir();

// Runs every prompt from an empty context and pools the routing of all their tokens into one
// trace, prompt after prompt. The BOS token's routing is left out: it is the same token at the
// same position in every prompt and says nothing about the prompt.
moe::RoutingTrace route_pooled(const LoadedModel& loaded, moe::Session& session,
                               const std::vector<std::string>& prompts, bool add_bos);

}  // namespace moescope::cli
