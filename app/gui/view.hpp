#pragma once
// The views: the tabs of the right-hand column. Each view is one file (view_<key>.cpp) that
// defines its state, its draw function and its `ViewInfo`; view_registry.cpp lists them in tab
// order. The tab bar, `--panel`, `--help`, the scripted mode's `panel`, the guided tour and the
// tests all read that list. No view computes routing statistics (they come with the snapshot)
// or calls the model (the worker does).
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actions.hpp"
#include "figure_view.hpp"
#include "selection.hpp"
#include "settings.hpp"
#include "widgets.hpp"
#include "worker.hpp"

namespace moescope::gui {

struct TrainingRun;
struct ProfileSource;

// What every view gets each frame.
struct ViewContext {
  const Snapshot& snapshot;
  Selection& selection;
  Settings& settings;
  Worker& worker;
  Actions& actions;
  const FigureStyle& style;
  const std::vector<std::string>& token_labels;  // short display text per token, for figures
  // The corpus profile open in the app, or null (profile_source.hpp). The pooled views get a
  // snapshot of its counts instead of the prompt's; this is for the others (the Playground ranks
  // experts from it).
  std::shared_ptr<const ProfileSource> open_profile;
};

// What a view may need when the app creates it.
struct ViewSetup {
  std::filesystem::path assets_dir;  // bundled models, prompt sets and training text
  TrainingRun& training;             // the live training run (the Train view drives it)
};

class View {
public:
  virtual ~View() = default;
  virtual void draw(ViewContext& context) = 0;
  // Presenter mode's Left/Right: a view with steps of its own moves `delta` steps and returns
  // true; false when it has none (left in that direction), and presenter mode changes the view.
  virtual bool step(int /*delta*/) { return false; }
};

// What a view shows while a corpus profile is open (profile_source.hpp).
enum class ProfileUse {
  Tokens,  // it needs single tokens or router scores: a line says a profile has none
  Pooled,  // it draws pooled statistics: it gets the profile's snapshot
  Live,    // it is about the open model (or not about routing): it shows the live prompt
};

struct ViewInfo {
  const char* key;    // for --panel, the script's `panel`, settings and sessions
  const char* label;  // on the tab
  const char* title;  // of its guided-tour step
  const char* help;   // what it shows and how to read it, for students: "(?)" and the tour
  std::unique_ptr<View> (*make)(const ViewSetup& setup);
  ProfileUse profile_use = ProfileUse::Tokens;
};

// Every view, in tab order.
const std::vector<const ViewInfo*>& views();
// The view with this key, or nullptr.
const ViewInfo* find_view(std::string_view key);
// Their keys, in tab order.
std::vector<std::string> view_keys();

// A view file's `make`: a new T built from the setup (or default-constructed).
template <typename T>
std::unique_ptr<View> make_view(const ViewSetup& setup) {
  if constexpr (std::is_constructible_v<T, const ViewSetup&>) {
    return std::make_unique<T>(setup);
  } else {
    return std::make_unique<T>();
  }
}

}  // namespace moescope::gui
