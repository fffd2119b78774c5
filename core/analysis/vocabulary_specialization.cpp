#include "moe/vocabulary_specialization.hpp"

#include <algorithm>
#include <cstddef>

namespace moe {

void count_token_experts(TokenExpertTable& table, int n_expert, int32_t token,
                         const std::vector<int32_t>& experts) {
  TokenExpertCounts& counts = table[token];
  counts.experts.resize(static_cast<size_t>(n_expert), 0);
  counts.occurrences += 1;
  for (int32_t expert : experts) {
    if (expert >= 0 && expert < n_expert) counts.experts[static_cast<size_t>(expert)] += 1;
  }
}

VocabularySpecialization vocabulary_specialization(const TokenExpertTable& table,
                                                   int64_t min_occurrences) {
  VocabularySpecialization result;
  double share_sum = 0;
  for (const auto& [token, counts] : table) {
    if (counts.occurrences < min_occurrences || counts.occurrences <= 0) continue;
    const int64_t top =
        counts.experts.empty() ? 0 : *std::max_element(counts.experts.begin(), counts.experts.end());
    share_sum += static_cast<double>(top) / static_cast<double>(counts.occurrences);
    result.token_ids += 1;
  }
  if (result.token_ids > 0) result.mean_share = share_sum / static_cast<double>(result.token_ids);
  return result;
}

}  // namespace moe
