// The prompt panel: the text the model reads, example prompts, and the controls that continue
// it (generation). Every edit goes to the worker at once; the worker keeps only the latest.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>

#include "prompt_column.hpp"

namespace moescope::gui {

namespace {

void draw_examples(ViewContext& view, PromptBoxState& state) {
  const std::vector<std::string> groups = example_groups(state.examples);
  if (groups.empty()) return;
  state.example_group = std::clamp(state.example_group, 0, static_cast<int>(groups.size()) - 1);
  const std::string& group = groups[static_cast<size_t>(state.example_group)];
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("Examples");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::CalcTextSize("Classics____").x + ImGui::GetFrameHeight());
  if (ImGui::BeginCombo("##group", group.c_str())) {
    for (size_t i = 0; i < groups.size(); ++i) {
      if (ImGui::Selectable(groups[i].c_str(), static_cast<int>(i) == state.example_group)) {
        state.example_group = static_cast<int>(i);
      }
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  if (ImGui::BeginCombo("##example", "choose a prompt\xE2\x80\xA6", ImGuiComboFlags_HeightLarge)) {
    for (size_t i = 0; i < state.examples.size(); ++i) {
      const ExamplePrompt& example = state.examples[i];
      if (example.group != group) continue;
      ImGui::PushID(static_cast<int>(i));
      if (ImGui::Selectable(example.text.c_str())) {
        view.actions.set_prompt(example.text);
      }
      ImGui::PopID();
    }
    ImGui::EndCombo();
  }
}

void draw_generation(ViewContext& view, PromptBoxState& state) {
  Settings& settings = view.settings;
  const WorkerStatus status = view.worker.status();
  const bool generating = status.activity == WorkerActivity::Generating;
  ImGui::TextUnformatted("Continue the prompt");
  ImGui::SameLine();
  help_marker(
      "The model samples one token after another; each new token's routing joins every view. "
      "Temperature 0 always takes the most likely token; top-p keeps the smallest set of tokens "
      "whose probabilities add up to p. The same seed gives the same text.");
  const float label_width = ImGui::CalcTextSize("Temperature  ").x;
  ImGui::PushItemWidth(std::max(60.0f, ImGui::GetContentRegionAvail().x - label_width));
  ImGui::SliderInt("Tokens", &settings.generate_tokens, 1, 256);
  ImGui::SliderFloat("Temperature", &settings.temperature, 0.0f, 2.0f, "%.2f");
  ImGui::SliderFloat("Top-p", &settings.top_p, 0.05f, 1.0f, "%.2f");
  int seed = static_cast<int>(settings.seed & 0x7FFFFFFF);
  if (ImGui::InputInt("Seed", &seed)) settings.seed = static_cast<uint64_t>(std::max(seed, 0));
  ImGui::PopItemWidth();

  ImGui::BeginDisabled(generating || view.snapshot.tokens.empty());
  if (ImGui::Button("Generate")) {
    view.actions.generate(settings.generate_tokens);
  }
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(!generating);
  if (ImGui::Button("Stop")) view.worker.stop_generation();
  ImGui::EndDisabled();
  if (generating) {
    ImGui::SameLine();
    ImGui::ProgressBar(
        status.total > 0 ? static_cast<float>(status.done) / static_cast<float>(status.total)
                         : 0.0f,
        ImVec2(-1, 0),
        (std::to_string(status.done) + " / " + std::to_string(status.total)).c_str());
  }

  std::string generated;
  for (const TokenView& token : view.snapshot.tokens) {
    if (token.generated) generated += token.piece;
  }
  if (!generated.empty()) {
    ImGui::Spacing();
    ImGui::TextDisabled("Generated (underlined in the token strip):");
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(generated.c_str());
    ImGui::PopTextWrapPos();
    ImGui::BeginDisabled(generating);
    if (ImGui::Button("Keep it in the prompt")) {
      view.actions.set_prompt(state.text + generated);
    }
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Appends the generated text to the prompt so you can edit it.");
  }
}

// Prompt B: a second prompt routed on its own, shown beside this one (A | B) in the strip and
// the views that compare; the Experts view edits the same prompt.
void draw_prompt_b(ViewContext& view, PromptBoxState& state) {
  const PlaygroundResult* result = view.snapshot.playground.get();
  if (result && result->compare_prompt != state.synced_prompt_b)
    state.prompt_b = state.synced_prompt_b = result->compare_prompt;
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("Prompt B");
  ImGui::SameLine();
  help_marker(
      "A second prompt, routed on its own. The token strip, Router scores, Expert load and "
      "Domains show it beside this one (A | B) on the same scales; the Experts view shows where "
      "their loads differ. Press Enter to route it; empty it to stop comparing.");
  ImGui::SetNextItemWidth(-1);
  if (ImGui::InputTextWithHint("##prompt_b", "compare with another prompt (Enter)",
                               &state.prompt_b, ImGuiInputTextFlags_EnterReturnsTrue))
    view.actions.compare_prompt(state.prompt_b);
}

}  // namespace

void draw_prompt_box(ViewContext& view, PromptBoxState& state) {
  draw_examples(view, state);
  const float box_height =
      std::max(ImGui::GetTextLineHeight() * 4, ImGui::GetContentRegionAvail().y * 0.38f);
  // ImGui's text box does not wrap lines, so a long sentence runs off the column. While the
  // user is not typing, the prompt is shown wrapped; a click (or the first start) edits it.
  if (state.focus_prompt) state.editing = true;
  if (state.editing) {
    if (state.focus_prompt) {
      ImGui::SetKeyboardFocusHere();
      state.focus_prompt = false;
    }
    if (ImGui::InputTextMultiline("##prompt", &state.text, ImVec2(-1, box_height)))
      view.actions.set_prompt(state.text);
    if (ImGui::IsItemDeactivated()) state.editing = false;
  } else {
    ImGui::PushStyleColor(ImGuiCol_ChildBg, ImGui::GetStyleColorVec4(ImGuiCol_FrameBg));
    ImGui::BeginChild("##prompt_wrapped", ImVec2(-1, box_height), false);
    ImGui::PushTextWrapPos(0);
    if (state.text.empty()) {
      ImGui::TextDisabled("Click here and type a prompt.");
    } else {
      ImGui::TextUnformatted(state.text.c_str());
    }
    ImGui::PopTextWrapPos();
    const bool clicked = ImGui::IsWindowHovered() && ImGui::IsMouseClicked(ImGuiMouseButton_Left);
    ImGui::EndChild();
    ImGui::PopStyleColor();
    if (ImGui::IsItemHovered()) ImGui::SetMouseCursor(ImGuiMouseCursor_TextInput);
    if (clicked) state.focus_prompt = true;  // the text box takes over from the next frame
  }
  const Snapshot& snapshot = view.snapshot;
  ImGui::TextDisabled("%d tokens (%d from the cache, %d computed)",
                      static_cast<int>(snapshot.tokens.size()), snapshot.reused_tokens,
                      snapshot.computed_tokens);
  if (!snapshot.warning.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.95f, 0.6f, 0.2f, 1));
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(snapshot.warning.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
  }
  draw_prompt_b(view, state);
  ImGui::Separator();
  draw_generation(view, state);
}

}  // namespace moescope::gui
