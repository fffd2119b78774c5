// Inside the MoE layer: the selected token walks through the selected MoE layer in seven steps
// (hidden state, router logits, scores, top-k, gate weights, expert outputs and their weighted
// sum, residual), each with the model's own numbers from the trace (moe/routing.hpp: the
// RoutingRecord and its LayerValues). The view only divides and sums what it shows to explain
// a recorded result; every result comes from the backend. Play steps on by itself: through the
// steps, then the next MoE layer, then the next token.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "moe/chosen_experts.hpp"
#include "moe/plot/figure.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

constexpr int kSteps = 7;
// Experts listed per table; a model with more shows its best ones and says how many are left.
constexpr size_t kListed = 10;

const char* const kStepTitles[kSteps] = {
    "1. The hidden state entering the layer",
    "2. Router logits: z = W_r x",
    "3. Scores",
    "4. Top-k: which experts run",
    "5. Gate weights",
    "6. Expert outputs and their weighted sum",
    "7. The residual, and the next layer",
};

struct InsideViewState {
  int step = 0;  // 0 .. kSteps-1
  bool playing = false;
  float seconds_per_step = 2.5f;
  double last_advance = 0;
};

std::string format(const char* fmt, double value) {
  char text[64];
  std::snprintf(text, sizeof text, fmt, value);
  return text;
}

// Experts ordered by `key` (highest first), at most kListed, the chosen ones always included.
std::vector<int> listed_experts(const std::vector<float>& key, const moe::RoutingRecord& record) {
  std::vector<int> order(key.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return key[static_cast<size_t>(a)] > key[static_cast<size_t>(b)];
  });
  std::vector<int> listed;
  for (int e : order) {
    const bool chosen = std::find(record.experts.begin(), record.experts.end(), e) !=
                            record.experts.end() ||
                        std::find(record.dropped.begin(), record.dropped.end(), e) !=
                            record.dropped.end();
    if (listed.size() < kListed || chosen) listed.push_back(e);
  }
  return listed;
}

bool is_chosen(const moe::RoutingRecord& record, int expert) {
  return std::find(record.experts.begin(), record.experts.end(), expert) != record.experts.end();
}

bool is_dropped(const moe::RoutingRecord& record, int expert) {
  return std::find(record.dropped.begin(), record.dropped.end(), expert) != record.dropped.end();
}

void more_experts_note(size_t listed, size_t n_expert) {
  if (listed < n_expert)
    ImGui::TextDisabled("... and %zu more experts (highest first)", n_expert - listed);
}

// A bar of `value` on a scale where `full` fills `width` pixels; negative values go left of the
// zero line in the middle when `signed_scale`.
void value_bar(float value, float full, float width, ImU32 color, bool signed_scale) {
  const float height = ImGui::GetTextLineHeight() * 0.8f;
  const ImVec2 at = ImGui::GetCursorScreenPos();
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const float zero = signed_scale ? at.x + width / 2 : at.x;
  const float span = signed_scale ? width / 2 : width;
  const float length = full > 0 ? std::clamp(value / full, -1.0f, 1.0f) * span : 0;
  const float top = at.y + ImGui::GetTextLineHeight() * 0.1f;
  draw->AddRectFilled(ImVec2(std::min(zero, zero + length), top),
                      ImVec2(std::max(zero, zero + length), top + height), color);
  if (signed_scale)
    draw->AddLine(ImVec2(zero, top - 2), ImVec2(zero, top + height + 2),
                  ImGui::GetColorU32(ImGuiCol_TextDisabled));
  ImGui::Dummy(ImVec2(width, ImGui::GetTextLineHeight()));
}

ImU32 expert_fill(int expert, bool muted) {
  moe::plot::Color color = moe::plot::expert_color(expert);
  return to_imgui(muted ? color.with_alpha(0.35f) : color);
}

