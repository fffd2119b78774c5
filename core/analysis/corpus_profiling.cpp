#include "moe/corpus_profiling.hpp"

#include <algorithm>
#include <cstddef>

namespace moe {

int64_t profile_document(CorpusProfile& profile, Session& session, std::span<const int32_t> ids,
                         const std::string& domain) {
  const auto window = static_cast<size_t>(std::max(1, session.n_ctx()));
  int64_t routed = 0;
  for (size_t start = 0; start < ids.size(); start += window) {
    const std::span<const int32_t> part = ids.subspan(start, std::min(window, ids.size() - start));
    // Every position's logits, for the model's predicted next token (vocabulary specialization
    // keyed by the prediction, as OLMoE does); the routing is the same as set_tokens gives.
    const std::vector<int32_t> predicted = session.predicted_tokens(part);
    add_routing(profile, session.trace(), part, domain, predicted);
    routed += static_cast<int64_t>(part.size());
  }
  return routed;
}

}  // namespace moe
