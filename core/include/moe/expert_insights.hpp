#pragma once
// Understanding experts from routing traces:
// - expert vocabulary: the tokens routed most to one expert at one layer over a set of texts,
//   with context snippets and the expert's share of each domain's tokens;
// - load difference between two prompts, per layer and expert;
// - the compute counter: parameters and FLOPs a prompt really used against a dense model of the
//   same total size.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "moe/model.hpp"
#include "moe/routing.hpp"
#include "moe/session.hpp"
#include "moe/tokenizer.hpp"

namespace moe {

// One routed text: its token ids and their routing (trace positions = indices into tokens).
struct RoutedText {
  std::string domain;  // e.g. "code"; texts of one domain are pooled
  std::vector<int32_t> tokens;
  RoutingTrace trace;
  int first_token = 0;  // positions before it (e.g. BOS) are left out
};

// Routes `tokens` through `session` from an empty context (cut to the session's context),
// leaving the first `first_token` positions (e.g. BOS) out of the counts. Nothing to count
// (no token past first_token) gives nullopt.
std::optional<RoutedText> route_text(Session& session, std::string domain,
                                     std::vector<int32_t> tokens, int first_token);

struct TokenOccurrence {
  int text = 0;      // index into the texts
  int position = 0;  // token position in that text
  int rank = 0;      // 0: the expert was the token's first choice
  float weight = 0;  // its gate weight
};

struct ExpertToken {
  int32_t id = 0;
  int64_t routed = 0;       // occurrences routed to the expert
  int64_t occurrences = 0;  // occurrences of the token in all texts
  double weight_sum = 0;    // sum of the expert's gate weights over the routed occurrences
  std::vector<TokenOccurrence> examples;  // the first few routed occurrences
};

struct DomainShare {
  std::string domain;
  int64_t tokens = 0;  // tokens of the domain (after first_token of each text)
  int64_t routed = 0;  // of them routed to the expert (any rank)
  int64_t top1 = 0;    // of them with the expert as first choice
};

struct ExpertVocabulary {
  int layer = 0;
  int expert = 0;
  int64_t tokens = 0;                   // all tokens looked at
  int64_t routed = 0;                   // routed to the expert
  std::vector<ExpertToken> top_tokens;  // most routed first (ties: higher routed share first)
  std::vector<DomainShare> domains;     // in order of first appearance
};

// The `max_tokens` token ids routed to (layer, expert) most often, with up to `max_examples`
// occurrences each. Throws moe::Error when the layer is not a MoE layer of the traces or the
// expert is out of range.
ExpertVocabulary expert_vocabulary(const std::vector<RoutedText>& texts, int layer, int expert,
                                   int max_tokens = 20, int max_examples = 3);

// The text around texts[text].tokens[position]: up to `before` tokens before and `after`
// after, the token itself in [brackets], newlines shown as \n.
std::string context_snippet(const Tokenizer& tokenizer, const std::vector<RoutedText>& texts,
                            const TokenOccurrence& occurrence, int before = 6, int after = 3);

// Per MoE layer and expert, the share of routing slots a text gave the expert (slots = chosen
// experts summed over tokens; each row sums to 1), for two texts, and b - a.
struct LoadComparison {
  std::vector<int> layers;
  std::vector<std::vector<double>> share_a, share_b, difference;  // [moe index][expert]
  int tokens_a = 0, tokens_b = 0;
  double max_abs_difference = 0;
};
// Traces from the same model shape; tokens from first_token on. Throws moe::Error otherwise.
LoadComparison compare_load(const RoutingTrace& a, const RoutingTrace& b, int first_token_a = 0,
                            int first_token_b = 0);

// Parameters and FLOPs of a prompt, counted from what the router really chose (interventions
// such as top-k 1 or capacity drops show up here), against a dense model with every expert on.
// A multiply-add counts 2 FLOPs; attention's score/value products over the context are counted
// once per token and position, in both models alike.
struct ComputeCount {
  int tokens = 0;
  uint64_t total_parameters = 0;           // Model::parameter_counts().total
  uint64_t parameters_per_expert = 0;      // gate + up + down of one routed expert
  double mean_active_experts = 0;          // chosen experts per token and MoE layer, averaged
  double active_parameters_per_token = 0;  // mean over the prompt's tokens
  double moe_flops = 0;                    // the whole prompt, as routed
  double dense_flops = 0;      // the whole prompt through a dense model of the same total size
  double attention_flops = 0;  // part of both
};
ComputeCount count_compute(const Model& model, const RoutingTrace& trace, int first_token = 0);

}  // namespace moe
