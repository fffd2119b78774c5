#include "figure_view.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "export_dialog.hpp"
#include "moe/plot/layout.hpp"

namespace moescope::gui {

namespace plot = moe::plot;

ImU32 to_imgui(const plot::Color& color) {
  return ImGui::ColorConvertFloat4ToU32(ImVec4(color.r, color.g, color.b, color.a));
}

namespace {

plot::Color to_plot(ImU32 color) {
  const ImVec4 c = ImGui::ColorConvertU32ToFloat4(color);
  return {c.x, c.y, c.z, c.w};
}

plot::Palette palette_of(const FigureStyle& style) {
  return {to_plot(style.text), to_plot(style.dim_text), to_plot(style.axis), to_plot(style.grid),
          to_plot(style.background)};
}

// A plot::Canvas on the window's draw list: canvas units are pixels from `origin`, text is
// measured and drawn in the current ImGui font. Primitives outside the clip rectangle (a tall
// figure scrolled out of view) are skipped.
class ImGuiCanvas final : public plot::Canvas {
public:
  ImGuiCanvas(ImDrawList* draw, ImVec2 origin) : draw_(draw), origin_(origin) {}

  double text_width(const std::string& text, plot::TextStyle) override {
    return ImGui::CalcTextSize(text.data(), text.data() + text.size()).x;
  }
  double ascent(plot::TextStyle) override {
    return ImGui::GetFont()->Ascent * ImGui::GetFontSize() / ImGui::GetFont()->FontSize;
  }
  double line_height(plot::TextStyle) override { return ImGui::GetTextLineHeight(); }

  void fill(const plot::FillRect& rect) override {
    if (!visible(rect.box)) return;
    draw_->AddRectFilled(at(rect.box.x0, rect.box.y0), at(rect.box.x1, rect.box.y1),
                         to_imgui(rect.color));
  }
  void stroke(const plot::StrokeRect& rect) override {
    if (!visible(rect.box)) return;
    draw_->AddRect(at(rect.box.x0, rect.box.y0), at(rect.box.x1, rect.box.y1), to_imgui(rect.color),
                   0, 0, static_cast<float>(rect.width));
  }
  void polyline(const plot::Polyline& line) override {
    if (line.points.size() < 2) return;
    std::vector<ImVec2> points;
    points.reserve(line.points.size());
    for (const plot::Point& p : line.points) points.push_back(at(p.x, p.y));
    const ImU32 color = to_imgui(line.color);
    const auto width = static_cast<float>(line.width);
    if (line.dash > 0) {
      dashed(points, color, width, static_cast<float>(line.dash), static_cast<float>(line.gap));
    } else {
      draw_->AddPolyline(points.data(), static_cast<int>(points.size()), color, ImDrawFlags_None,
                         width);
    }
  }
  void circle(const plot::Circle& circle) override {
    draw_->AddCircleFilled(at(circle.center.x, circle.center.y), static_cast<float>(circle.radius),
                           to_imgui(circle.color));
  }
  void text(const plot::TextRun& run) override {
    const char* begin = run.text.data();
    const char* end = begin + run.text.size();
    const float width = ImGui::CalcTextSize(begin, end).x;
    const float shift = run.align == plot::TextAlign::Left     ? 0
                        : run.align == plot::TextAlign::Center ? width / 2
                                                               : width;
    const ImVec2 pivot = at(run.at.x, run.at.y);
    const ImVec2 top_left(pivot.x - shift, pivot.y);
    if (run.angle_degrees == 0) {
      const ImVec2 clip_min = draw_->GetClipRectMin(), clip_max = draw_->GetClipRectMax();
      if (top_left.x > clip_max.x || top_left.x + width < clip_min.x || top_left.y > clip_max.y ||
          top_left.y + ImGui::GetTextLineHeight() < clip_min.y)
        return;
      draw_->AddText(top_left, to_imgui(run.color), begin, end);
      return;
    }
    // ImDrawList has no rotated text: draw it level (unclipped, as it is not yet in place),
    // then turn its vertices about the pivot.
    const int first_vertex = draw_->VtxBuffer.Size;
    const ImVec4 no_clip(-1e9f, -1e9f, 1e9f, 1e9f);
    ImGui::GetFont()->RenderText(draw_, ImGui::GetFontSize(), top_left, to_imgui(run.color),
                                 no_clip, begin, end);
    const auto radians = static_cast<float>(run.angle_degrees * M_PI / 180);
    const float c = std::cos(radians), s = std::sin(radians);
    for (int i = first_vertex; i < draw_->VtxBuffer.Size; ++i) {
      ImVec2& p = draw_->VtxBuffer[i].pos;
      const float dx = p.x - pivot.x, dy = p.y - pivot.y;
      // Counter-clockwise on screen, where y grows downwards.
      p = ImVec2(pivot.x + dx * c + dy * s, pivot.y - dx * s + dy * c);
    }
  }
  void gradient(const plot::Gradient& gradient) override {
    const size_t n = gradient.stops.size();
    if (n < 2) return;
    const plot::Box& box = gradient.box;
    for (size_t i = 0; i + 1 < n; ++i) {
      // The first stop at the bottom.
      const double top = box.y1 - box.height() * static_cast<double>(i + 1) / (n - 1);
      const double bottom = box.y1 - box.height() * static_cast<double>(i) / (n - 1);
      const ImU32 upper = to_imgui(gradient.stops[i + 1]), lower = to_imgui(gradient.stops[i]);
      draw_->AddRectFilledMultiColor(at(box.x0, top), at(box.x1, bottom), upper, upper, lower,
                                     lower);
    }
  }

