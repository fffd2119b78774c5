#include "side_by_side.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "moe/plot/shared_scales.hpp"
#include "moe/token_words.hpp"
#include "token_text.hpp"

namespace moescope::gui {

const PromptRun* prompt_b_beside(const ViewContext& view) {
  if (!view.settings.side_by_side || !view.snapshot.playground) return nullptr;
  const PromptRun* run = view.snapshot.playground->prompt_b.get();
  return run && !run->tokens.empty() ? run : nullptr;
}

std::vector<std::string> figure_token_labels(const std::vector<TokenView>& tokens) {
  std::vector<std::string> labels;
  labels.reserve(tokens.size());
  for (const TokenView& token : tokens) labels.push_back(shorten_utf8(token.text, 16));
  return labels;
}

std::vector<int> words_of(const ViewContext& view, const std::vector<TokenView>& tokens) {
  if (!view.settings.word_view) return {};
  std::vector<std::string> pieces;
  pieces.reserve(tokens.size());
  for (const TokenView& token : tokens) pieces.push_back(token.piece);
  return moe::word_of_tokens(pieces);
}

int first_text_token(const std::vector<TokenView>& tokens) {
  return !tokens.empty() && tokens.front().special ? 1 : 0;
}

const std::pair<moe::plot::Figure, moe::plot::Figure>& FigurePairCache::get(
    uint64_t key, const Build& build_a, const Build& build_b) {
  if (!valid_ || key != key_) {
    figures_ = {build_a(), build_b()};
    figures_.first.title = "A \xC2\xB7 " + figures_.first.title;
    figures_.second.title = "B \xC2\xB7 " + figures_.second.title;
    moe::plot::share_scales({&figures_.first, &figures_.second});
    key_ = key;
    valid_ = true;
  }
  return figures_;
}

std::pair<FigureHit, FigureHit> draw_figure_pair(
    const char* id, const std::pair<moe::plot::Figure, moe::plot::Figure>& figures, ImVec2 size,
    const FigureStyle& style) {
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float half = std::floor((size.x - gap) / 2);
  ImGui::PushID(id);
  const FigureHit a = draw_figure("##a", figures.first, ImVec2(half, size.y), style);
  ImGui::SameLine(0, gap);
  const FigureHit b = draw_figure("##b", figures.second, ImVec2(half, size.y), style);
  ImGui::PopID();
  return {a, b};
}

}  // namespace moescope::gui
