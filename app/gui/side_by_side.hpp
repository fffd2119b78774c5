#pragma once
// A | B: with a prompt B set (the prompt column, the Experts view or the scripted mode's
// compare-prompt) and Settings::side_by_side on, the token strip, router, load and domains
// views show prompt B beside the current prompt, each pair of figures on one scale.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "figure_view.hpp"
#include "moe/plot/figure.hpp"
#include "view.hpp"

namespace moescope::gui {

// Prompt B's routing when the views show it beside the current prompt, else nullptr.
const PromptRun* prompt_b_beside(const ViewContext& view);

// The short token texts figures label their rows with.
std::vector<std::string> figure_token_labels(const std::vector<TokenView>& tokens);

// The word view's grouping of `tokens` (moe::word_of_tokens) when Settings::word_view is on,
// else empty (one row per piece, unframed).
std::vector<int> words_of(const ViewContext& view, const std::vector<TokenView>& tokens);

// The index of the first token that is not a control token such as BOS (0 or 1): where the
// counts that leave BOS out start.
int first_text_token(const std::vector<TokenView>& tokens);

// Prompt A's and prompt B's figure of one kind, titled "A · …" and "B · …" and put on shared
// scales (moe::plot::share_scales); rebuilt when the key changes.
class FigurePairCache {
public:
  using Build = std::function<moe::plot::Figure()>;
  const std::pair<moe::plot::Figure, moe::plot::Figure>& get(uint64_t key, const Build& build_a,
                                                             const Build& build_b);

private:
  bool valid_ = false;
  uint64_t key_ = 0;
  std::pair<moe::plot::Figure, moe::plot::Figure> figures_;
};

// Draws the pair in `size` (split into two columns); what the pointer did on each.
std::pair<FigureHit, FigureHit> draw_figure_pair(const char* id,
                                                 const std::pair<moe::plot::Figure,
                                                                 moe::plot::Figure>& figures,
                                                 ImVec2 size, const FigureStyle& style);

}  // namespace moescope::gui
