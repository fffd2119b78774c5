#include "prompt_sets.hpp"

#include <iostream>

#include "moe/domain_routing.hpp"

namespace moescope::cli {

namespace fs = std::filesystem;

fs::path default_prompt_sets_dir() { return find_asset("prompts"); }

moe::RoutingTrace route_pooled(const LoadedModel& loaded, moe::Session& session,
                               const std::vector<std::string>& prompts, bool add_bos) {
  bool cut = false;
  moe::RoutingTrace pooled =
      moe::route_pooled(session, *loaded.tokenizer, prompts, bos_to_add(loaded, add_bos), cut);
  if (cut) std::cerr << "moescope-cli: note: prompts longer than " << session.n_ctx() << " tokens were cut\n";
  return pooled;
}

}  // namespace moescope::cli