// Outlines the last table row's first cell (a chosen expert).
void outline_last_item() {
  ImGui::GetWindowDrawList()->AddRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax(),
                                      ImGui::GetColorU32(ImGuiCol_Text), 3, 0, 2);
}

void expert_cell(int expert, bool chosen, bool greyed) {
  if (greyed) ImGui::BeginDisabled();
  ImGui::BeginGroup();
  expert_chip(expert);
  ImGui::EndGroup();
  if (greyed) {
    ImGui::EndDisabled();
    // Fade the colour swatch too, towards the window background.
    const ImVec4 background = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    ImGui::GetWindowDrawList()->AddRectFilled(
        ImGui::GetItemRectMin(), ImGui::GetItemRectMax(),
        ImGui::GetColorU32(ImVec4(background.x, background.y, background.z, 0.55f)));
  }
  if (chosen) outline_last_item();
}

// A table of numbers: columns fit their content, which does not wrap (the step's text does).
bool begin_table(const char* id, int columns) {
  if (!ImGui::BeginTable(id, columns,
                         ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingFixedFit))
    return false;
  ImGui::PushTextWrapPos(-1.0f);
  return true;
}

void end_table() {
  ImGui::PopTextWrapPos();
  ImGui::EndTable();
}

void draw_hidden_state(const moe::RoutingRecord& record, int n_embd) {
  const moe::LayerValues& values = record.values;
  ImGui::TextWrapped("x is the token's hidden state after the layer's FFN norm: %d numbers. "
                     "The router and every expert read this same x.",
                     n_embd);
  if (!values.available) {
    ImGui::TextDisabled("x's values were not recorded for this token.");
    return;
  }
  ImGui::Text("|x| = %.3f; its first %zu values:", values.input_norm, values.input_head.size());
  float largest = 0;
  for (float v : values.input_head) largest = std::max(largest, std::abs(v));
  const float em = ImGui::GetFontSize();
  const float cell = 4.2f * em;
  const int columns = std::clamp(static_cast<int>(ImGui::GetContentRegionAvail().x / cell), 1,
                                 moe::LayerValues::kInputHead);
  if (begin_table("##x", columns)) {
    for (int c = 0; c < columns; ++c)
      ImGui::TableSetupColumn(nullptr, ImGuiTableColumnFlags_WidthFixed, cell - 0.5f * em);
    for (size_t i = 0; i < values.input_head.size(); ++i) {
      ImGui::TableNextColumn();
      const float v = values.input_head[i];
      // Blue for negative, orange for positive, stronger for larger values.
      const float strength = largest > 0 ? std::abs(v) / largest : 0;
      const ImU32 fill = v < 0 ? IM_COL32(60, 110, 220, static_cast<int>(40 + 180 * strength))
                               : IM_COL32(230, 120, 30, static_cast<int>(40 + 180 * strength));
      const ImVec2 at = ImGui::GetCursorScreenPos();
      ImGui::GetWindowDrawList()->AddRectFilled(
          at, ImVec2(at.x + cell - 0.3f * em, at.y + ImGui::GetTextLineHeight()), fill, 2);
      ImGui::Text("%+.3f", v);
    }
    end_table();
  }
  ImGui::TextDisabled("(x[0] .. x[%zu]; blue negative, orange positive)",
                      values.input_head.size() - 1);
}

void draw_logits(const moe::RoutingRecord& record) {
  ImGui::TextWrapped("Each expert e has a row w_e of the router matrix W_r; its logit is the dot "
                     "product z_e = w_e . x. Larger: the router likes that expert more for this "
                     "token.");
  float largest = 0;
  for (float z : record.logits) largest = std::max(largest, std::abs(z));
  const std::vector<int> listed = listed_experts(record.logits, record);
  if (begin_table("##logits", 3)) {
    for (int e : listed) {
      ImGui::TableNextColumn();
      expert_chip(e);
      ImGui::TableNextColumn();
      ImGui::Text("z = %+.3f", record.logits[static_cast<size_t>(e)]);
      ImGui::TableNextColumn();
      value_bar(record.logits[static_cast<size_t>(e)], largest, 12 * ImGui::GetFontSize(),
                expert_fill(e, false), true);
    }
    end_table();
  }
  more_experts_note(listed.size(), record.logits.size());
}

