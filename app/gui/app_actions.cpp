// The App's side of actions.hpp: what views, menus and the scripted mode ask of the app.
#include <algorithm>

#include "app.hpp"

namespace moescope::gui {

namespace {

// The demo model shown when there is no bundled model: small enough to answer every keystroke
// at once on a laptop, with a context long enough for pasted paragraphs.
moe::RandomModelSpec demo_model_spec() {
  moe::RandomModelSpec spec;
  spec.name = "moescope-random-demo";
  spec.n_expert = 8;
  spec.n_expert_used = 2;
  spec.n_layer = 4;
  spec.seed = 7;
  spec.n_ctx = 4096;
  return spec;
}

}  // namespace

ViewContext App::view_context() {
  return ViewContext{*snapshot_, selection_,    settings_,     *worker_,
                     *this,      figure_style_, token_labels_, profile_};
}

void App::set_prompt(const std::string& text) {
  prompt_state_.text = text;
  settings_.prompt = text;
  if (server_) {
    route_on_server(text, 0);
    return;
  }
  worker_->set_prompt(text);
}

void App::open_path(const std::string& path) {
  if (path.empty()) return;
  server_.reset();  // a model or session is routed here again
  if (is_session_file(path)) {
    open_session(path);
  } else if (is_trace_file(path)) {  // dropped or named on the command line: as File > Import
    const std::string error = import_trace(path, "", 0, 0);
    if (!error.empty()) {
      dialogs_.push_back({"Could not import the trace", error, true});
      ++errors_seen_;
    }
  } else if (is_profile_file(path)) {
    open_profile(path);
  } else {
    worker_->load_model(path);
    worker_->set_prompt(prompt_state_.text);
  }
}

void App::open_demo_model(const std::string& path) { open_random_model(path, demo_model_spec()); }

void App::open_random_model(const std::string& path, const moe::RandomModelSpec& spec) {
  server_.reset();
  worker_->load_demo_model(path, spec);
  worker_->set_prompt(prompt_state_.text);
}

void App::generate(int n_tokens) {
  if (server_) {
    route_on_server(prompt_state_.text, n_tokens);
    return;
  }
  GenerateRequest request;
  request.n_tokens = n_tokens;
  request.sampling.temperature = settings_.temperature;
  request.sampling.top_p = std::clamp(settings_.top_p, 0.01f, 1.0f);
  request.sampling.seed = settings_.seed;
  worker_->generate(request);
}

std::string App::select_token(int token) {
  const int n = static_cast<int>(snapshot_->tokens.size());
  const int index = token < 0 ? n + token : token;
  if (index < 0 || index >= n)
    return "select-token " + std::to_string(token) + ": the prompt has " + std::to_string(n) +
           " tokens";
  selection_.token = index;
  selection_.pinned = true;
  return {};
}

std::string App::select_layer(int layer) {
  const auto& layers = snapshot_->trace.moe_layers();
  if (std::find(layers.begin(), layers.end(), layer) == layers.end())
    return "layer " + std::to_string(layer) + " is not a MoE layer of this model";
  selection_.layer = layer;
  return {};
}

bool App::set_interventions(const moe::RoutingInterventions& next, std::string& error) {
  if (snapshot_->model && !snapshot_->model->routing_source.empty() && !next.empty()) {
    error = "routing interventions need a local model: the routing shown came from " +
            snapshot_->model->routing_source;
    return false;
  }
  try {
    if (snapshot_->model) next.validate(snapshot_->model->config);
  } catch (const std::exception& failure) {
    error = failure.what();
    return false;
  }
  error.clear();
  interventions_ = next;
  worker_->set_interventions(next);
  return true;
}

void App::toggle_knockout(int layer, int expert) {
  moe::RoutingInterventions next = interventions_;
  const moe::DisabledExpert entry{layer, expert};
  const auto found = std::find(next.disabled.begin(), next.disabled.end(), entry);
  if (found == next.disabled.end()) next.disabled.push_back(entry);
  else next.disabled.erase(found);
  std::string error;
  set_interventions(next, error);
}

void App::explain_expert(int expert) {
  selection_.expert = expert;
  worker_->explain_expert(selection_.layer, expert, options_.assets_dir / "prompts");
}

void App::compare_prompt(const std::string& prompt_b) { worker_->set_compare_prompt(prompt_b); }

void App::set_theme(Theme theme) {
  settings_.theme = theme;
  fonts_dirty_ = true;
}

void App::show_tour_step(int step) {
  if (step <= 0) {
    tour_.open = false;
    return;
  }
  start_tour(tour_, requested_panel_);
  step_tour(tour_, requested_panel_, step - 1);
}

void App::dismiss_error_dialog() {
  const auto error = std::find_if(dialogs_.begin(), dialogs_.end(),
                                  [](const WorkerMessage& message) { return message.error; });
  if (error != dialogs_.end()) dialogs_.erase(error);
}

}  // namespace moescope::gui
