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

std::vector<LayerSpecialization> domain_specialization(const std::vector<DomainTrace>& domains) {
  if (domains.empty()) throw Error("domain specialization needs at least one domain");
  const RoutingTrace& first = domains.front().trace;
  for (const DomainTrace& domain : domains) {
    if (domain.trace.n_expert() != first.n_expert() ||
        domain.trace.moe_layers() != first.moe_layers()) {
      throw Error("domain '" + domain.domain + "' was routed by a model of another shape");
    }
  }
  const auto n_expert = static_cast<size_t>(first.n_expert());
  std::vector<LayerSpecialization> layers;
  for (int layer : first.moe_layers()) {
    LayerSpecialization result;
    result.layer = layer;
    for (const DomainTrace& domain : domains) {
      std::vector<double> slots(n_expert, 0);
      std::vector<long long> top1(n_expert, 0);
      double total_slots = 0;
      for (int t = 0; t < domain.trace.n_tokens(); ++t) {
        if (!domain.trace.has(t, layer)) continue;
        const RoutingRecord& record = domain.trace.at(t, layer);
        for (int32_t expert : record.experts) {
          slots[static_cast<size_t>(expert)] += 1;
          total_slots += 1;
        }
        // Capacity / expert-choice routing can leave a token without any expert.
        if (!record.experts.empty()) top1[static_cast<size_t>(record.experts.front())] += 1;
      }
      if (total_slots > 0) {
        for (double& share : slots) share /= total_slots;
      }
      result.load_share.push_back(std::move(slots));
      result.top1_counts.push_back(std::move(top1));
    }
    result.mi_bits = mutual_information_bits(result.top1_counts);
    layers.push_back(std::move(result));
  }
  return layers;
}

}  // namespace moe
