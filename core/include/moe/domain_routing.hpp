#pragma once
// The routing of prompt sets, pooled per domain, as `moescope-cli domains` / `plot --kind
// domains` and the app's Domains view compute it: every prompt runs from an empty context and
// the routing of its tokens is appended to its set's trace, prompt after prompt. The BOS token's
// routing is left out: it is the same token at the same position in every prompt and says
// nothing about the domain. Prompts longer than the session's context are cut to it.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "moe/domain_specialization.hpp"
#include "moe/expert_insights.hpp"
#include "moe/model.hpp"
#include "moe/prompt_sets.hpp"
#include "moe/routing.hpp"
#include "moe/session.hpp"
#include "moe/tokenizer.hpp"

namespace moe {

// An empty trace of `config`'s shape, to pool into.
RoutingTrace empty_pooled_trace(const ModelConfig& config);

// Runs `prompt` on `session` (cleared first; `bos`: the BOS token to put first, or none) and
// appends its tokens' routing to `pooled`. Returns true when the prompt was cut.
bool route_prompt_into(Session& session, const Tokenizer& tokenizer, const std::string& prompt,
                       std::optional<int32_t> bos, RoutingTrace& pooled);

// One prompt set's routing, pooled; `cut` becomes true when a prompt was cut.
RoutingTrace route_pooled(Session& session, const Tokenizer& tokenizer,
                          const std::vector<std::string>& prompts, std::optional<int32_t> bos,
                          bool& cut);

// Every prompt of every set routed on its own (moe::route_text, the set's name as its domain,
// the BOS token left out), for the expert vocabulary (`moescope-cli experts`, the app's
// playground). `keep_going(done, total)`, when given, is asked before each prompt; false stops
// there. Prompts without a token to count are left out.
std::vector<RoutedText> route_set_texts(Session& session, const Tokenizer& tokenizer,
                                        const std::vector<PromptSet>& sets,
                                        std::optional<int32_t> bos,
                                        const std::function<bool(int, int)>& keep_going = {});

// Every set's routing, one prompt at a time, so a caller can stop between prompts and go on
// later (the app's worker yields to the user's typing); the traces are the same as
// route_pooled's, set by set.
class DomainRouting {
public:
  // Sets without prompts are left out.
  DomainRouting(std::vector<PromptSet> sets, const ModelConfig& config);

  size_t n_prompts() const { return n_prompts_; }
  size_t n_routed() const { return n_routed_; }
  bool done() const { return n_routed_ == n_prompts_; }
  const std::vector<PromptSet>& sets() const { return sets_; }
  // The set of the next prompt to route (requires !done()).
  const std::string& next_domain() const { return sets_[set_].name; }

  // Routes the next prompt (requires !done()); true when it was cut.
  bool route_next(Session& session, const Tokenizer& tokenizer, std::optional<int32_t> bos);
  // Each set's pooled trace, in the sets' order (requires done()); leaves this job empty.
  std::vector<DomainTrace> take_traces();

private:
  std::vector<PromptSet> sets_;
  std::vector<RoutingTrace> traces_;  // per set, pooled
  size_t n_prompts_ = 0, n_routed_ = 0;
  size_t set_ = 0, prompt_ = 0;  // the next prompt: sets_[set_].prompts[prompt_]
};

}  // namespace moe
