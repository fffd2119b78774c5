// Understanding experts: which tokens an expert gets over the domain prompt sets (its
// "vocabulary", with contexts and its share of each domain), and how two prompts load the
// experts differently (a diverging layer x expert heatmap).
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>

#include "moe/plot/comparison_figures.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

struct ExpertsPanelState {
  std::string prompt_b;         // the text box
  std::string synced_prompt_b;  // the prompt B of the comparison last shown
  FigureCache difference;
};

}  // namespace

namespace {

const char* kVocabularyHelp =
    "Which tokens does this expert get? All the bundled domain prompts (code, maths, German...)\n"
    "are routed, and the tokens sent to the expert most often are listed with where they\n"
    "occurred. Experts rarely specialize in topics; they often specialize in kinds of tokens\n"
    "(punctuation, digits, word pieces of one language).";

const char* kCompareHelp =
    "Type a second prompt: the heatmap shows, per layer and expert, how much more of its\n"
    "routing prompt B sends to the expert than the current prompt (A). Red: B uses it more,\n"
    "blue: A does, white: the same.";

void draw_vocabulary(ViewContext& view) {
  const moe::ModelConfig& config = view.snapshot.model->config;
  ImGui::TextUnformatted("Expert vocabulary");
  ImGui::SameLine();
  help_marker(kVocabularyHelp);
  layer_selector("experts_layer", view.selection, view.snapshot.trace.moe_layers());
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
  view.selection.expert = std::clamp(view.selection.expert, 0, std::max(0, config.n_expert - 1));
  ImGui::SliderInt("expert", &view.selection.expert, 0, config.n_expert - 1, "E%d");
  ImGui::SameLine();
  if (ImGui::Button("Show its tokens")) {
    view.actions.explain_expert(view.selection.expert);
  }
  const PlaygroundResult* result = view.snapshot.playground.get();
  if (!result || !result->vocabulary) return;
  const ExpertVocabularyView& shown = *result->vocabulary;
  const moe::ExpertVocabulary& vocabulary = shown.vocabulary;
  ImGui::Text("Layer %d, expert %d: %lld of %lld tokens (%.1f%%) over %d prompts, with the "
              "model's own routing",
              vocabulary.layer,
              vocabulary.expert, static_cast<long long>(vocabulary.routed),
              static_cast<long long>(vocabulary.tokens),
              vocabulary.tokens ? 100.0 * static_cast<double>(vocabulary.routed) /
                                      static_cast<double>(vocabulary.tokens)
                                : 0.0,
              shown.n_texts);
  std::string shares = "share of each domain's tokens:";
  for (const moe::DomainShare& domain : vocabulary.domains) {
    char part[96];
    std::snprintf(part, sizeof part, "  %s %.0f%%", domain.domain.c_str(),
                  domain.tokens ? 100.0 * static_cast<double>(domain.routed) /
                                      static_cast<double>(domain.tokens)
                                : 0.0);
    shares += part;
  }
  ImGui::TextWrapped("%s", shares.c_str());
  if (!ImGui::BeginTable("##vocabulary", 3,
                         ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_ScrollY |
                             ImGuiTableFlags_SizingStretchProp,
                         ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 12)))
    return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("token", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn("routed here", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn("in context");
  ImGui::TableHeadersRow();
  for (size_t i = 0; i < vocabulary.top_tokens.size(); ++i) {
    const moe::ExpertToken& token = vocabulary.top_tokens[i];
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(shown.token_texts[i].c_str());
    ImGui::TableNextColumn();
    ImGui::Text("%lld of %lld", static_cast<long long>(token.routed),
                static_cast<long long>(token.occurrences));
    ImGui::TableNextColumn();
    for (const std::string& snippet : shown.snippets[i]) ImGui::TextUnformatted(snippet.c_str());
  }
  ImGui::EndTable();
}

void draw_comparison(ViewContext& view, ExpertsPanelState& state) {
  ImGui::TextUnformatted("Compare with another prompt");
  ImGui::SameLine();
  help_marker(kCompareHelp);
  ImGui::SetNextItemWidth(-ImGui::GetFontSize() * 6);
  const bool enter = ImGui::InputTextWithHint("##prompt_b", "prompt B, e.g. Write a poem about peace",
                                              &state.prompt_b, ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  if (ImGui::Button("Compare") || enter) view.actions.compare_prompt(state.prompt_b);
  const PlaygroundResult* result = view.snapshot.playground.get();
  if (!result || !result->comparison) return;
  // A comparison asked for elsewhere (a reopened session, the scripted mode) shows its prompt.
  if (result->compare_prompt != state.synced_prompt_b)
    state.prompt_b = state.synced_prompt_b = result->compare_prompt;
  const moe::plot::Figure& figure = state.difference.get(
      cache_key({view.snapshot.version, std::hash<std::string>{}(result->compare_prompt)}), [&] {
        return moe::plot::load_difference_figure(*result->comparison, "A (the prompt)",
                                                 "B (" + result->compare_prompt + ")");
      });
  const ImVec2 room = ImGui::GetContentRegionAvail();
  draw_figure("##load_difference", figure,
              ImVec2(room.x, std::max(room.y, ImGui::GetTextLineHeight() * 20)), view.style);
}

}  // namespace

void draw_experts_panel(ViewContext& view, ExpertsPanelState& state) {
  if (!view.snapshot.model) {
    ImGui::TextDisabled("No model is open.");
    return;
  }
  ImGui::BeginChild("##experts_scroll");
  draw_vocabulary(view);
  ImGui::Separator();
  draw_comparison(view, state);
  ImGui::EndChild();
}

namespace {

class ExpertsView final : public View {
public:
  void draw(ViewContext& view) override { draw_experts_panel(view, state_); }

private:
  ExpertsPanelState state_;
};

}  // namespace

extern const ViewInfo experts_view;
const ViewInfo experts_view = {"experts", "Experts", "What does an expert do?",
       "Pick a layer and an expert to list the tokens it receives most, in context. Compare\n"
       "two prompts to see which experts one uses more than the other.",
                            make_view<ExpertsView>, ProfileUse::Live};

}  // namespace moescope::gui
