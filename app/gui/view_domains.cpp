// Domains: which experts each kind of text (code, maths, German ...) uses at the selected MoE
// layer, over the bundled prompt sets (assets/prompts/<domain>.txt), and how much the top-1
// expert tells about the domain, I(domain; top-1 expert). The worker routes the prompt sets
// (asked for the first time the panel is shown for a model, or with Compute); this panel only
// draws the result it publishes.
#include <imgui.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "moe/plot/aggregate_figures.hpp"
#include "profile_source.hpp"
#include "side_by_side.hpp"
#include "view.hpp"

namespace moescope::gui {

namespace {

struct DomainsPanelState {
  std::filesystem::path prompts_folder;  // assets/prompts: one <domain>.txt per domain
  uint64_t asked_generation = 0;  // the model generation a computation was last asked for
  bool asked = false;
  FigureCache heatmap;
};

}  // namespace

namespace plot = moe::plot;

void draw_domains_panel(ViewContext& view, DomainsPanelState& state) {
  const Snapshot& snapshot = view.snapshot;
  // A corpus profile brings its own labelled domains: nothing to route.
  const bool from_profile = snapshot.profile != nullptr;
  if (!snapshot.model && !from_profile) {
    ImGui::TextDisabled("No model loaded.");
    return;
  }
  const std::shared_ptr<const DomainResult>& result = snapshot.domains;
  const bool current = result && result->model_generation == snapshot.model_generation;
  const bool pending = !from_profile && view.worker.domains_pending();
  const bool asked_now = state.asked && state.asked_generation == snapshot.model_generation;
  // Once per model, on its own: the worker does it between prompts, so typing never waits.
  if (!current && !pending && !asked_now && !from_profile) {
    view.worker.compute_domains(state.prompts_folder);
    state.asked = true;
    state.asked_generation = snapshot.model_generation;
  }

  const std::vector<int> moe_layers =
      from_profile ? snapshot.trace.moe_layers() : snapshot.model->config.moe_layers();
  layer_selector("domains_layer", view.selection, moe_layers);
  ImGui::SameLine(0, ImGui::GetFontSize() * 2);
  if (!from_profile) {
    ImGui::BeginDisabled(pending);
    if (ImGui::Button(current ? "Recompute" : "Compute")) {
      view.worker.compute_domains(state.prompts_folder);
      state.asked = true;
      state.asked_generation = snapshot.model_generation;
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
  }
  help_marker(
      "Which experts each kind of text uses: one row per prompt set, one column per expert; "
      "rows sum to 100%. With a prompt B (A | B), both prompts are two more rows.\n\n"
      "Every prompt of every prompt set (assets/prompts/<domain>.txt, one prompt per line) is "
      "run from an empty context; the start-of-text token is left out. A cell is the share of "
      "the domain's routing slots (tokens x top-k) that went to the expert; even routing gives "
      "1 / experts. I(domain; top-1 expert) is the mutual information between the domain and "
      "each token's first-choice expert: 0 bits when the choice says nothing about the domain, "
      "at most log2(number of domains) when it tells the domain exactly.\n\n"
      "With a corpus profile open, the rows are the profile's labelled domains (the <domain>.txt "
      "files of its --data folder), over all their tokens.");
  if (from_profile && !result) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted("This profile has no labelled domains.");
    ImGui::TextDisabled("A profile made from a folder of <domain>.txt files labels each "
                        "document with its file's name: moescope-cli profile MODEL --data DIR "
                        "--out FILE.moeprofile");
    ImGui::PopTextWrapPos();
    return;
  }

  if (pending) {
    const WorkerStatus status = view.worker.status();
    if (status.activity == WorkerActivity::Domains && status.total > 0) {
      const std::string text = "routing " + status.subject + " prompts: " +
                               std::to_string(status.done) + " / " + std::to_string(status.total);
      ImGui::ProgressBar(static_cast<float>(status.done) / static_cast<float>(status.total),
                         ImVec2(ImGui::GetFontSize() * 24, 0), text.c_str());
    } else {
      ImGui::TextDisabled("Routing the prompt sets (after the current prompt)\xE2\x80\xA6");
    }
  }
  if (!current) {
    if (!pending) ImGui::TextDisabled("Press Compute to route the prompt sets on this model.");
    return;
  }

  const int moe_index = moe_index_of(view.selection, moe_layers);
  if (moe_index < 0 || moe_index >= static_cast<int>(result->specialization.size())) return;
  const moe::LayerSpecialization& layer = result->specialization[static_cast<size_t>(moe_index)];
  const double max_bits = std::log2(static_cast<double>(result->domains.size()));
  ImGui::Text("I(domain; top-1 expert) = %.3f bits (max log2 %zu = %.2f)", layer.mi_bits,
              result->domains.size(), max_bits);
  ImGui::SameLine(0, ImGui::GetFontSize() * 2);
  if (from_profile) {
    ImGui::TextDisabled("%zu domains, %lld tokens of the profile", result->domains.size(),
                        result->n_tokens);
  } else {
    ImGui::TextDisabled("%zu domains, %d prompts, %lld tokens", result->domains.size(),
                        result->n_prompts, result->n_tokens);
  }

  // A | B: both prompts as two more rows, on the domains' colour scale (BOS left out, as there).
  const PromptRun* b = prompt_b_beside(view);
  const plot::Figure& heatmap = state.heatmap.get(
      cache_key({snapshot.model_generation, static_cast<uint64_t>(result->n_tokens),
                 reinterpret_cast<uintptr_t>(result.get()), static_cast<uint64_t>(moe_index),
                 b ? snapshot.version : 0}),
      [&] {
        std::vector<plot::DomainStats> domains;
        for (size_t d = 0; d < result->domains.size(); ++d) {
          domains.push_back({result->domains[d], result->stats[d]});
        }
        if (b) {
          domains.push_back({"prompt A", moe::compute_routing_stats(
                                             snapshot.trace, first_text_token(snapshot.tokens))});
          domains.push_back(
              {"prompt B", moe::compute_routing_stats(b->trace, first_text_token(b->tokens))});
        }
        return with_profile_note(plot::domain_expert_figure(domains, moe_index, result->top_k),
                                 snapshot);
      });
  // Every row keeps a readable label: with little room (large text) the heatmap scrolls.
  ImGui::BeginChild("##domains_scroll", ImVec2(0, 0), false);
  const float height =
      figure_height_for_rows(heatmap, static_cast<int>(heatmap.y.max - heatmap.y.min),
                             ImGui::GetContentRegionAvail().y);
  draw_figure("##domains_heatmap", heatmap, ImVec2(ImGui::GetContentRegionAvail().x, height),
              view.style);
  ImGui::EndChild();
}

namespace {

class DomainsView final : public View {
public:
  explicit DomainsView(const ViewSetup& setup) { state_.prompts_folder = setup.assets_dir / "prompts"; }
  void draw(ViewContext& view) override { draw_domains_panel(view, state_); }

private:
  DomainsPanelState state_;
};

}  // namespace

extern const ViewInfo domains_view;
const ViewInfo domains_view = {"domains", "Domains", "Domains",
       "The bundled prompt sets (code, maths, German, ...) routed one by one: which experts\n"
       "each domain uses, and how much knowing the expert tells you about the domain (mutual\n"
       "information in bits; 0 = experts ignore the domain).",
                            make_view<DomainsView>, ProfileUse::Pooled};

}  // namespace moescope::gui
