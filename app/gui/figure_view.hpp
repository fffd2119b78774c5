#pragma once
// Draws a plot::Figure into the current ImGui window with ImDrawList: axes, ticks, bars, cells,
// lines, annotations, legend and colour scale, with a tooltip for what the pointer is on.
// Everything drawn comes from the Figure; only text, axis and background colours come from
// the theme (FigureStyle), as they will for the cairo exporter.
#include <imgui.h>

#include "moe/plot/figure.hpp"

namespace moescope::gui {

struct FigureStyle {
  ImU32 text = IM_COL32(230, 230, 230, 255);
  ImU32 dim_text = IM_COL32(170, 170, 170, 255);
  ImU32 axis = IM_COL32(150, 150, 150, 255);
  ImU32 grid = IM_COL32(255, 255, 255, 30);
  ImU32 background = IM_COL32(20, 20, 20, 255);
  ImU32 hover = IM_COL32(255, 255, 255, 200);
};

// What the pointer did on the figure this frame.
struct FigureHit {
  const moe::plot::Rect* rect = nullptr;  // the bar or cell under the pointer, if any
  bool clicked = false;                   // left click on that rect
};

// Reserves `size` (pixels) at the cursor and draws the figure there. `id` must be unique in
// the window.
FigureHit draw_figure(const char* id, const moe::plot::Figure& figure, ImVec2 size,
                      const FigureStyle& style);

// Colour conversion shared with the other views.
ImU32 to_imgui(const moe::plot::Color& color);
// Black or white, whichever reads better on `fill` drawn over `background`.
ImU32 text_color_on(const moe::plot::Color& fill, ImU32 background);

}  // namespace moescope::gui
