#pragma once
// The guided tour for a first-time user: a small window that walks through the views in order
// (explanations.hpp), switching to each view as it goes. Opens by itself on the first start and
// from Help > Guided tour.
#include <cstddef>
#include <string>

namespace moescope::gui {

struct TourState {
  bool open = false;
  size_t step = 0;
};

// Where the tour's bubble goes for a step about `place` (a view key, "prompt" or "strip"): over
// the other side of the window, so that it never covers what the step explains.
enum class TourSide { Left, Right };
TourSide tour_bubble_side(const char* place);

// Draws the tour window when open. Sets `requested_panel` to the view a step is about when the
// step changes (or the tour opens).
void draw_tour(TourState& tour, std::string& requested_panel);
// Opens the tour at its first step.
void start_tour(TourState& tour, std::string& requested_panel);
// Moves `delta` steps (within the tour), as the Back and Next buttons do.
void step_tour(TourState& tour, std::string& requested_panel, int delta);

}  // namespace moescope::gui
