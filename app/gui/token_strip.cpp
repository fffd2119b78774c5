// The token strip: the prompt's tokens as they flow, each on the colour of the expert the
// router ranked first at the selected layer (as in figure 8 of the Mixtral paper). Hover shows
// the router's distribution; a click selects the token for the other views.
#include <imgui.h>

#include <algorithm>
#include <string>
#include <vector>

#include "moe/plot/routing_figures.hpp"
#include "moe/token_words.hpp"
#include "explanations.hpp"
#include "prompt_column.hpp"
#include "side_by_side.hpp"
#include "token_text.hpp"

namespace moescope::gui {

namespace plot = moe::plot;

namespace {

void draw_token_tooltip(ViewContext& view, int token) {
  const Snapshot& snapshot = view.snapshot;
  const TokenView& info = snapshot.tokens[static_cast<size_t>(token)];
  ImGui::BeginTooltip();
  ImGui::Text("\"%s\"   token %d, id %d%s", info.text.c_str(), token, info.id,
              info.generated ? ", generated" : "");
  if (snapshot.trace.has(token, view.selection.layer)) {
    const plot::Figure figure = plot::router_scores_figure(
        snapshot.trace, token, view.selection.layer, view.token_labels[static_cast<size_t>(token)]);
    const float width = ImGui::GetFontSize() * 26;
    draw_figure("##tooltip_scores", figure, ImVec2(width, width * 0.6f), view.style,
                /*exportable=*/false);
  }
  ImGui::TextDisabled("click: select this token (click again: follow the typing)");
  ImGui::EndTooltip();
}

// Draws `tokens` flowing in rows from the cursor, each on the colour of its first-choice expert
// at the selected layer, and returns the token under the pointer (-1: none). With `boxes`
// (the current prompt) tokens are selectable and their rectangles are kept.
int draw_token_flow(ViewContext& view, bool words, const std::vector<TokenView>& tokens,
                    const moe::RoutingTrace& trace, std::vector<ImVec4>* boxes) {
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const float line_height = ImGui::GetTextLineHeight();
  const ImVec2 padding(std::round(line_height * 0.18f), std::round(line_height * 0.12f));
  const float gap = std::round(line_height * 0.12f);
  const float left = ImGui::GetCursorScreenPos().x;
  const float right = left + ImGui::GetContentRegionAvail().x;
  ImVec2 cursor = ImGui::GetCursorScreenPos();
  const float row_height = line_height + 2 * padding.y + gap;
  const int layer = view.selection.layer;
  int hovered_token = -1;
  const int n_tokens = static_cast<int>(tokens.size());
  const auto shown_text = [&](int t) -> const std::string& {
    static const std::string space = " ";
    const std::string& text = tokens[static_cast<size_t>(t)].text;
    return text.empty() ? space : text;
  };
  const auto box_width = [&](int t) {
    return std::max(ImGui::CalcTextSize(shown_text(t).c_str()).x, line_height * 0.35f) +
           2 * padding.x;
  };
  // The word view: pieces of one word (moe::word_of_tokens) touch, and a word wraps whole.
  std::vector<int> word_of(static_cast<size_t>(n_tokens));
  if (words) {
    std::vector<std::string> pieces;
    for (const TokenView& token : tokens) pieces.push_back(token.piece);
    word_of = moe::word_of_tokens(pieces);
  } else {
    for (int t = 0; t < n_tokens; ++t) word_of[static_cast<size_t>(t)] = t;
  }
  const auto same_word = [&](int a, int b) {
    return b >= 0 && b < n_tokens && word_of[static_cast<size_t>(a)] == word_of[static_cast<size_t>(b)];
  };
  float word_left = cursor.x;
  for (int t = 0; t < n_tokens; ++t) {
    const TokenView& token = tokens[static_cast<size_t>(t)];
    const std::string& text = shown_text(t);
    const float width = box_width(t);
    float needed = width;
    if (!same_word(t, t - 1)) {
      for (int u = t + 1; same_word(t, u); ++u) needed += box_width(u);
    }
    if ((cursor.x + needed > right || (needed != width && cursor.x + width > right)) &&
        cursor.x > left) {
      cursor = ImVec2(left, cursor.y + row_height);
      word_left = cursor.x;
    }
    if (!same_word(t, t - 1)) word_left = cursor.x;
    const ImVec2 box_end(cursor.x + width, cursor.y + line_height + 2 * padding.y);
    plot::Color fill = plot::Color::from_rgb(0x7F7F7F, 0.35f);
    if (trace.has(t, layer)) {
      const moe::RoutingRecord& record = trace.at(t, layer);
      if (!record.experts.empty()) fill = plot::expert_color(record.experts[0]);
    }
    ImGui::SetCursorScreenPos(cursor);
    ImGui::PushID(t);
    ImGui::InvisibleButton("##token", ImVec2(width, box_end.y - cursor.y));
    if (ImGui::IsItemHovered()) hovered_token = t;
    if (boxes && ImGui::IsItemClicked()) click_token(view.selection, t, n_tokens);
    ImGui::PopID();
    if (boxes) boxes->emplace_back(cursor.x, cursor.y, box_end.x, box_end.y);
    draw->AddRectFilled(cursor, box_end, to_imgui(fill), 2);
    const ImU32 ink = text_color_on(fill, view.style.background);
    draw->AddText(ImVec2(cursor.x + padding.x, cursor.y + padding.y), ink, text.c_str());
    if (token.generated) {
      draw->AddLine(ImVec2(cursor.x + 1, box_end.y - 2), ImVec2(box_end.x - 1, box_end.y - 2), ink,
                    1.5f);
    }
    if (boxes && t == view.selection.token) {
      draw->AddRect(ImVec2(cursor.x - 2, cursor.y - 2), ImVec2(box_end.x + 2, box_end.y + 2),
                    view.style.text, 3, 0, view.selection.pinned ? 3.0f : 1.5f);
    }
    if (words && !same_word(t, t + 1) && same_word(t, t - 1)) {
      draw->AddRect(ImVec2(word_left - 1, cursor.y - 1), ImVec2(box_end.x + 1, box_end.y + 1),
                    view.style.text, 2, 0, 1.0f);  // one frame around a word of several pieces
    }
    cursor.x += width + (same_word(t, t + 1) ? 0 : gap);
  }
  ImGui::SetCursorScreenPos(ImVec2(left, cursor.y + (tokens.empty() ? 0 : row_height)));
  return hovered_token;
}

constexpr float kLegendGap = 12;  // between two chips of the legend

// The widest chip of the legend ("E000" with its colour square), as the wrapping reserves it.
float legend_chip_width() {
  return ImGui::CalcTextSize("E000").x + ImGui::GetTextLineHeight() + 16;
}

}  // namespace

int token_strip_legend_rows(const TokenStripState& state, int n_expert, float width) {
  if (!state.show_legend || n_expert <= 0) return 0;
  // The wrapping of draw_token_strip: a chip goes on the row while the widest one would fit.
  const float reserve = legend_chip_width();
  int rows = 1;
  float end = 0;  // of the row's last chip, from the row's left
  for (int e = 0; e < n_expert; ++e) {
    const float chip = expert_chip_width(e);
    if (e > 0 && end + reserve < width) {
      end += kLegendGap + chip;
    } else {
      if (e > 0) ++rows;
      end = chip;
    }
  }
  return rows;
}

void draw_token_strip(ViewContext& view, TokenStripState& state) {
  const Snapshot& snapshot = view.snapshot;
  const std::vector<int>& moe_layers = snapshot.trace.moe_layers();
  layer_selector("strip_layer", view.selection, moe_layers);
  ImGui::SameLine();
  ImGui::TextDisabled("tokens on the colour of their first-choice expert");
  ImGui::SameLine();
  help_marker(explanation_for("strip"));
  ImGui::SameLine();
  checkbox("Legend", &state.show_legend);
  ImGui::SameLine();
  checkbox("Words", &view.settings.word_view);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Join the pieces of each word (\"G\" \"ut\" \"en\" as one Guten): each piece "
                      "keeps its own colour, the word gets one frame; the router heatmap labels "
                      "and frames words too");
  if (snapshot.playground && snapshot.playground->prompt_b) {
    ImGui::SameLine();
    checkbox("A | B", &view.settings.side_by_side);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Prompt B beside this prompt in the strip, Router scores, Expert load and "
                        "Domains, on the same scales");
  }
  if (state.show_legend && snapshot.trace.n_expert() > 0) {
    const float chip_width = legend_chip_width();
    for (int e = 0; e < snapshot.trace.n_expert(); ++e) {
      if (e > 0) {
        const float next_x = ImGui::GetItemRectMax().x + chip_width;
        if (next_x < ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x)
          ImGui::SameLine(0, kLegendGap);
      }
      expert_chip(e);
    }
  }

