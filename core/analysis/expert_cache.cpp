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

// Belady's policy simulated for one cache size, with each request's next use precomputed.
int64_t count_belady(size_t capacity, const std::vector<int32_t>& requests,
                     const std::vector<size_t>& next_use) {
  std::vector<int32_t> cache;
  std::vector<size_t> cache_next;  // next request of each cached expert
  int64_t hits = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto found = std::find(cache.begin(), cache.end(), requests[i]);
    if (found != cache.end()) {
      hits += 1;
      cache_next[static_cast<size_t>(found - cache.begin())] = next_use[i];
      continue;
    }
    if (cache.size() < capacity) {
      cache.push_back(requests[i]);
      cache_next.push_back(next_use[i]);
      continue;
    }
    const auto victim = static_cast<size_t>(
        std::max_element(cache_next.begin(), cache_next.end()) - cache_next.begin());
    cache[victim] = requests[i];
    cache_next[victim] = next_use[i];
  }
  return hits;
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
  for (size_t c = 1; c <= e; ++c) counts.belady_hits[c - 1] += count_belady(c, requests, next_use);
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
