#pragma once
// What each part of the window shows and how to read it, written for students: the prompt
// column and the token strip here, each view in its ViewInfo (view.hpp). The "(?)" markers show
// them and the guided tour walks through them in order.
#include <string>
#include <vector>

namespace moescope::gui {

struct Explanation {
  const char* panel;  // the view's key (router, path, ...); "prompt" and "strip" for the column
  const char* title;
  const char* text;
};

// In the order the guided tour visits them: the prompt, the token strip, then the views in tab
// order.
const std::vector<Explanation>& explanations();
// The text for `panel`, or an empty string.
const char* explanation_for(const std::string& panel);

}  // namespace moescope::gui
