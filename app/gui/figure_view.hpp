#pragma once
// Draws a plot::Figure into the current ImGui window: the figure layout engine
// (moe/plot/layout.hpp) lays it out, exactly as for the exported files, and an ImGui canvas
// draws the result with ImDrawList. The layout's hit regions say what the pointer is on (a
// tooltip, a highlight, a click). Only text, axis and background colours come from the theme
// (FigureStyle), the same palettes the exporter uses.
#include <imgui.h>

#include "moe/plot/figure.hpp"
#include "moe/plot/palette.hpp"

namespace moescope::gui {

struct FigureStyle {
  ImU32 text = IM_COL32(230, 230, 230, 255);
  ImU32 dim_text = IM_COL32(170, 170, 170, 255);
  ImU32 axis = IM_COL32(150, 150, 150, 255);
  ImU32 grid = IM_COL32(255, 255, 255, 30);
  ImU32 background = IM_COL32(20, 20, 20, 255);
  ImU32 hover = IM_COL32(255, 255, 255, 200);
};

// The figure palette's colours for ImGui, with the colour that outlines what the pointer is on.
FigureStyle figure_style_from(const moe::plot::Palette& palette, ImU32 hover);

// What the pointer did on the figure this frame.
struct FigureHit {
  const moe::plot::Rect* rect = nullptr;  // the bar or cell under the pointer, if any
  bool clicked = false;                   // left click on that rect
};

// Reserves `size` (pixels) at the cursor and draws the figure there. `id` must be unique in
// the window. `exportable`: with its Export button (not in a tooltip, where nothing can be
// clicked).
FigureHit draw_figure(const char* id, const moe::plot::Figure& figure, ImVec2 size,
                      const FigureStyle& style, bool exportable = true);

// The height a figure with `rows` rows of cells needs to keep each row readable (a text line
// each, plus its title, notes, legend and axes), or `available` when that is more. Views put a
// taller figure in a scrolling child instead of squeezing its rows.
float figure_height_for_rows(const moe::plot::Figure& figure, int rows, float available);

// Colour conversion shared with the other views.
ImU32 to_imgui(const moe::plot::Color& color);
// Black or white, whichever reads better on `fill` drawn over `background`.
ImU32 text_color_on(const moe::plot::Color& fill, ImU32 background);

}  // namespace moescope::gui
