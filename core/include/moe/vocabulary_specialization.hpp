#pragma once
// Vocabulary specialization (Muennighoff et al. 2024, "OLMoE", §5.4): per token id x at one MoE
// layer, the share of x's occurrences routed to its most frequent expert,
//   max_i N(x, i) / N(x),  N(x, i) = occurrences of x whose top-k set holds expert i,
// averaged (unweighted) over the token ids with N(x) >= 10. As in OLMoE's domain specialization a
// token counts for each of its k experts, so uniform routing gives k/E and 1 means the expert
// handles every occurrence of the id. The table is keyed either by the input token at t or by
// the token after it (OLMoE keys by the model's predicted output token; a corpus profile keys
// by the text's next token, which the model is trained to predict).
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace moe {

struct TokenExpertCounts {
  int64_t occurrences = 0;       // N(x)
  std::vector<int64_t> experts;  // N(x, i), E entries
};
// Bounded by the vocabulary (times E), not by the corpus.
using TokenExpertTable = std::unordered_map<int32_t, TokenExpertCounts>;

// One occurrence of `token` routed to `experts`.
void count_token_experts(TokenExpertTable& table, int n_expert, int32_t token,
                         const std::vector<int32_t>& experts);

inline constexpr int64_t kVocabularyMinOccurrences = 10;

struct VocabularySpecialization {
  double mean_share = 0;  // the mean of max_i N(x, i) / N(x); 0 when no id qualifies
  int64_t token_ids = 0;  // ids with N(x) >= min_occurrences
};
VocabularySpecialization vocabulary_specialization(
    const TokenExpertTable& table, int64_t min_occurrences = kVocabularyMinOccurrences);

}  // namespace moe
