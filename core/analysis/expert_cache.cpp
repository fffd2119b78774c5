#include "moe/expert_cache.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>

namespace moe {

namespace {

// LRU is a stack algorithm (Mattson et al. 1970): a request at depth d of the recency stack hits
// every cache of more than d experts, so one pass serves every size.
void count_lru(std::vector<int64_t>& hits, const std::vector<int32_t>& requests) {
  std::vector<int32_t> stack;  // most recent first
  for (int32_t expert : requests) {
    const auto found = std::find(stack.begin(), stack.end(), expert);
    if (found != stack.end()) {
      const auto depth = static_cast<size_t>(found - stack.begin());
      for (size_t c = depth + 1; c <= hits.size(); ++c) hits[c - 1] += 1;
      stack.erase(found);
    }
    stack.insert(stack.begin(), expert);
  }
}

// Belady's policy is a stack algorithm too, with priority = the time of the next request
// (Mattson et al. 1970): the cache of c experts always holds the top c of one stack. A request at
// depth d hits every cache of more than d experts; the requested expert goes on top, and the
// experts above its old place move down one by one, each level keeping whichever of the expert
// arriving from above and the one there is needed sooner. One pass serves every size.
void count_belady(std::vector<int64_t>& hits, const std::vector<int32_t>& requests,
                  const std::vector<size_t>& next_use, size_t n_expert) {
  std::vector<int32_t> stack;
  std::vector<size_t> next(n_expert, 0);  // next request of each expert on the stack
  for (size_t i = 0; i < requests.size(); ++i) {
    const int32_t expert = requests[i];
    const auto found = std::find(stack.begin(), stack.end(), expert);
    const auto depth = static_cast<size_t>(found - stack.begin());
    if (found != stack.end()) {
      for (size_t c = depth + 1; c <= hits.size(); ++c) hits[c - 1] += 1;
    } else {
      stack.push_back(expert);  // a miss everywhere: the stack grows by one level
    }
    next[static_cast<size_t>(expert)] = next_use[i];
    if (depth == 0) continue;
    int32_t carried = stack[0];
    stack[0] = expert;
    for (size_t level = 1; level < depth; ++level) {
      if (next[static_cast<size_t>(carried)] < next[static_cast<size_t>(stack[level])]) {
        std::swap(carried, stack[level]);
      }
    }
    stack[depth] = carried;
  }
}

}  // namespace

void count_cache_hits(CacheCounts& counts, int n_expert,
                      const std::vector<std::vector<int32_t>>& token_experts) {
  const auto e = static_cast<size_t>(n_expert);
  counts.lru_hits.resize(e, 0);
  counts.belady_hits.resize(e, 0);
  std::vector<int32_t> requests;
  for (const auto& experts : token_experts) {
    for (int32_t expert : experts) {
      if (expert >= 0 && expert < n_expert) requests.push_back(expert);
    }
  }
  counts.requests += static_cast<int64_t>(requests.size());
  count_lru(counts.lru_hits, requests);

  constexpr size_t kNever = std::numeric_limits<size_t>::max();
  std::vector<size_t> next_use(requests.size(), kNever);
  std::vector<size_t> upcoming(e, kNever);
  for (size_t i = requests.size(); i-- > 0;) {
    next_use[i] = upcoming[static_cast<size_t>(requests[i])];
    upcoming[static_cast<size_t>(requests[i])] = i;
  }
  count_belady(counts.belady_hits, requests, next_use, e);
}

CacheCurve cache_hit_rates(const CacheCounts& counts) {
  CacheCurve curve;
  const size_t sizes = std::min(counts.lru_hits.size(), counts.belady_hits.size());
  for (size_t c = 1; c <= sizes; ++c) {
    curve.sizes.push_back(static_cast<int>(c));
    const double requests = counts.requests > 0 ? static_cast<double>(counts.requests) : 1;
    curve.lru.push_back(static_cast<double>(counts.lru_hits[c - 1]) / requests);
    curve.belady.push_back(static_cast<double>(counts.belady_hits[c - 1]) / requests);
  }
  return curve;
}

}  // namespace moe