void draw_scores(const moe::RoutingRecord& record) {
  const moe::RecordedGate& gate = record.gate;
  const bool sigmoid = gate.gating == moe::GatingFunction::Sigmoid;
  const bool exact = gate.noise_scale == 0;  // noise is not recorded: then show scores only
  const float t = gate.temperature;
  if (!exact)
    ImGui::TextWrapped("Router noise is on (scale %.2f): noise was added to the logits before "
                       "scoring, so the scores below come from noisy logits.",
                       gate.noise_scale);
  if (sigmoid) {
    ImGui::TextWrapped("Sigmoid: each expert is scored on its own, "
                       "s_e = 1 / (1 + exp(-z_e%s)). The scores do not sum to 1.",
                       t != 1 ? " / T" : "");
  } else {
    ImGui::TextWrapped("Softmax: s_e = exp(z_e%s) / sum over all experts of exp(z_j%s). "
                       "The scores are positive and sum to 1.",
                       t != 1 ? " / T" : "", t != 1 ? " / T" : "");
  }
  if (t != 1) ImGui::Text("Router temperature T = %.2f (a Playground knob)", t);
  // exp(z/T) for the explanation: the division below reproduces the recorded score.
  double sum_exp = 0;
  if (!sigmoid && exact) {
    for (size_t e = 0; e < record.logits.size(); ++e)
      if (record.probs[e] > 0) sum_exp += std::exp(static_cast<double>(record.logits[e]) / t);
    ImGui::Text("sum of exp(z%s) = %.4g", t != 1 ? "/T" : "", sum_exp);
  }
  const bool biased = !gate.selection_bias.empty();
  if (biased)
    ImGui::TextWrapped("Last column: score + selection bias (DeepSeek-V3 balancing, or the "
                       "Playground's expert bias). It decides WHICH experts run; the gate weights "
                       "still come from the scores alone.");
  const std::vector<int> listed = listed_experts(record.probs, record);
  if (begin_table("##scores", biased ? 4 : 3)) {
    for (int e : listed) {
      const auto i = static_cast<size_t>(e);
      ImGui::TableNextColumn();
      expert_chip(e);
      ImGui::TableNextColumn();
      if (record.probs[i] == 0 && !sigmoid) {
        ImGui::TextDisabled("disabled");
      } else if (!sigmoid && exact) {
        ImGui::Text("%.4g / %.4g = %.3f", std::exp(static_cast<double>(record.logits[i]) / t),
                    sum_exp, record.probs[i]);
      } else {
        ImGui::Text("s = %.3f", record.probs[i]);
      }
      ImGui::TableNextColumn();
      value_bar(record.probs[i], 1, (biased ? 4 : 8) * ImGui::GetFontSize(), expert_fill(e, false),
                false);
      if (biased) {
        ImGui::TableNextColumn();
        const float bias = i < gate.selection_bias.size() ? gate.selection_bias[i] : 0;
        ImGui::Text("%+.3f = %.3f", bias, record.probs[i] + bias);
      }
    }
    end_table();
  }
  more_experts_note(listed.size(), record.probs.size());
}

