#pragma once
// The left column and the strip above the views: the prompt box (with examples and generation)
// and the token strip. Unlike the views (view.hpp) they are always shown.
#include <string>
#include <vector>

#include "example_prompts.hpp"
#include "view.hpp"

namespace moescope::gui {

struct PromptBoxState {
  std::string text;  // the prompt box; Actions::set_prompt hands every edit to the worker
  std::vector<ExamplePrompt> examples;
  int example_group = 0;
  bool focus_prompt = true;  // put the keyboard in the text box on the next frame
  bool editing = false;      // the text box is shown (else the prompt, wrapped)
  std::string prompt_b;        // the comparison prompt being typed
  std::string synced_prompt_b;  // the prompt B last published by the worker
};
void draw_prompt_box(ViewContext& view, PromptBoxState& state);

struct TokenStripState {
  bool show_legend = true;
  bool keyboard = true;  // the arrow keys move the token and layer while the strip is hovered
  std::vector<ImVec4>
      token_boxes;  // screen rectangles of the tokens drawn last frame (x0, y0, x1, y1)
};
void draw_token_strip(ViewContext& view, TokenStripState& state);
// Rows the strip's expert legend takes at this content width (0 when it is hidden): a model
// with many experts wraps it, and the strip must grow to keep a row of tokens in sight.
int token_strip_legend_rows(const TokenStripState& state, int n_expert, float width);

}  // namespace moescope::gui
