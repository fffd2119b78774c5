#pragma once
// Which token and which layer the views are about. Kept apart from ImGui so that the rules can
// be tested: a token the user clicked stays selected while the prompt changes (as long as it
// exists); otherwise the selection follows the last token, so typing shows the newest one.
#include <vector>

namespace moescope::gui {

struct Selection {
  int token = -1;       // position in the snapshot's tokens; -1: none
  bool pinned = false;  // chosen by the user; otherwise it follows the last token
  int layer = -1;       // a MoE layer id of the model; -1: none yet
  int expert = 0;       // the expert the Experts view explains (at the selected layer)
};

// Brings the selection in line with a new snapshot of `n_tokens` tokens and the model's MoE
// layers: a pinned token past the end is unpinned, an unpinned one follows the end, and the
// layer stays if it is still a MoE layer (else the first MoE layer).
void update_selection(Selection& selection, int n_tokens, const std::vector<int>& moe_layers);
// The user clicked token `token` (clicking the selected token again unpins it).
void click_token(Selection& selection, int token, int n_tokens);
// Arrow keys: moves by `delta` tokens within [0, n_tokens) and pins.
void move_token(Selection& selection, int delta, int n_tokens);
// Next / previous MoE layer (stops at the ends).
void step_layer(Selection& selection, int delta, const std::vector<int>& moe_layers);
// Index of the selected layer among the MoE layers, or -1.
int moe_index_of(const Selection& selection, const std::vector<int>& moe_layers);

}  // namespace moescope::gui
