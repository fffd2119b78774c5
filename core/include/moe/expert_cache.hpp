#pragma once
// Expert-cache hit rates for offloading (as in Eliseev & Mazur 2023, "Fast Inference of
// Mixture-of-Experts Language Models with Offloading"): at one MoE layer, the tokens of a
// document request their top-k experts in order (each token's in rank order); a cache holding c
// experts serves a request when the expert is in it. For every c in 1..E this counts the hits of
//   LRU:     evict the least recently requested expert;
//   Belady:  evict the expert whose next request is furthest away (never: furthest), the optimal
//            policy (Belady 1966), which knows the future, an upper bound for any real cache.
// The cache starts empty at each document (documents are independent requests to a server), so
// a stream of n requests over d distinct experts has at least d misses. Both policies are stack
// algorithms (Mattson et al. 1970): one pass over the requests counts the hits of every size.
#include <cstdint>
#include <vector>

namespace moe {

struct CacheCounts {
  int64_t requests = 0;
  std::vector<int64_t> lru_hits;     // [c - 1]: hits of an LRU cache of c experts, c = 1..E
  std::vector<int64_t> belady_hits;  // [c - 1]: hits of Belady's policy
};

// Adds one document's request stream at one layer: token_experts[t] = the chosen experts of token
// t. Experts outside [0, E) are ignored.
void count_cache_hits(CacheCounts& counts, int n_expert,
                      const std::vector<std::vector<int32_t>>& token_experts);

struct CacheCurve {
  std::vector<int> sizes;     // 1..E
  std::vector<double> lru;    // hit rate per size
  std::vector<double> belady;
};
CacheCurve cache_hit_rates(const CacheCounts& counts);

}  // namespace moe
