#pragma once
// The one rule for a prompt longer than the model's context, in moescope and moescope-cli: its
// first n_ctx tokens are used, and the output says so in these words.
#include <cstddef>
#include <string>

namespace moescope {

inline std::string context_cut_note(size_t n_tokens, int n_ctx) {
  return "the prompt has " + std::to_string(n_tokens) + " tokens; the context holds " +
         std::to_string(n_ctx) + ": only the first " + std::to_string(n_ctx) + " are used";
}

}  // namespace moescope
