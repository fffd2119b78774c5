// A corpus profile opened in the app (profile_source.hpp): the pooled views draw its counts, the
// others say what a profile lacks or show the live prompt, and a banner in place of the token
// strip names the profile and closes it.
#include <imgui.h>

#include <chrono>
#include <iostream>

#include "app.hpp"

namespace moescope::gui {

void App::open_profile(const std::string& path) {
  profile_reading_path_ = path;
  profile_reading_ = std::async(std::launch::async, [path] { return read_profile_source(path); });
}

void App::finish_profile_read() {
  if (!profile_reading_.valid() ||
      profile_reading_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return;
  try {
    profile_ = profile_reading_.get();
  } catch (const std::exception& error) {
    dialogs_.push_back({"Could not open the profile", error.what(), true});
    ++errors_seen_;
    return;
  }
  refresh_profile_snapshot();
  update_title();
  std::cout << "moescope: " << profile_summary(*profile_) << "\n";
  if (!profile_mismatch_.empty()) std::cout << "moescope: " << profile_mismatch_ << "\n";
}

void App::close_profile() {
  profile_.reset();
  profile_snapshot_.reset();
  profile_mismatch_.clear();
  update_title();
}

void App::refresh_profile_snapshot() {
  if (!profile_) return;
  profile_snapshot_ = profile_snapshot(profile_, *snapshot_);
  profile_mismatch_ = profile_model_mismatch(profile_->profile.model, snapshot_->model.get());
}

void App::draw_view(size_t index, ViewContext& context) {
  View& view = *views_[index];
  if (!profile_) {
    view.draw(context);
    return;
  }
  switch (views()[index]->profile_use) {
    case ProfileUse::Pooled: {
      ViewContext pooled{*profile_snapshot_,   context.selection,   context.settings,
                         context.worker,       context.actions,     context.style,
                         context.token_labels, context.open_profile};
      view.draw(pooled);
      return;
    }
    case ProfileUse::Live:
      ImGui::TextDisabled("Not the profile: this view shows %s on the prompt.",
                          snapshot_->model ? snapshot_->model->name.c_str() : "the open model");
      view.draw(context);
      return;
    case ProfileUse::Tokens:
      ImGui::PushTextWrapPos(0);
      ImGui::TextUnformatted(profile_has_no_tokens(*profile_).c_str());
      ImGui::TextDisabled(
          "This view follows single tokens through the router, so it has nothing "
          "to show for a profile. Expert load, Co-activation, Domains and "
          "Systems show the profile's counts; close the profile to see the "
          "prompt's tokens here again.");
      ImGui::PopTextWrapPos();
      if (button("Close profile##view")) close_profile();
      return;
  }
}

void App::draw_profile_banner() {
  if (!profile_) {  // still reading
    ImGui::TextDisabled("Reading the profile %s\xE2\x80\xA6", profile_reading_path_.c_str());
    return;
  }
  if (button("Close profile")) {
    close_profile();
    return;
  }
  ImGui::SameLine();
  help_marker(
      "Pooled counts only: no per-token routing, no router scores.\n\n"
      "A corpus profile (moescope-cli profile MODEL --data DIR --out FILE.moeprofile) "
      "counts the routing of a whole data set. Expert load, Co-activation, Domains and "
      "Systems show its counts instead of the prompt's; the views that follow single "
      "tokens have nothing to show for it. The prompt box still runs the open model "
      "(Playground, Model), and the Playground can prune experts ranked by the profile."
      "\n\nClose profile goes back to the prompt.");
  ImGui::SameLine();
  ImGui::PushTextWrapPos(0);
  ImGui::TextUnformatted(profile_summary(*profile_).c_str());  // the theme's text: both themes
  if (!profile_mismatch_.empty()) {
    const ImVec4 warning =
        settings_.theme == Theme::Light ? ImVec4(0.7f, 0.3f, 0, 1) : ImVec4(0.95f, 0.65f, 0.25f, 1);
    ImGui::TextColored(warning, "%s", profile_mismatch_.c_str());
  }
  ImGui::PopTextWrapPos();
}

}  // namespace moescope::gui