void draw_top_k(const moe::RoutingRecord& record) {
  const bool biased = !record.gate.selection_bias.empty();
  std::vector<float> selection = record.probs;
  for (size_t e = 0; e < selection.size() && e < record.gate.selection_bias.size(); ++e)
    selection[e] += record.gate.selection_bias[e];
  const size_t k = record.experts.size() + record.dropped.size();
  ImGui::TextWrapped("The %zu highest %s win (outlined); the others are not computed at all for "
                     "this token.",
                     k, biased ? "values of score + bias" : "scores");
  if (!record.groups.empty()) {
    // Group-limited routing: say which groups, or a choice below the top looks wrong.
    std::string groups;
    for (int32_t g : record.groups) groups += (groups.empty() ? "" : ", ") + std::to_string(g);
    const int per_group = static_cast<int>(selection.size()) / std::max(record.gate.n_groups, 1);
    ImGui::TextWrapped("Group-limited: the %d experts form %d groups of %d; only the best %d "
                       "groups (here %s) are searched, so a higher value outside them loses.",
                       static_cast<int>(selection.size()), record.gate.n_groups, per_group,
                       record.gate.n_groups_used, groups.c_str());
  }
  const std::vector<int> listed = listed_experts(selection, record);
  if (begin_table("##topk", 3)) {
    for (int e : listed) {
      const bool chosen = is_chosen(record, e), dropped = is_dropped(record, e);
      ImGui::TableNextColumn();
      expert_cell(e, chosen, !chosen);
      ImGui::TableNextColumn();
      if (!chosen) ImGui::BeginDisabled();
      ImGui::Text("%.3f", selection[static_cast<size_t>(e)]);
      if (!chosen) ImGui::EndDisabled();
      ImGui::TableNextColumn();
      if (chosen)
        ImGui::TextUnformatted("chosen");
      else if (dropped)
        ImGui::TextColored(ImVec4(0.9f, 0.3f, 0.3f, 1), "dropped: expert full (capacity)");
      else
        ImGui::TextDisabled("not chosen");
    }
    end_table();
  }
  more_experts_note(listed.size(), selection.size());
  if (record.pinned) ImGui::TextWrapped("A Playground pin forced an expert in.");
}

void draw_gate_weights(const moe::RoutingRecord& record) {
  const moe::RecordedGate& gate = record.gate;
  double chosen_sum = 0;
  for (int e : record.experts) chosen_sum += record.probs[static_cast<size_t>(e)];
  if (gate.normalized) {
    ImGui::TextWrapped("Renormalization: each chosen score is divided by the sum of the chosen "
                       "scores, so the weights sum to 1.");
    ImGui::Text("sum of chosen scores = %.3f", chosen_sum);
  } else {
    ImGui::TextWrapped("This model does not renormalize: a chosen expert's weight is its score%s.",
                       gate.scale != 1 ? " times the scale" : "");
  }
  if (begin_table("##weights", 3)) {
    for (size_t j = 0; j < record.experts.size(); ++j) {
      const int e = record.experts[j];
      ImGui::TableNextColumn();
      expert_cell(e, true, false);
      ImGui::TableNextColumn();
      const float score = record.probs[static_cast<size_t>(e)];
      std::string sum = gate.normalized ? " / " + format("%.3f", chosen_sum) : "";
      std::string scale = gate.scale != 1 ? " x " + format("%.2f", gate.scale) : "";
      ImGui::Text("w = %.3f%s%s = %.3f", score, sum.c_str(), scale.c_str(), record.weights[j]);
      ImGui::TableNextColumn();
      value_bar(record.weights[j], std::max(1.0f, gate.scale), 8 * ImGui::GetFontSize(),
                expert_fill(e, false), false);
    }
    end_table();
  }
  if (record.experts.empty()) ImGui::TextWrapped("No expert ran for this token (all dropped).");
}

