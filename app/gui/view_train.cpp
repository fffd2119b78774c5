// Train: a tiny MoE trained live on the bundled corpus sample. The knobs on the left decide
// whether the routers keep the experts busy evenly (load-balancing loss on) or let a few
// experts take every token (weight 0: expert collapse); the figures show the loss, the load
// balance, each expert's share over time, the current load per layer, and how much the top-1
// expert tells about the domain of the text.
#include "training_run.hpp"
#include "view.hpp"

#include <imgui.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "moe/plot/live_training_figures.hpp"
#include "moe/plot/training_figures.hpp"

#ifndef _WIN32
#include <unistd.h>
#endif

namespace moescope::gui {

namespace {

struct TrainViewState {
  explicit TrainViewState(TrainingRun& training) : run(training) {}
  TrainingRun& run;
  int layer = -1;  // of the expert-share figure; -1: the last (collapse shows there first)
  FigureCache loss, balance, share, heatmap, specialization;
};

}  // namespace

namespace plot = moe::plot;

namespace {

std::filesystem::path export_path_for(const TrainSnapshot& snapshot) {
  // A new file per export: the inference worker maps the model it has open.
  static int serial = 0;
  std::string name = "moescope-live";
#ifndef _WIN32
  name.append("-").append(std::to_string(static_cast<long>(::getpid())));
#endif
  name.append("-run").append(std::to_string(snapshot.run));
  name.append("-step").append(std::to_string(snapshot.steps_done));
  name.append("-").append(std::to_string(++serial)).append(".gguf");
  std::error_code error;  // no usable temporary folder: the working directory
  const std::filesystem::path temp = std::filesystem::temp_directory_path(error);
  return (error ? std::filesystem::path(".") : temp) / "moescope-train" / name;
}

plot::TrainingLog training_log(const TrainSnapshot& snapshot) {
  plot::TrainingLog log;
  log.name = "live, " + std::to_string(snapshot.knobs.n_expert) + " experts top-" +
             std::to_string(snapshot.knobs.top_k) + ", balance weight " +
             plot::format_number(snapshot.knobs.load_balance, 3);
  log.domains = snapshot.domains;
  log.batch_tokens = static_cast<int64_t>(snapshot.shape.seq_len) * snapshot.shape.batch_seqs;
  for (const moe::train::LiveStep& step : snapshot.steps) {
    plot::TrainingStep row;
    row.step = step.step;
    row.tokens = step.tokens;
    row.loss = step.loss;
    row.load_cv = step.load_cv;
    row.load_balance = step.load_balance;
    log.steps.push_back(row);
  }
  return log;
}

plot::ExpertLoadHistory load_history(const TrainSnapshot& snapshot) {
  plot::ExpertLoadHistory history;
  history.top_k = snapshot.knobs.top_k;
  for (const moe::train::LiveStep& step : snapshot.steps) {
    history.steps.push_back(step.step);
    history.counts.push_back(step.expert_counts);
  }
  return history;
}

void draw_knobs(TrainViewState& state, const TrainSnapshot& snapshot) {
  moe::train::LiveTrainingKnobs& knobs = state.run.knobs;
  const float width = ImGui::GetFontSize() * 8;
  ImGui::TextUnformatted("Knobs (Reset applies them)");
  ImGui::SetNextItemWidth(width);
  ImGui::SliderInt("experts", &knobs.n_expert, 2, 16);
  knobs.top_k = std::clamp(knobs.top_k, 1, knobs.n_expert);
  ImGui::SetNextItemWidth(width);
  ImGui::SliderInt("top-k", &knobs.top_k, 1, knobs.n_expert);
  float balance = static_cast<float>(knobs.load_balance);
  ImGui::SetNextItemWidth(width);
  if (ImGui::SliderFloat("balance loss", &balance, 0.0f, 0.2f, "%.3f"))
    knobs.load_balance = std::max(0.0f, balance);
  ImGui::SameLine();
  help_marker(
      "Weight of the load-balancing (Switch) loss, which pushes each router to spread its "
      "tokens evenly. At 0 nothing stops the experts that happen to win early from taking "
      "more and more tokens: expert collapse. The default 0.05 keeps the load even.");
  float z_loss = static_cast<float>(knobs.z_loss);
  ImGui::SetNextItemWidth(width);
  if (ImGui::SliderFloat("router z-loss", &z_loss, 0.0f, 0.01f, "%.4f"))
    knobs.z_loss = std::max(0.0f, z_loss);
  ImGui::SameLine();
  help_marker(
      "Weight of the router z-loss: keeps the router logits small, so that routing "
      "stays soft enough to keep learning.");
  float lr = static_cast<float>(knobs.lr);
  ImGui::SetNextItemWidth(width);
  if (ImGui::SliderFloat("learning rate", &lr, 1e-4f, 1e-2f, "%.4f",
                         ImGuiSliderFlags_Logarithmic)) {
    knobs.lr = std::clamp(lr, 1e-5f, 1.0f);
  }
  int seed = static_cast<int>(knobs.seed);
  ImGui::SetNextItemWidth(width);
  if (ImGui::InputInt("seed", &seed)) knobs.seed = static_cast<uint64_t>(std::max(seed, 0));
  if (ImGui::Button("Collapse preset")) {
    knobs.load_balance = 0;
    reset_training(state.run);
  }
  ImGui::SameLine();
  if (ImGui::Button("Balanced preset")) {
    knobs.load_balance = moe::train::LiveTrainingKnobs{}.load_balance;
    reset_training(state.run);
  }
  if (snapshot.ready && !(knobs == snapshot.knobs)) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.95f, 0.65f, 0.25f, 1));
    ImGui::TextWrapped("Knobs changed: Reset starts a new model with them.");
    ImGui::PopStyleColor();
  }
}

