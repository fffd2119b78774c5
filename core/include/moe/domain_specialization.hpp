#pragma once
// How much the router's choices depend on the domain of the text (code, maths, German ...):
// per MoE layer, each domain's expert load and the mutual information between the domain and
// the top-1 expert, I(domain; top-1 expert), in bits.
//
// Domain specialization (Muennighoff et al. 2024, "OLMoE", §5.3) is token_share below:
//   N(expert i in the top-k set, domain D) / N(D),  N(D) = tokens of D,
// so a token counts for each of its k experts and the uniform baseline is k/E (1 when i takes
// every token of D). load_share is the same count over D's k * N(D) routing slots: baseline 1/E.
#include <cstdint>
#include <string>
#include <vector>

#include "moe/routing.hpp"

namespace moe {

struct DomainTrace {
  std::string domain;  // e.g. "code"
  RoutingTrace trace;  // the routing of the domain's prompts, pooled
};

struct LayerSpecialization {
  int layer = 0;
  // I(domain; top-1 expert) in bits, over all tokens of all domains (each token one sample).
  // 0 when the choice says nothing about the domain; at most log2(number of domains).
  double mi_bits = 0;
  // load_share[d][e]: share of domain d's routing slots (tokens x top_k) that went to expert e;
  // each row sums to 1.
  std::vector<std::vector<double>> load_share;
  // top1_counts[d][e]: tokens of domain d whose first choice was expert e.
  std::vector<std::vector<long long>> top1_counts;
  // token_share[d][e]: OLMoE's domain specialization, N(e in top-k, d) / N(d) (baseline k/E).
  std::vector<std::vector<double>> token_share;
};

// What domain specialization needs of one domain's routing, accumulated token by token (a corpus
// profile keeps one per domain, so the metric never needs the traces).
struct DomainCounts {
  std::string domain;
  int64_t tokens = 0;                               // N(D): tokens routed at the first MoE layer
  std::vector<std::vector<int64_t>> expert_tokens;  // [moe index][e]: tokens whose top-k held e
  std::vector<std::vector<int64_t>> top1;           // [moe index][e]: tokens whose first was e
  std::vector<int64_t> layer_tokens;                // [moe index]: tokens routed at the layer
};
// Empty counts for a model of `n_moe_layers` MoE layers and `n_expert` experts.
DomainCounts make_domain_counts(std::string domain, int n_moe_layers, int n_expert);
// Adds one token's record at MoE layer `moe_index`.
void count_domain_token(DomainCounts& counts, int moe_index, const RoutingRecord& record);
// The counts of one pooled trace.
DomainCounts count_domain(const DomainTrace& domain);

// From counts: `layers[m]` is the model layer of MoE index m. Throws moe::Error when there is no
// domain or the counts have other shapes.
std::vector<LayerSpecialization> domain_specialization(const std::vector<DomainCounts>& domains,
                                                       const std::vector<int>& layers);

// One entry per MoE layer, in layer order. Every trace must come from the same model shape;
// throws moe::Error otherwise or when there are no domains.
std::vector<LayerSpecialization> domain_specialization(const std::vector<DomainTrace>& domains);

// Mutual information (bits) of a joint count table counts[a][b].
double mutual_information_bits(const std::vector<std::vector<long long>>& counts);

}  // namespace moe
