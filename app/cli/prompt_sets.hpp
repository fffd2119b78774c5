#pragma once
// The CLI's side of prompt sets (reading them is moe/prompt_sets.hpp, routing them
// moe/domain_routing.hpp): where the bundled ones are, and pooled routing with the CLI's note.
#include <filesystem>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "moe/prompt_sets.hpp"
#include "moe/routing.hpp"
#include "moe/session.hpp"

namespace moescope::cli {

// The bundled prompt sets: assets/prompts, found as find_asset finds it.
std::filesystem::path default_prompt_sets_dir();

// moe::route_pooled with the model's BOS rule (encode_prompt's), noting on stderr when prompts
// were cut to the context.
moe::RoutingTrace route_pooled(const LoadedModel& loaded, moe::Session& session,
                               const std::vector<std::string>& prompts, bool add_bos);

}  // namespace moescope::cli