  ImGui::BeginChild("##strip_tokens", ImVec2(0, 0), true);
  const bool strip_hovered = ImGui::IsWindowHovered(ImGuiHoveredFlags_ChildWindows);
  const PromptRun* b = prompt_b_beside(view);
  if (b) {  // "A" and "B" before their tokens, so both prompts fit a short strip
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("A");
    ImGui::SameLine();
  }
  state.token_boxes.clear();
  const int hovered_token =
      draw_token_flow(view, view.settings.word_view, snapshot.tokens, snapshot.trace, &state.token_boxes);
  if (!snapshot.complete) {
    ImGui::TextDisabled("computing the rest of the prompt\xE2\x80\xA6");
  } else if (snapshot.tokens.empty()) {
    ImGui::TextDisabled(snapshot.model ? "Type a prompt: its tokens appear here."
                                       : "Open a model to begin.");
  }
  if (b) {
    // Prompt B, on the same layer and colours; its tokens are not selectable.
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("B");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("prompt B: %s", b->prompt.c_str());
    ImGui::SameLine();
    ImGui::PushID("prompt_b");
    draw_token_flow(view, view.settings.word_view, b->tokens, b->trace, nullptr);
    ImGui::PopID();
  }
  if (hovered_token >= 0) draw_token_tooltip(view, hovered_token);

  // Keyboard: left/right move through the tokens, up/down through the layers.
  if (state.keyboard && strip_hovered && !ImGui::GetIO().WantTextInput) {
    const int n = static_cast<int>(snapshot.tokens.size());
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow)))
      move_token(view.selection, -1, n);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow)))
      move_token(view.selection, 1, n);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow)))
      step_layer(view.selection, -1, moe_layers);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow)))
      step_layer(view.selection, 1, moe_layers);
  }
  ImGui::EndChild();
}

}  // namespace moescope::gui