  ImVec2 at(double x, double y) const {
    return ImVec2(origin_.x + static_cast<float>(x), origin_.y + static_cast<float>(y));
  }

private:
  bool visible(const plot::Box& box) const {
    const ImVec2 a = at(box.x0, box.y0), b = at(box.x1, box.y1);
    const ImVec2 clip_min = draw_->GetClipRectMin(), clip_max = draw_->GetClipRectMax();
    return a.x <= clip_max.x && b.x >= clip_min.x && a.y <= clip_max.y && b.y >= clip_min.y;
  }
  // Dashes run on across the corners, as in the exported files.
  void dashed(const std::vector<ImVec2>& points, ImU32 color, float width, float dash, float gap) {
    float phase = 0;  // distance into the current dash + gap period
    for (size_t i = 1; i < points.size(); ++i) {
      const ImVec2 a = points[i - 1], b = points[i];
      const float dx = b.x - a.x, dy = b.y - a.y;
      const float length = std::sqrt(dx * dx + dy * dy);
      float t = 0;
      while (t < length) {
        const float step = std::min(length - t, phase < dash ? dash - phase : dash + gap - phase);
        if (phase < dash) {
          draw_->AddLine(ImVec2(a.x + dx * t / length, a.y + dy * t / length),
                         ImVec2(a.x + dx * (t + step) / length, a.y + dy * (t + step) / length),
                         color, width);
        }
        t += step;
        phase = std::fmod(phase + step, dash + gap);
      }
    }
  }

