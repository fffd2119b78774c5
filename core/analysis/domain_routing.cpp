#include "moe/domain_routing.hpp"

#include <utility>

#include "moe/error.hpp"

namespace moe {

RoutingTrace empty_pooled_trace(const ModelConfig& config) {
  return RoutingTrace(config.n_layer, config.n_expert, config.n_expert_used, config.moe_layers());
}

bool route_prompt_into(Session& session, const Tokenizer& tokenizer, const std::string& prompt,
                       std::optional<int32_t> bos, RoutingTrace& pooled) {
  std::vector<int32_t> ids;
  if (bos) ids.push_back(*bos);
  const std::vector<int32_t> text_ids = tokenizer.encode(prompt);
  ids.insert(ids.end(), text_ids.begin(), text_ids.end());
  const bool cut = static_cast<int>(ids.size()) > session.n_ctx();
  if (cut) ids.resize(static_cast<size_t>(session.n_ctx()));
  const int first = bos ? 1 : 0;
  if (static_cast<int>(ids.size()) <= first) return cut;
  session.clear();
  session.set_tokens(ids);
  const RoutingTrace& trace = session.trace();
  int next = pooled.n_tokens();
  for (int t = first; t < trace.n_tokens(); ++t, ++next) {
    for (int layer : trace.moe_layers()) pooled.set(next, layer, trace.at(t, layer));
  }
  return cut;
}

RoutingTrace route_pooled(Session& session, const Tokenizer& tokenizer,
                          const std::vector<std::string>& prompts, std::optional<int32_t> bos,
                          bool& cut) {
  RoutingTrace pooled = empty_pooled_trace(session.model().config());
  for (const std::string& prompt : prompts) {
    if (route_prompt_into(session, tokenizer, prompt, bos, pooled)) cut = true;
  }
  return pooled;
}

std::vector<RoutedText> route_set_texts(Session& session, const Tokenizer& tokenizer,
                                        const std::vector<PromptSet>& sets,
                                        std::optional<int32_t> bos,
                                        const std::function<bool(int, int)>& keep_going) {
  int total = 0, done = 0;
  for (const PromptSet& set : sets) total += static_cast<int>(set.prompts.size());
  std::vector<RoutedText> texts;
  for (const PromptSet& set : sets) {
    for (const std::string& prompt : set.prompts) {
      if (keep_going && !keep_going(done, total)) return texts;
      ++done;
      std::vector<int32_t> ids;
      if (bos) ids.push_back(*bos);
      const std::vector<int32_t> text_ids = tokenizer.encode(prompt);
      ids.insert(ids.end(), text_ids.begin(), text_ids.end());
      if (auto text = route_text(session, set.name, std::move(ids), bos ? 1 : 0))
        texts.push_back(std::move(*text));
    }
  }
  return texts;
}

DomainRouting::DomainRouting(std::vector<PromptSet> sets, const ModelConfig& config) {
  for (PromptSet& set : sets) {
    if (set.prompts.empty()) continue;
    n_prompts_ += set.prompts.size();
    sets_.push_back(std::move(set));
  }
  traces_.assign(sets_.size(), empty_pooled_trace(config));
}

bool DomainRouting::route_next(Session& session, const Tokenizer& tokenizer,
                               std::optional<int32_t> bos) {
  if (done()) throw Error("DomainRouting: every prompt is routed already");
  const bool cut =
      route_prompt_into(session, tokenizer, sets_[set_].prompts[prompt_], bos, traces_[set_]);
  ++n_routed_;
  if (++prompt_ == sets_[set_].prompts.size()) {
    prompt_ = 0;
    ++set_;
  }
  return cut;
}

std::vector<DomainTrace> DomainRouting::take_traces() {
  if (!done()) throw Error("DomainRouting: prompts are still to be routed");
  std::vector<DomainTrace> domains;
  for (size_t s = 0; s < sets_.size(); ++s)
    domains.push_back({sets_[s].name, std::move(traces_[s])});
  sets_.clear();
  traces_.clear();
  n_prompts_ = n_routed_ = set_ = prompt_ = 0;
  return domains;
}

}  // namespace moe