void draw_expert_outputs(const moe::RoutingRecord& record) {
  const moe::LayerValues& values = record.values;
  // llama4 weighs each expert's input instead of its output: y = sum of E_i(w_i x).
  const bool on_input = record.gate.weights_on_input;
  ImGui::TextWrapped(
      "Each chosen expert is a small feed-forward network E_i. The layer's output "
      "is y = sum of %s%s.",
      on_input ? "E_i(w_i x) (the weight scales the expert's input)" : "w_i E_i(x)",
      values.has_shared ? " + the shared experts' S(x)" : "");
  if (!values.available) {
    ImGui::TextWrapped("The experts' outputs were not recorded for this token.");
    return;
  }
  if (begin_table("##outputs", 3)) {
    for (size_t j = 0; j < record.experts.size() && j < values.expert_norms.size(); ++j) {
      const int e = record.experts[j];
      ImGui::TableNextColumn();
      expert_cell(e, true, false);
      ImGui::TableNextColumn();
      ImGui::Text(on_input ? "|E(w x)| = %.3f" : "|E(x)| = %.3f", values.expert_norms[j]);
      ImGui::TableNextColumn();
      ImGui::Text("weight %.3f", record.weights[j]);
    }
    end_table();
  }
  std::string formula = "y = ";
  for (size_t j = 0; j < record.experts.size(); ++j) {
    // Appended piece by piece (GCC 12 warns falsely on "(" + string + ...).
    const std::string weight = format("%.3f", record.weights[j]);
    std::string expert = "E";
    expert += std::to_string(record.experts[j]);
    if (j > 0) formula += " + ";
    if (on_input) {
      formula.append(expert).append("(").append(weight).append(" x)");
    } else {
      formula.append(weight).append(" ").append(expert).append("(x)");
    }
  }
  if (values.has_shared) formula += " + S(x)";
  ImGui::TextUnformatted(formula.c_str());
  if (values.has_shared) {
    ImGui::Text(on_input ? "|sum of E_i(w_i x)| = %.3f" : "|sum of w_i E_i(x)| = %.3f",
                values.routed_norm);
    ImGui::Text("|S(x)| (shared experts, every token) = %.3f", values.shared_norm);
    ImGui::Text("|y| = %.3f", values.output_norm);
  } else {
    ImGui::Text("|y| = %.3f", values.output_norm);
  }
  ImGui::TextDisabled("Sizes do not simply add: the vectors point in different directions.");
}

void draw_residual(ViewContext& view, const moe::RoutingRecord& record, int token, int layer) {
  const moe::RoutingTrace& trace = view.snapshot.trace;
  ImGui::TextWrapped("The residual connection: the layer adds y to the hidden state that came "
                     "in, h <- h + y. Nothing else changes; the next layer reads the sum.");
  if (record.values.available)
    ImGui::Text("|y| = %.3f is added (the FFN input x had |x| = %.3f after its norm)",
                record.values.output_norm, record.values.input_norm);
  const std::vector<int>& moe_layers = trace.moe_layers();
  const auto next = std::upper_bound(moe_layers.begin(), moe_layers.end(), layer);
  if (next == moe_layers.end() || !trace.has(token, *next)) {
    ImGui::TextWrapped("This is the last MoE layer: next come the output norm and the "
                       "prediction of the next token.");
    return;
  }
  const moe::RoutingRecord& after = trace.at(token, *next);
  ImGui::Text("At the next MoE layer (L%d) this token goes to:", *next);
  for (size_t j = 0; j < after.experts.size(); ++j) {
    expert_chip(after.experts[j]);
    ImGui::SameLine();
    ImGui::Text("w %.2f", after.weights[j]);
    if (j + 1 < after.experts.size()) ImGui::SameLine(0, ImGui::GetFontSize());
  }
  ImGui::TextDisabled("Next follows the token there.");
}

// Next: the next step, then the next MoE layer, then the next token. Returns false at the end.
bool advance(ViewContext& view, InsideViewState& state) {
  if (state.step + 1 < kSteps) {
    ++state.step;
    return true;
  }
  const std::vector<int>& moe_layers = view.snapshot.trace.moe_layers();
  const int before = view.selection.layer;
  step_layer(view.selection, 1, moe_layers);
  if (view.selection.layer == before) {
    const int n_tokens = static_cast<int>(view.snapshot.tokens.size());
    if (view.selection.token + 1 >= n_tokens) return false;
    move_token(view.selection, 1, n_tokens);
    if (!moe_layers.empty()) view.selection.layer = moe_layers.front();
  }
  state.step = 0;
  return true;
}

