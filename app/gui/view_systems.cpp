// Systems: the MoE systems a lecture names, with their MoE shape as published (experts, top-k,
// shared experts, routing rule, capacity, year and source), an honest "not public" where the
// maker has not published it, and one button per system that shows its routing here: its rule
// applied to the open model in the Playground, a model of its family found on disk, or a
// random-weight model of its shape.
#include <imgui.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "view.hpp"

namespace moescope::gui {

namespace {

// How a system is shown here.
enum class Demo {
  None,         // its shape is not public
  Rule,         // its routing rule on the open model (Playground)
  RandomShape,  // a random-weight model of its shape (or a model of its family on disk)
};

struct MoeSystem {
  const char* name;
  const char* published;  // year and source
  const char* experts;
  const char* top_k;
  const char* routing;
  const char* capacity;
  Demo demo;
  const char* family;  // file-name part of GGUF models of its family ("" if none)
  // Demo::Rule: the top-k and capacity factor its rule applies to the open model.
  int rule_top_k = 0;
  double rule_capacity_factor = 0;
  // Its scoring on the open model too: sigmoid scores and a balancing bias (DeepSeek-V3).
  bool sigmoid_and_bias = false;
};

// Facts from each paper or model card; "not public" where the maker has published no number.
const std::vector<MoeSystem>& moe_systems() {
  static const std::vector<MoeSystem> all = {
      {"GShard", "2020, Lepikhin et al., arXiv:2006.16668",
       "2048 per MoE layer (600B model; every other layer)", "2",
       "softmax; the second expert is used with a probability set by its weight",
       "2N/E tokens per expert (factor 2)", Demo::Rule, "", 2, 2.0},
      {"Switch Transformer", "2021, Fedus, Zoph & Shazeer, arXiv:2101.03961",
       "128 (Switch-Base) to 2048 (Switch-C, 1.6T parameters)", "1",
       "softmax, top-1; auxiliary balancing loss", "factor 1.0-1.25; overflow tokens skip the layer",
       Demo::Rule, "", 1, 1.25},
      {"GLaM", "2021, Du et al., arXiv:2112.06905",
       "64 per MoE layer (every other layer); 1.2T parameters, 97B used per token", "2",
       "softmax, top-2; auxiliary balancing loss", "yes (tokens over capacity are dropped)",
       Demo::RandomShape, "glam"},
      {"Mixtral 8x7B", "2024, Mistral AI, arXiv:2401.04088",
       "8 per layer; 46.7B parameters, 12.9B used per token", "2",
       "softmax over the two chosen experts' logits", "none (no token is dropped)",
       Demo::RandomShape, "mixtral"},
      {"Grok-1", "2024, xAI, open weights", "8 per layer; 314B parameters", "2",
       "softmax, top-2 renormalized; GeGLU experts; attention scores soft-capped at 30; it loads "
       "in moescope (grok)",
       "not published", Demo::RandomShape, "grok"},
      {"Llama 4", "2025, Meta, open weights",
       "Maverick: 128 routed + 1 shared in every other layer (400B, 17B used); Scout: 16 + 1 in "
       "every layer",
       "1",
       "sigmoid of the chosen expert's router logit, which scales the expert's input; every 4th "
       "layer without RoPE; it loads in moescope (llama4)",
       "none (no token is dropped)", Demo::RandomShape, "llama4"},
      {"DeepSeek-V3", "2024, DeepSeek-AI, arXiv:2412.19437",
       "256 routed + 1 shared per layer (first 3 layers dense); 671B, 37B used per token", "8",
       "sigmoid scores; a per-expert bias steers the choice (not the weights) instead of an "
       "auxiliary loss; 8 groups, the best 4 searched",
       "none (no token is dropped)", Demo::RandomShape, "deepseek", 0, 0, true},
      {"gpt-oss", "2025, OpenAI, open weights",
       "120b: 128 per layer (117B parameters, 5.1B used per token); 20b: 32 per layer", "4",
       "top-4 by router logits plus a per-expert bias, weights a softmax over the 4 chosen; "
       "clamped SwiGLU experts; it loads in moescope (gpt-oss)",
       "none (no token is dropped)", Demo::RandomShape, "gpt-oss"},
      {"GPT-4, GPT-5", "OpenAI", "not public", "not public",
       "closed: OpenAI has not published the architecture (rumours are left out here); gpt-oss, "
       "the row above, is OpenAI's open-weight MoE, not GPT-4/5",
       "not public", Demo::None, ""},
      {"Gemini", "Google DeepMind, Gemini 1.5 report (2024)",
       "not public (the report calls it a sparse MoE Transformer)", "not public", "not public",
       "not public", Demo::None, ""},
      {"Claude", "Anthropic", "not public", "not public",
       "Anthropic has not published whether Claude uses experts", "not public", Demo::None, ""},
  };
  return all;
}

// The routing rule of GShard and Switch on the open model: top-k with a capacity factor.
moe::RoutingInterventions rule_of(const MoeSystem& system) {
  moe::RoutingInterventions rule;
  rule.rule = moe::RoutingRule::Capacity;
  rule.top_k = system.rule_top_k;
  rule.capacity_factor = system.rule_capacity_factor;
  return rule;
}

// DeepSeek-V3's scoring on the open model: sigmoid scores, and the bias its training keeps
// adjusting (b_e += gamma * sign(mean load - load_e)) after one step on the current prompt's load
// at the selected layer. The paper's gamma is 0.001 per training step; one step of 0.05 makes
// the steering visible on one prompt. The bias changes which experts are chosen, not their
// weights.
constexpr double kBiasStep = 0.05;

moe::RoutingInterventions sigmoid_and_bias_rule(const ViewContext& view) {
  moe::RoutingInterventions rule;
  rule.scoring = moe::Scoring::Sigmoid;
  const int moe_index = moe_index_of(view.selection, view.snapshot.trace.moe_layers());
  if (moe_index < 0 || moe_index >= static_cast<int>(view.snapshot.stats.layers.size()))
    return rule;
  const std::vector<int64_t>& counts =
      view.snapshot.stats.layers[static_cast<size_t>(moe_index)].token_counts;
  if (counts.empty()) return rule;
  double mean = 0;
  for (int64_t count : counts) mean += static_cast<double>(count);
  mean /= static_cast<double>(counts.size());
  for (size_t e = 0; e < counts.size(); ++e) {
    const double load = static_cast<double>(counts[e]);
    if (load != mean) rule.expert_bias[static_cast<int>(e)] = load < mean ? kBiasStep : -kBiasStep;
  }
  return rule;
}

// A small random-weight model with the system's experts, top-k and routing (the width and
// depth are a toy's, so that it answers every keystroke).
moe::RandomModelSpec shape_of(const MoeSystem& system) {
  moe::RandomModelSpec spec;
  std::string key = system.family;
  spec.name = "moescope-random-" + key + "-shape";
  spec.n_layer = 4;
  spec.n_ctx = 2048;
  spec.seed = 11;
  if (key == "glam") {
    spec.n_expert = 64;
    spec.n_expert_used = 2;
    spec.dense_layers = {0, 2};  // every other layer
  } else if (key == "deepseek") {
    spec.architecture = "deepseek2";
    spec.dense_layers = {0};
    spec.head_dim = 24, spec.n_rot = 8, spec.head_dim_v = 16;
    spec.kv_lora_rank = 32, spec.q_lora_rank = 32;
    spec.n_expert = 256, spec.n_expert_used = 8, spec.n_expert_shared = 1;
    spec.sigmoid_gating = true, spec.selection_bias = true, spec.expert_weights_norm = true;
    spec.expert_weights_scale = 2.5f;
    spec.n_expert_groups = 8, spec.n_expert_groups_used = 4;
  } else if (key == "llama4") {  // Maverick's pattern: MoE every other layer, top-1
    spec.architecture = "llama4";
    spec.n_expert = 128, spec.n_expert_used = 1;
    spec.moe_layer_step = 2, spec.dense_layers = {0, 2};
  } else if (key == "gpt-oss") {  // gpt-oss-20b's experts: 32, top-4
    spec.architecture = "gpt-oss";
    spec.n_expert = 32, spec.n_expert_used = 4;
    spec.attention_biases = true;
  } else {  // Mixtral and Grok-1: 8 experts, top-2
    if (key == "grok") spec.architecture = "grok";
    spec.n_expert = 8;
    spec.n_expert_used = 2;
  }
  return spec;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// A GGUF of the system's family in the bundled models or the folder the user opens files from.
std::optional<std::filesystem::path> family_model_on_disk(const MoeSystem& system,
                                                          const std::filesystem::path& assets,
                                                          const Settings& settings) {
  if (*system.family == '\0') return std::nullopt;
  for (const std::filesystem::path& folder :
       {assets / "models", std::filesystem::path(settings.browse_folder)}) {
    std::error_code error;
    for (std::filesystem::directory_iterator it(folder, error), end; !error && it != end;
         it.increment(error)) {
      const std::string name = lower(it->path().filename().string());
      if (name.find(system.family) != std::string::npos && name.size() > 5 &&
          name.substr(name.size() - 5) == ".gguf")
        return it->path();
    }
  }
  return std::nullopt;
}

struct SystemsViewState {
  std::filesystem::path assets_dir;
  // Found models of each system's family, looked up when the view is first shown.
  std::vector<std::optional<std::filesystem::path>> on_disk;
};

void draw_demo(ViewContext& view, SystemsViewState& state, size_t index) {
  const MoeSystem& system = moe_systems()[index];
  ImGui::PushID(static_cast<int>(index));
  switch (system.demo) {
    case Demo::None:
      ImGui::TextDisabled("nothing to show");
      break;
    case Demo::Rule: {
      const bool have_model = view.snapshot.model != nullptr;
      ImGui::BeginDisabled(!have_model);
      const std::string label = std::string("Apply its rule##") + system.name;
      if (button(label.c_str())) {
        std::string error;
        if (view.actions.set_interventions(rule_of(system), error)) view.actions.show_view("playground");
      }
      ImGui::EndDisabled();
      if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("Top-%d with capacity factor %.2f on the open model; the Playground "
                          "measures the effect.",
                          rule_of(system).top_k, rule_of(system).capacity_factor);
      break;
    }
    case Demo::RandomShape: {
      if (system.sigmoid_and_bias) {
        ImGui::BeginDisabled(view.snapshot.model == nullptr);
        const std::string label = std::string("Apply its scoring##") + system.name;
        if (button(label.c_str())) {
          std::string error;
          if (view.actions.set_interventions(sigmoid_and_bias_rule(view), error))
            view.actions.show_view("playground");
        }
        ImGui::EndDisabled();
        if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
          ImGui::SetTooltip("Sigmoid scores on the open model, and a balancing bias after one "
                            "step (+/-%.2f) on this prompt's load at the selected layer: the "
                            "bias changes the choice, not the weights. The Playground measures "
                            "the effect.",
                            kBiasStep);
      }
      if (const auto& found = state.on_disk[index]) {
        const std::string label = "Open " + found->filename().string() + "##" + system.name;
        if (button(label.c_str())) view.actions.open_path(found->string());
      }
      const std::string label = std::string("Random model##") + system.name;
      if (button(label.c_str())) {
        const moe::RandomModelSpec spec = shape_of(system);
        const std::filesystem::path path =
            std::filesystem::temp_directory_path() / (spec.name + ".gguf");
        view.actions.open_random_model(path.string(), spec);
      }
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("A small random-weight model of its shape: the routing rule and the "
                          "expert counts are this system's, what the experts learned is not.");
      break;
    }
  }
  ImGui::PopID();
}

void draw_systems(ViewContext& view, SystemsViewState& state) {
  if (state.on_disk.empty()) {
    for (const MoeSystem& system : moe_systems())
      state.on_disk.push_back(family_model_on_disk(system, state.assets_dir, view.settings));
  }
  ImGui::TextWrapped("The MoE systems lectures name, as their makers published them. Each button "
                     "shows that routing here.");
  const ImGuiTableFlags flags = ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_RowBg |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable("##systems", 6, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  // Widths in characters of the current font, so that the table scales with the text size.
  const float em = ImGui::GetFontSize();
  ImGui::TableSetupColumn("system", ImGuiTableColumnFlags_WidthStretch, 9.5f * em);
  ImGui::TableSetupColumn("experts", ImGuiTableColumnFlags_WidthStretch, 11 * em);
  ImGui::TableSetupColumn("top-k", ImGuiTableColumnFlags_WidthStretch, 3 * em);
  ImGui::TableSetupColumn("routing", ImGuiTableColumnFlags_WidthStretch, 12 * em);
  ImGui::TableSetupColumn("capacity", ImGuiTableColumnFlags_WidthStretch, 8 * em);
  ImGui::TableSetupColumn("try it", ImGuiTableColumnFlags_WidthFixed,
                          ImGui::CalcTextSize("Random model").x +
                              2 * ImGui::GetStyle().FramePadding.x);
  ImGui::TableHeadersRow();
  for (size_t i = 0; i < moe_systems().size(); ++i) {
    const MoeSystem& system = moe_systems()[i];
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(system.name);
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s", system.published);
    for (const char* text : {system.experts, system.top_k, system.routing, system.capacity}) {
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(text);
    }
    ImGui::PopTextWrapPos();
    ImGui::TableNextColumn();
    draw_demo(view, state, i);
  }
  ImGui::EndTable();
}

class SystemsView final : public View {
public:
  explicit SystemsView(const ViewSetup& setup) { state_.assets_dir = setup.assets_dir; }
  void draw(ViewContext& view) override { draw_systems(view, state_); }

private:
  SystemsViewState state_;
};

}  // namespace

extern const ViewInfo systems_view;
const ViewInfo systems_view = {
    "systems", "Systems", "MoE systems you have heard of",
    "Switch Transformer, GShard, GLaM, Mixtral, Grok-1, Llama 4, DeepSeek-V3, gpt-oss: how many\n"
    "experts each has, how many a token uses and how it picks them, as published. gpt-oss is\n"
    "OpenAI's open-weight MoE; GPT-4/5 themselves are closed, and Gemini and Claude have not\n"
    "published theirs either. Each button shows that routing here: its rule on the open model,\n"
    "or a random-weight model of its shape (Grok-1's, for one).",
    make_view<SystemsView>, ProfileUse::Pooled};

}  // namespace moescope::gui
