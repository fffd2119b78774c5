#include "moe/domain_specialization.hpp"

#include <cmath>

#include "moe/error.hpp"

namespace moe {

double mutual_information_bits(const std::vector<std::vector<long long>>& counts) {
  if (counts.empty()) return 0;
  const size_t columns = counts[0].size();
  std::vector<double> row_total(counts.size(), 0), column_total(columns, 0);
  double total = 0;
  for (size_t a = 0; a < counts.size(); ++a) {
    for (size_t b = 0; b < columns; ++b) {
      const auto n = static_cast<double>(counts[a][b]);
      row_total[a] += n;
      column_total[b] += n;
      total += n;
    }
  }
  if (total <= 0) return 0;
  // I = sum p(a,b) log2(p(a,b) / (p(a) p(b))) = sum n/N log2(n N / (n_a n_b))
  double mi = 0;
  for (size_t a = 0; a < counts.size(); ++a) {
    for (size_t b = 0; b < columns; ++b) {
      const auto n = static_cast<double>(counts[a][b]);
      if (n > 0) mi += n / total * std::log2(n * total / (row_total[a] * column_total[b]));
    }
  }
  return mi > 0 ? mi : 0;  // rounding can leave a tiny negative for independent tables
}

DomainCounts make_domain_counts(std::string domain, int n_moe_layers, int n_expert) {
  DomainCounts counts;
  counts.domain = std::move(domain);
  const auto layers = static_cast<size_t>(n_moe_layers);
  counts.expert_tokens.assign(layers, std::vector<int64_t>(static_cast<size_t>(n_expert), 0));
  counts.top1 = counts.expert_tokens;
  counts.layer_tokens.assign(layers, 0);
  return counts;
}

void count_domain_token(DomainCounts& counts, int moe_index, const RoutingRecord& record) {
  if (moe_index < 0 || static_cast<size_t>(moe_index) >= counts.expert_tokens.size()) return;
  const auto m = static_cast<size_t>(moe_index);
  std::vector<int64_t>& experts = counts.expert_tokens[m];
  const auto n_expert = static_cast<int32_t>(experts.size());
  counts.layer_tokens[m] += 1;
  if (m == 0) counts.tokens += 1;
  for (int32_t expert : record.experts) {
    if (expert >= 0 && expert < n_expert) experts[static_cast<size_t>(expert)] += 1;
  }
  // Capacity / expert-choice routing can leave a token without any expert.
  if (!record.experts.empty() && record.experts.front() >= 0 && record.experts.front() < n_expert) {
    counts.top1[m][static_cast<size_t>(record.experts.front())] += 1;
  }
}

DomainCounts count_domain(const DomainTrace& domain) {
  const RoutingTrace& trace = domain.trace;
  DomainCounts counts = make_domain_counts(
      domain.domain, static_cast<int>(trace.moe_layers().size()), trace.n_expert());
  for (size_t m = 0; m < trace.moe_layers().size(); ++m) {
    const int layer = trace.moe_layers()[m];
    for (int t = 0; t < trace.n_tokens(); ++t) {
      if (trace.has(t, layer)) count_domain_token(counts, static_cast<int>(m), trace.at(t, layer));
    }
  }
  return counts;
}

std::vector<LayerSpecialization> domain_specialization(const std::vector<DomainCounts>& domains,
                                                       const std::vector<int>& layers) {
  if (domains.empty()) throw Error("domain specialization needs at least one domain");
  const size_t n_expert =
      domains.front().expert_tokens.empty() ? 0 : domains.front().expert_tokens.front().size();
  for (const DomainCounts& domain : domains) {
    bool same = domain.expert_tokens.size() == layers.size() &&
                domain.top1.size() == layers.size() && domain.layer_tokens.size() == layers.size();
    for (size_t m = 0; same && m < layers.size(); ++m) {
      same = domain.expert_tokens[m].size() == n_expert && domain.top1[m].size() == n_expert;
    }
    if (!same) throw Error("domain '" + domain.domain + "' was routed by a model of another shape");
  }
  std::vector<LayerSpecialization> result;
  for (size_t m = 0; m < layers.size(); ++m) {
    LayerSpecialization layer;
    layer.layer = layers[m];
    for (const DomainCounts& domain : domains) {
      const std::vector<int64_t>& counts = domain.expert_tokens[m];
      double slots = 0;
      for (int64_t n : counts) slots += static_cast<double>(n);
      const auto tokens = static_cast<double>(domain.layer_tokens[m]);
      std::vector<double> load(n_expert, 0), share(n_expert, 0);
      for (size_t e = 0; e < n_expert; ++e) {
        if (slots > 0) load[e] = static_cast<double>(counts[e]) / slots;
        if (tokens > 0) share[e] = static_cast<double>(counts[e]) / tokens;
      }
      layer.load_share.push_back(std::move(load));
      layer.token_share.push_back(std::move(share));
      layer.top1_counts.emplace_back(domain.top1[m].begin(), domain.top1[m].end());
    }
    layer.mi_bits = mutual_information_bits(layer.top1_counts);
    result.push_back(std::move(layer));
  }
  return result;
}

std::vector<LayerSpecialization> domain_specialization(const std::vector<DomainTrace>& domains) {
  if (domains.empty()) throw Error("domain specialization needs at least one domain");
  const RoutingTrace& first = domains.front().trace;
  std::vector<DomainCounts> counts;
  for (const DomainTrace& domain : domains) {
    if (domain.trace.n_expert() != first.n_expert() ||
        domain.trace.moe_layers() != first.moe_layers()) {
      throw Error("domain '" + domain.domain + "' was routed by a model of another shape");
    }
    counts.push_back(count_domain(domain));
  }
  return domain_specialization(counts, first.moe_layers());
}

}  // namespace moe
