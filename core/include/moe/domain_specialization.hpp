#pragma once
// How much the router's choices depend on the domain of the text (code, maths, German ...):
// per MoE layer, each domain's expert load and the mutual information between the domain and
// the top-1 expert, I(domain; top-1 expert), in bits.
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
};

// One entry per MoE layer, in layer order. Every trace must come from the same model shape;
// throws moe::Error otherwise or when there are no domains.
std::vector<LayerSpecialization> domain_specialization(const std::vector<DomainTrace>& domains);

// Mutual information (bits) of a joint count table counts[a][b].
double mutual_information_bits(const std::vector<std::vector<long long>>& counts);

}  // namespace moe
