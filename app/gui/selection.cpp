#include "selection.hpp"

#include <algorithm>

namespace moescope::gui {

void update_selection(Selection& selection, int n_tokens, const std::vector<int>& moe_layers) {
  if (n_tokens <= 0) {
    selection.token = -1;
    selection.pinned = false;
  } else if (!selection.pinned) {
    selection.token = n_tokens - 1;
  } else if (selection.token < 0 || selection.token >= n_tokens) {
    selection.token = n_tokens - 1;  // the pinned token was deleted: follow the end again
    selection.pinned = false;
  }
  if (moe_layers.empty()) {
    selection.layer = -1;
  } else if (std::find(moe_layers.begin(), moe_layers.end(), selection.layer) == moe_layers.end()) {
    selection.layer = moe_layers.front();
  }
}

void click_token(Selection& selection, int token, int n_tokens) {
  if (token < 0 || token >= n_tokens) return;
  if (selection.pinned && selection.token == token) {
    selection.pinned = false;  // a second click lets the selection follow typing again
    selection.token = n_tokens - 1;
    return;
  }
  selection.token = token;
  selection.pinned = true;
}

void move_token(Selection& selection, int delta, int n_tokens) {
  if (n_tokens <= 0) return;
  const int from = selection.token < 0 ? n_tokens - 1 : selection.token;
  selection.token = std::clamp(from + delta, 0, n_tokens - 1);
  selection.pinned = true;
}

int moe_index_of(const Selection& selection, const std::vector<int>& moe_layers) {
  const auto it = std::find(moe_layers.begin(), moe_layers.end(), selection.layer);
  return it == moe_layers.end() ? -1 : static_cast<int>(it - moe_layers.begin());
}

void step_layer(Selection& selection, int delta, const std::vector<int>& moe_layers) {
  if (moe_layers.empty()) return;
  const int index = std::max(moe_index_of(selection, moe_layers), 0);
  const int next = std::clamp(index + delta, 0, static_cast<int>(moe_layers.size()) - 1);
  selection.layer = moe_layers[static_cast<size_t>(next)];
}

}  // namespace moescope::gui