  ImDrawList* draw_;
  ImVec2 origin_;
};

// A coordinate as its axis's tick label when it sits on a tick (a category), else a number.
std::string axis_value(const plot::Axis& axis, double value, int digits) {
  for (const plot::Tick& tick : axis.ticks) {
    if (std::abs(tick.value - value) < 1e-9) return tick.label;
  }
  return plot::format_number(value, value == std::round(value) ? 0 : digits);
}

// "val english / step 40: 4.333": the line's label, where the point is, its value.
std::string point_tooltip(const plot::Figure& figure, const plot::HitRegion& region) {
  const plot::Line& line = figure.lines[region.index];
  std::string where = axis_value(figure.x, line.xs[region.point], 2);
  if (!figure.x.label.empty()) where = figure.x.label + " " + where;
  const std::string head = line.label.empty() ? std::string() : line.label + "\n";
  return head + where + ": " + axis_value(figure.y, line.ys[region.point], 3);
}

}  // namespace

FigureStyle figure_style_from(const plot::Palette& palette, ImU32 hover) {
  FigureStyle style;
  style.text = to_imgui(palette.text);
  style.dim_text = to_imgui(palette.dim_text);
  style.axis = to_imgui(palette.axis);
  style.grid = to_imgui(palette.grid);
  style.background = to_imgui(palette.background);
  style.hover = hover;
  return style;
}

ImU32 text_color_on(const plot::Color& fill, ImU32 background) {
  return to_imgui(plot::text_color_on(fill, to_plot(background)));
}

FigureHit draw_figure(const char* id, const plot::Figure& figure, ImVec2 size,
                      const FigureStyle& style, bool exportable) {
  FigureHit hit;
  size.x = std::max(size.x, 50.0f);
  size.y = std::max(size.y, 50.0f);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton(id, size);
  ImGui::SetItemAllowOverlap();  // the Export button sits on the figure's corner
  const bool hovered = ImGui::IsItemHovered();
  const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 end(origin.x + size.x, origin.y + size.y);
  draw->PushClipRect(origin, end, true);

  ImGuiCanvas canvas(draw, origin);
  plot::LayoutOptions options;
  options.palette = palette_of(style);
  options.thin_line = 1;  // one pixel
  options.margin = 0.4;   // the panel pads the figure too
  // The title leaves room for the Export button in the top-right corner.
  options.title_reserve =
      exportable ? ImGui::CalcTextSize("Export").x + ImGui::GetStyle().FramePadding.x * 2 + 4 : 0;
  // Only what shows in the window: a heatmap of a long prompt scrolls.
  const ImVec2 clip_min = draw->GetClipRectMin(), clip_max = draw->GetClipRectMax();
  options.visible = plot::Box{clip_min.x - origin.x, clip_min.y - origin.y, clip_max.x - origin.x,
                              clip_max.y - origin.y};
  const plot::FigureLayout layout = plot::lay_out_figure(figure, size.x, size.y, canvas, options);
  canvas.draw(layout.primitives);

  // What the pointer is on: a bar or cell (also under a line's point) is outlined, shows its
  // tooltip and reports clicks; a line's point elsewhere shows its value.
  const plot::Point pointer{ImGui::GetIO().MousePos.x - origin.x,
                            ImGui::GetIO().MousePos.y - origin.y};
  const plot::HitRegion* on_top = hovered ? layout.hit_at(pointer) : nullptr;
  const plot::HitRegion* mark = hovered ? layout.mark_at(pointer) : nullptr;
  std::string tooltip;
  if (mark) {
    hit.rect =
        mark->kind == plot::HitKind::Bar ? &figure.bars[mark->index] : &figure.cells[mark->index];
    hit.clicked = clicked;
    const plot::Box& box = mark->box;
    draw->AddRect(canvas.at(box.x0 - 1, box.y0 - 1), canvas.at(box.x1 + 1, box.y1 + 1), style.hover,
                  0, 0, 2);
    tooltip = hit.rect->tooltip;
  }
  if (on_top && on_top->kind == plot::HitKind::Point && tooltip.empty()) {
    const plot::Box& box = on_top->box;
    draw->AddCircle(canvas.at((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2), box.width() / 2,
                    style.hover, 0, 2);
    tooltip = point_tooltip(figure, *on_top);
  }
  draw->PopClipRect();
  if (!tooltip.empty()) {
    ImGui::BeginTooltip();
    ImGui::TextUnformatted(tooltip.c_str());
    ImGui::EndTooltip();
  }
  if (exportable) figure_export_button(id, figure, origin, end);
  return hit;
}

float figure_height_for_rows(const plot::Figure& figure, int rows, float available) {
  const float line_height = ImGui::GetTextLineHeight();
  const float chrome = line_height * (7 + static_cast<float>(figure.notes.size()));
  return std::max(available, chrome + static_cast<float>(rows) * (line_height + 4));
}

}  // namespace moescope::gui
