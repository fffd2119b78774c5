// Model: what was loaded (architecture, sizes, routing), where its parameters are, and the
// compute per token of this MoE against a dense model of the same total size.
#include <imgui.h>

#include <string>

#include "file_browser.hpp"
#include "moe/cpu_level.hpp"
#include "moe/ggml_types.hpp"
#include "moe/model_loading.hpp"
#include "moe/plot/model_figures.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

struct ModelPanelState {
  FigureCache parameters, flops;
};

}  // namespace

namespace plot = moe::plot;

namespace {

void row(const char* name, const std::string& value) {
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  ImGui::TextDisabled("%s", name);
  ImGui::TableSetColumnIndex(1);
  ImGui::TextWrapped("%s", value.c_str());  // long summaries wrap instead of being cut
}

// The compute backend, switchable: the worker recomputes the prompt on the chosen one (and
// reports, staying on the CPU, when the GL backend cannot start).
void backend_row(Worker& worker, const std::string& current) {
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  ImGui::TextDisabled("backend");
  ImGui::TableSetColumnIndex(1);
  static const char* const kLabels[] = {"CPU", "CPU, exact (f32 activations)",
                                        "GPU (OpenGL compute)"};
  static const char* const kNames[] = {"cpu", "cpu-exact", "gl"};
  int selected = 0;
  for (int i = 0; i < 3; ++i)
    if (current == kNames[i]) selected = i;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 16);
  if (ImGui::Combo("##backend", &selected, kLabels, 3) && kNames[selected] != current)
    worker.set_backend(kNames[selected]);
  if (ImGui::IsItemHovered()) {
    ImGui::SetTooltip("CPU: quantized weights times activations rounded to 8 bits, as llama.cpp "
                      "computes them (fast).\nCPU, exact: the exact product of the stored "
                      "weights with f32 activations (slower).\nCPU kernels: %s",
                      moe::cpu::simd_level_summary().c_str());
  }
}

std::string with_commas(uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

}  // namespace

void draw_model_panel(ViewContext& view, ModelPanelState& state) {
  const Snapshot& snapshot = view.snapshot;
  if (!snapshot.model) {
    ImGui::TextDisabled(
        "No model loaded. File > Open model\xE2\x80\xA6, or drop a .gguf file on the window.");
    return;
  }
  const ModelInfo& model = *snapshot.model;
  const moe::ModelConfig& config = model.config;
  if (!model.routing_source.empty()) {  // a server's or a file's trace: only its shape is known
    int moe_layers = 0;
    for (bool moe : config.layer_is_moe) moe_layers += moe ? 1 : 0;
    ImGui::TextWrapped(
        "Routing from %s (%s): %d layers, %d of them MoE, top-%d of %d experts. "
        "No model file is open for it; File > Open model goes back to one.",
        model.routing_source.c_str(), model.name.c_str(), config.n_layer, moe_layers,
        config.n_expert_used, config.n_expert);
    return;
  }
  const ImVec2 available = ImGui::GetContentRegionAvail();
  const float table_width = std::min(available.x * 0.42f, ImGui::GetFontSize() * 30);

  ImGui::BeginChild("##model_facts", ImVec2(table_width, 0), false);
  if (model.random_weights) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.95f, 0.65f, 0.25f, 1));
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(
        "Random weights: a generated demo model. Its router really runs, so the routing "
        "is real, but it has learned nothing about language.");
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
  }
  if (ImGui::BeginTable("##facts", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("##name", ImGuiTableColumnFlags_WidthFixed,
                            ImGui::CalcTextSize("shared experts").x);
    ImGui::TableSetupColumn("##value", ImGuiTableColumnFlags_WidthStretch);
    row("name", model.name);
    row("file", model.path);
    row("size", moe::human_bytes(model.file_bytes));
    row("architecture", config.architecture);
    row("layers", std::to_string(config.n_layer) + " (" +
                      std::to_string(config.moe_layers().size()) + " with experts)");
    row("experts", std::to_string(config.n_expert) + " per MoE layer");
    row("top-k", std::to_string(config.n_expert_used) + " experts per token");
    row("routing", moe::routing_summary(config));
    // Shared experts never appear in the routing views (the router does not choose them):
    // say here that they run for every token.
    const std::string shared = moe::shared_experts_summary(config);
    if (!shared.empty()) row("shared experts", shared);
    row("width",
        std::to_string(config.n_embd) + " (expert FFN " + std::to_string(config.n_ff_exp) + ")");
    row("attention", std::to_string(config.n_head) + " heads, " + std::to_string(config.n_head_kv) +
                         " KV heads, head " + std::to_string(config.head_dim));
    row("vocabulary", std::to_string(model.n_vocab) + " tokens (" + model.tokenizer_model + ")");
    row("context", std::to_string(model.n_ctx) + " positions here (trained " +
                       std::to_string(config.n_ctx_train) + ")");
    row("parameters", with_commas(model.parameters.total));
    row("active / token", with_commas(model.parameters.active_per_token));
    std::string types;
    for (const moe::TensorTypeUsage& usage : model.tensor_types) {
      if (!types.empty()) types += ", ";
      types += moe::type_name(usage.type) + " x" + std::to_string(usage.n_tensors);
    }
    row("tensor types", types);
    backend_row(view.worker, model.backend);
    ImGui::EndTable();
  }
  ImGui::EndChild();
  ImGui::SameLine();

  ImGui::BeginChild("##model_figures", ImVec2(0, 0), false);
  const ImVec2 figures = ImGui::GetContentRegionAvail();
  const float height = (figures.y - ImGui::GetStyle().ItemSpacing.y) / 2;
  const plot::Figure& parameters =
      state.parameters.get(cache_key({snapshot.model_generation}),
                           [&] { return plot::parameters_figure(model.parameters); });
  draw_figure("##parameters", parameters, ImVec2(figures.x, height), view.style);
  const int context = std::max(1, static_cast<int>(snapshot.tokens.size()));
  const plot::Figure& flops =
      state.flops.get(cache_key({snapshot.model_generation, static_cast<uint64_t>(context)}), [&] {
        return plot::flops_figure(moe::estimate_compute(config, model.parameters, context));
      });
  draw_figure("##flops", flops, ImVec2(figures.x, height), view.style);
  ImGui::EndChild();
}

namespace {

class ModelView final : public View {
public:
  void draw(ViewContext& view) override { draw_model_panel(view, state_); }

private:
  ModelPanelState state_;
};

}  // namespace

extern const ViewInfo model_view;
const ViewInfo model_view = {"model", "Model", "Model",
       "The architecture in numbers: layers, experts, top-k, and the total parameters against\n"
       "the ones one token really uses. That gap is why MoE models are fast for their size.",
                            make_view<ModelView>, ProfileUse::Live};

}  // namespace moescope::gui