void draw_controls(ViewContext& view, TrainViewState& state, const TrainSnapshot& snapshot) {
  TrainWorker& worker = *state.run.worker;
  ImGui::BeginDisabled(!snapshot.ready);
  if (snapshot.running) {
    if (ImGui::Button("Pause")) worker.pause();
  } else if (ImGui::Button("Start")) {
    worker.start();
  }
  ImGui::SameLine();
  ImGui::BeginDisabled(snapshot.running);
  if (ImGui::Button("Step")) worker.step(1);
  ImGui::SameLine();
  if (ImGui::Button("+10")) worker.step(10);
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button("Reset")) reset_training(state.run);
  if (ImGui::Button("Open this model in the other views")) {
    worker.export_model(export_path_for(snapshot));
    state.run.open_after_export = true;
  }
  ImGui::SameLine();
  help_marker(
      "Saves the weights as they are now to a GGUF file in the temporary folder and "
      "opens it like any model: type a prompt and watch the routing of the model you "
      "are training. Training goes on here; open it again to see later weights.");
  ImGui::EndDisabled();
  // The export finished: hand it to the inference worker once.
  if (state.run.open_after_export && snapshot.export_serial != state.run.opened_export) {
    state.run.opened_export = snapshot.export_serial;
    state.run.open_after_export = false;
    if (!snapshot.export_path.empty()) view.worker.load_model(snapshot.export_path);
  }
  if (!snapshot.export_error.empty())
    ImGui::TextWrapped("Export failed: %s", snapshot.export_error.c_str());
}

void draw_status(const TrainSnapshot& snapshot) {
  if (!snapshot.error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.95f, 0.4f, 0.35f, 1));
    ImGui::TextWrapped("%s", snapshot.error.c_str());
    ImGui::PopStyleColor();
  }
  if (!snapshot.ready) {
    if (snapshot.error.empty()) ImGui::TextDisabled("Preparing the training sample...");
    return;
  }
  ImGui::Separator();
  ImGui::Text("step %lld%s", static_cast<long long>(snapshot.steps_done),
              snapshot.running ? "  (training)" : "  (paused)");
  if (snapshot.seconds_per_step > 0) ImGui::Text("%.2f s per step", snapshot.seconds_per_step);
  if (!snapshot.steps.empty()) {
    const moe::train::LiveStep& last = snapshot.steps.back();
    ImGui::Text("loss %.3f nats", last.loss);
    ImGui::Text("load CV %.2f", last.load_cv);
    ImGui::SameLine();
    help_marker(
        "Standard deviation over mean of the experts' token counts in the last step, "
        "averaged over layers: 0 is perfectly even; collapse drives it up.");
    ImGui::Text("busiest expert %.0f%%", 100 * last.top_share);
    ImGui::SameLine();
    help_marker(
        "Share of a layer's routing assignments taken by its busiest expert, averaged "
        "over layers. Even load is 1 / experts; with top-k = 2 the most one expert can "
        "take is 50 %.");
  }
  if (!snapshot.specializations.empty()) {
    double best = 0;
    for (double mi : snapshot.specializations.back().mi_bits) best = std::max(best, mi);
    ImGui::Text("max I(domain; expert) %.2f bits", best);
  }
  ImGui::Separator();
  ImGui::TextDisabled("Model: %d layers, width %d, %d experts of width %d, top-%d",
                      snapshot.shape.n_layer, snapshot.shape.n_embd, snapshot.knobs.n_expert,
                      snapshot.shape.n_ff_exp, snapshot.knobs.top_k);
  ImGui::TextDisabled("%.2f M parameters", static_cast<double>(snapshot.n_parameters) / 1e6);
  ImGui::TextDisabled("Batch: %d windows of %d tokens", snapshot.shape.batch_seqs,
                      snapshot.shape.seq_len);
  ImGui::TextDisabled("Sample: %zu domains, %lld k train tokens", snapshot.domains.size(),
                      static_cast<long long>(snapshot.train_tokens / 1000));
}

