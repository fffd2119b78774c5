#pragma once
// What a user can do to the app, whoever asks: a view's widgets, the menus, the tour, or the
// scripted mode (script_runner.hpp). The App implements it; views and the script runner call
// only these, so a scripted run does exactly what the clicks do.
#include <string>

#include "moe/interventions.hpp"
#include "moe/random_model.hpp"
#include "settings.hpp"

namespace moescope::gui {

class Actions {
public:
  virtual ~Actions() = default;

  // The prompt box's text; the worker recomputes the routing for it.
  virtual const std::string& prompt() const = 0;
  virtual void set_prompt(const std::string& text) = 0;
  // A GGUF model or a saved session (by its .moescope.json name).
  virtual void open_path(const std::string& path) = 0;
  // Writes the random-weight demo model to `path` if it is missing, then opens it.
  virtual void open_demo_model(const std::string& path) = 0;
  // The same for a random-weight model of another shape (e.g. a published system's).
  virtual void open_random_model(const std::string& path, const moe::RandomModelSpec& spec) = 0;
  // Continues the prompt by `n_tokens` with the settings' sampling.
  virtual void generate(int n_tokens) = 0;

  // Token `token` (negative: from the end); the error or empty.
  virtual std::string select_token(int token) = 0;
  // A MoE layer id of the model; the error or empty.
  virtual std::string select_layer(int layer) = 0;
  // Shows the view with this registry key (view.hpp) on the next frame.
  virtual void show_view(const std::string& key) = 0;

  // The routing interventions asked for (the worker applies them; the snapshot's trace says
  // which were applied to what it shows).
  virtual const moe::RoutingInterventions& interventions() const = 0;
  // Validates `next` against the model and hands it to the worker; false (and `error`) if not.
  virtual bool set_interventions(const moe::RoutingInterventions& next, std::string& error) = 0;
  // Knocks (layer, expert) out, or back in: what clicking an expert in a view does.
  virtual void toggle_knockout(int layer, int expert) = 0;
  // The vocabulary of `expert` at the selected layer over the domain prompt sets.
  virtual void explain_expert(int expert) = 0;
  // Compares the expert load of the prompt with `prompt_b`.
  virtual void compare_prompt(const std::string& prompt_b) = 0;

  virtual void set_theme(Theme theme) = 0;
  // Presenter mode: one view fills the window, large text, keys step through views, layers
  // and tokens; the developer figures are hidden.
  virtual void set_presenter(bool on) = 0;
  virtual void set_font_size(float pixels) = 0;
  virtual void open_file_dialog() = 0;
  virtual void close_file_dialog() = 0;
  // Step `step` (from 1) of the guided tour; 0 closes it.
  virtual void show_tour_step(int step) = 0;
  // Saves the session (model, prompt, view, routing); the error or empty.
  virtual std::string save_session(const std::string& path) = 0;

  // Routing sources that are not the local model (app_remote.cpp, docs/trace-import.md). The
  // model's shape: its config.json (`model_config`) or `layers` and `top_k` (0: not given).
  // Connect: the prompt (and generation) is routed on the SGLang server at `url` until another
  // model is opened or disconnect_server(). Import: a trace file is shown. Both return the error
  // in the arguments (the request itself reports in a dialog; the current model and trace stay).
  virtual std::string connect_server(const std::string& url, const std::string& model_config,
                                     int layers, int top_k) = 0;
  virtual void disconnect_server() = 0;
  virtual std::string import_trace(const std::string& path, const std::string& model_config,
                                   int layers, int top_k) = 0;
};

}  // namespace moescope::gui