void draw_controls(ViewContext& view, InsideViewState& state) {
  ImGui::BeginDisabled(state.step == 0);
  if (button("Prev")) state.step = std::max(0, state.step - 1);
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (button("Next")) advance(view, state);
  ImGui::SameLine();
  if (button(state.playing ? "Pause" : "Play")) {
    state.playing = !state.playing;
    state.last_advance = ImGui::GetTime();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(7 * ImGui::GetFontSize());
  ImGui::SliderFloat("##speed", &state.seconds_per_step, 0.5f, 8.0f, "%.1f s/step");
  if (state.playing && ImGui::GetTime() - state.last_advance >= state.seconds_per_step) {
    state.last_advance = ImGui::GetTime();
    if (!advance(view, state)) state.playing = false;
  }
}

void draw_inside(ViewContext& view, InsideViewState& state) {
  const Snapshot& snapshot = view.snapshot;
  const int token = view.selection.token, layer = view.selection.layer;
  if (snapshot.model == nullptr || token < 0 || layer < 0 || !snapshot.trace.has(token, layer)) {
    ImGui::TextWrapped("Type a prompt and select a token and a MoE layer: this view walks that "
                       "token through the layer's routing, step by step.");
    return;
  }
  if (snapshot.trace.chosen_experts_only()) {  // a server's trace: no scores to walk through
    const moe::RoutingRecord& chosen = snapshot.trace.at(token, layer);
    std::string experts;
    for (int32_t e : chosen.experts) experts += (experts.empty() ? "E" : ", E") + std::to_string(e);
    ImGui::TextWrapped(
        "Token #%d chose %s at layer %d. This view walks through the router's "
        "scores, but %s.",
        token, experts.c_str(), layer, moe::kChosenExpertsOnlyNote);
    return;
  }
  const moe::RoutingRecord& record = snapshot.trace.at(token, layer);
  const std::string text = token < static_cast<int>(view.token_labels.size())
                               ? view.token_labels[static_cast<size_t>(token)]
                               : std::to_string(token);
  draw_controls(view, state);
  ImGui::SameLine(0, ImGui::GetFontSize());
  ImGui::TextDisabled("token \"%s\" (#%d), layer %d", text.c_str(), token, layer);
  ImGui::TextUnformatted(kStepTitles[state.step]);
  if (!ImGui::BeginChild("##step")) {
    ImGui::EndChild();
    return;
  }
  ImGui::PushTextWrapPos(0);
  switch (state.step) {
    case 0: draw_hidden_state(record, snapshot.model->config.n_embd); break;
    case 1: draw_logits(record); break;
    case 2: draw_scores(record); break;
    case 3: draw_top_k(record); break;
    case 4: draw_gate_weights(record); break;
    case 5: draw_expert_outputs(record); break;
    default: draw_residual(view, record, token, layer); break;
  }
  ImGui::PopTextWrapPos();
  ImGui::EndChild();
}

class InsideView final : public View {
public:
  void draw(ViewContext& view) override { draw_inside(view, state_); }
  bool step(int delta) override {
    const int next = state_.step + delta;
    if (next < 0 || next >= kSteps) return false;
    state_.step = next;
    return true;
  }

private:
  InsideViewState state_;
};

}  // namespace

extern const ViewInfo inside_view;
const ViewInfo inside_view = {
    "inside", "Inside the MoE layer", "One token through one MoE layer, step by step",
    "The selected token at the selected MoE layer, in seven steps with the model's own numbers:\n"
    "the hidden state x, the router logits z = W_r x, the scores (softmax or sigmoid, plus a\n"
    "selection bias where the model has one), the top-k choice, the gate weights, the chosen\n"
    "experts' outputs and their weighted sum y, and the residual h + y. Next and Prev step; Play\n"
    "steps on by itself through the steps, the layers and the tokens.",
    make_view<InsideView>};

}  // namespace moescope::gui
