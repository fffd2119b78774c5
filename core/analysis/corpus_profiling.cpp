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
    session.clear();
    session.set_tokens(part);
    add_routing(profile, session.trace(), part, domain);
    routed += static_cast<int64_t>(part.size());
  }
  return routed;
}

}  // namespace moe
