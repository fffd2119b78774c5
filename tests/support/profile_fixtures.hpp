#pragma once
// A corpus profile of the app's random demo model's shape (4 layers, all MoE, 8 experts, top-2)
// made from synthetic routing, so that the app's tests can open a profile whose counts they
// know, without routing a corpus.
#include "moe/corpus_profile.hpp"

namespace moe::testing {

// Two labelled domains, "alpha" and "beta", of `tokens_per_domain` tokens each; the routing is
// skewed (some experts get many more tokens than others) and records expert norms (REAP).
CorpusProfile demo_shaped_profile(int tokens_per_domain = 300);

}  // namespace moe::testing
