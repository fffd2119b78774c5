#pragma once
// Small pieces several panels use: the layer selector, expert colour chips, a splitter, and a
// cache so that a figure is rebuilt only when what it shows changed.
#include <imgui.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "moe/plot/figure.hpp"
#include "selection.hpp"

namespace moescope::gui {

// "Layer  [<] L3 [>]" with a combo of the MoE layers; returns true when the layer changed.
bool layer_selector(const char* id, Selection& selection, const std::vector<int>& moe_layers);

// A filled square in the expert's colour followed by "E<n>".
void expert_chip(int expert);
// The width expert_chip(expert) takes: its colour square, a 4 px gap and its label.
float expert_chip_width(int expert);

// A bar the user drags to resize two areas: `length` pixels long, `thickness` wide, vertical or
// horizontal. `share` (0..1) is the first area's share of `total` pixels; it is clamped to
// [min_share, max_share]. Returns true while dragging.
bool splitter(const char* id, bool vertical, float thickness, float length, float& share,
              float total, float min_share, float max_share);

// "(?)" that shows `text` on hover.
void help_marker(const char* text);

// ImGui::Button that the scripted mode can press too (`press LABEL`, script_runner.hpp): views
// use it for the buttons a test or a docs script needs, so no view needs a script command of
// its own. A script names the visible label, or the whole label with its "##id" suffix where
// several buttons show the same text.
bool button(const char* label, ImVec2 size = ImVec2(0, 0));
// ImGui::Checkbox that `press LABEL` toggles, likewise.
bool checkbox(const char* label, bool* value);
// ImGui::RadioButton that `press LABEL` chooses, likewise: sets *value to `choice`.
bool radio_button(const char* label, int* value, int choice);
// The scripted mode asks for the button with this visible label to be pressed on a later frame.
void request_button_press(const std::string& label);
// True once the requested press was delivered (then it is cleared).
bool take_delivered_press();

// The heights of the two figures a view stacks (a chart over a heatmap); 0: not shown.
struct FigureStack {
  float first = 0, second = 0;
};
// When the room left in the view holds both figures at a readable height (13 text lines each),
// the first gets `first_share` of it (at least that height) and the second the rest. When it
// does not (large text in a small window: a projector), one figure is shown at a time at the
// full height, chosen with two buttons named after the figures; `shown` (0 or 1) is the
// view's choice.
FigureStack stack_two_figures(const char* first_name, const char* second_name, int& shown,
                              float first_share);

// Rebuilds a figure only when its key changes (a snapshot version, a layer, a token ...).
class FigureCache {
public:
  const moe::plot::Figure& get(uint64_t key, const std::function<moe::plot::Figure()>& build) {
    if (!valid_ || key != key_) {
      figure_ = build();
      key_ = key;
      valid_ = true;
    }
    return figure_;
  }

private:
  bool valid_ = false;
  uint64_t key_ = 0;
  moe::plot::Figure figure_;
};

// Mixes values into a cache key.
uint64_t cache_key(std::initializer_list<uint64_t> parts);

}  // namespace moescope::gui