void draw_figures(ViewContext& view, TrainViewState& state, const TrainSnapshot& snapshot) {
  const int n_layer = snapshot.shape.n_layer;
  if (state.layer < 0) state.layer = n_layer - 1;
  state.layer = std::clamp(state.layer, 0, std::max(n_layer - 1, 0));
  const ImVec2 available = ImGui::GetContentRegionAvail();
  const float spacing = ImGui::GetStyle().ItemSpacing.x;
  const float half = std::floor((available.x - spacing) / 2);
  // Three rows of figures; below a readable height the column scrolls instead.
  const float row = std::max(
      ImGui::GetTextLineHeight() * 14,
      std::floor((available.y - 3 * ImGui::GetStyle().ItemSpacing.y - ImGui::GetFrameHeight()) /
                 3));
  const uint64_t version = snapshot.version;

  const plot::Figure& loss = state.loss.get(version, [&] {
    plot::Figure figure = plot::training_loss_figure(training_log(snapshot), 10);
    figure.title = "Training loss";
    figure.notes.clear();  // the numbers are in the status column
    return figure;
  });
  draw_figure("##train_loss", loss, ImVec2(half, row), view.style);
  ImGui::SameLine();
  const plot::Figure& balance = state.balance.get(version, [&] {
    plot::Figure figure = plot::training_balance_figure(training_log(snapshot), 10);
    figure.title = "Load balance: CV and balancing loss";
    figure.notes.clear();
    return figure;
  });
  draw_figure("##train_balance", balance, ImVec2(half, row), view.style);

  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  ImGui::SliderInt("layer of the expert-share figure", &state.layer, 0, std::max(n_layer - 1, 0));
  const plot::Figure& share =
      state.share.get(cache_key({version, static_cast<uint64_t>(state.layer)}), [&] {
        plot::Figure figure =
            plot::live_expert_share_figure(load_history(snapshot), state.layer, 10);
        if (figure.notes.size() > 1) figure.notes.erase(figure.notes.begin());
        return figure;
      });
  draw_figure("##train_share", share, ImVec2(half, row), view.style);
  ImGui::SameLine();
  const plot::Figure& heatmap = state.heatmap.get(version, [&] {
    plot::Figure figure = plot::live_layer_share_figure(load_history(snapshot), 10);
    figure.notes.clear();
    return figure;
  });
  const FigureHit hit = draw_figure("##train_heatmap", heatmap, ImVec2(half, row), view.style);
  if (hit.clicked && hit.rect && hit.rect->row >= 0) state.layer = hit.rect->row;

  const plot::Figure& specialization = state.specialization.get(version, [&] {
    std::vector<int64_t> steps;
    std::vector<std::vector<double>> mi;
    for (const moe::train::LiveSpecialization& s : snapshot.specializations) {
      steps.push_back(s.step);
      mi.push_back(s.mi_bits);
    }
    return plot::live_specialization_figure(steps, mi, static_cast<int>(snapshot.domains.size()));
  });
  draw_figure("##train_mi", specialization, ImVec2(available.x, row), view.style);
}

}  // namespace

void draw_train_panel(ViewContext& view, TrainViewState& state) {
  ensure_train_worker(state.run);
  const std::shared_ptr<const TrainSnapshot> holder = state.run.worker->snapshot();
  const TrainSnapshot& snapshot = *holder;
  const float left_width = ImGui::GetFontSize() * 17;
  ImGui::BeginChild("##train_controls", ImVec2(left_width, 0), false);
  draw_controls(view, state, snapshot);
  ImGui::Separator();
  draw_knobs(state, snapshot);
  draw_status(snapshot);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("##train_figures", ImVec2(0, 0), false);
  draw_figures(view, state, snapshot);
  ImGui::EndChild();
}

namespace {

class TrainView final : public View {
public:
  explicit TrainView(const ViewSetup& setup) : state_{setup.training} {}
  void draw(ViewContext& view) override { draw_train_panel(view, state_); }

private:
  TrainViewState state_;
};

}  // namespace

extern const ViewInfo train_view;
const ViewInfo train_view = {"train", "Train", "Train a tiny MoE",
       "Train a small MoE from scratch on the bundled text and watch experts specialize.\n"
       "Set the balancing loss to 0 to see expert collapse: a few experts take every token.",
                            make_view<TrainView>, ProfileUse::Live};

}  // namespace moescope::gui
