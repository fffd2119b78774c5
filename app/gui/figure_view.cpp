#include "figure_view.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "export_dialog.hpp"

namespace moescope::gui {

namespace plot = moe::plot;

ImU32 to_imgui(const plot::Color& color) {
  return ImGui::ColorConvertFloat4ToU32(ImVec4(color.r, color.g, color.b, color.a));
}

ImU32 text_color_on(const plot::Color& fill, ImU32 background) {
  const ImVec4 back = ImGui::ColorConvertU32ToFloat4(background);
  const plot::Color composed = plot::mix({back.x, back.y, back.z, 1}, fill.with_alpha(1), fill.a);
  // Contrast against black (L + 0.05) / 0.05 vs against white 1.05 / (L + 0.05).
  const double luminance = composed.luminance();
  return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? IM_COL32(0, 0, 0, 255)
                                                               : IM_COL32(255, 255, 255, 255);
}

namespace {

ImU32 line_color(const std::optional<plot::Color>& color, const FigureStyle& style) {
  return color ? to_imgui(*color) : style.text;
}

void dashed_segment(ImDrawList* draw, ImVec2 a, ImVec2 b, ImU32 color, float thickness) {
  const float dx = b.x - a.x, dy = b.y - a.y;
  const float length = std::sqrt(dx * dx + dy * dy);
  const float dash = 7 * ImGui::GetIO().FontGlobalScale, gap = 5 * ImGui::GetIO().FontGlobalScale;
  for (float t = 0; t < length; t += dash + gap) {
    const float t1 = std::min(length, t + dash);
    draw->AddLine(ImVec2(a.x + dx * t / length, a.y + dy * t / length),
                  ImVec2(a.x + dx * t1 / length, a.y + dy * t1 / length), color, thickness);
  }
}

// Maps data coordinates onto the plot rectangle.
struct Mapping {
  ImVec2 min, max;  // plot rectangle in pixels
  const plot::Axis* x;
  const plot::Axis* y;

  float px(double value) const {
    const double span = x->max - x->min;
    const double t = span != 0 ? (value - x->min) / span : 0;
    return static_cast<float>(x->reversed ? max.x - t * (max.x - min.x)
                                          : min.x + t * (max.x - min.x));
  }
  float py(double value) const {
    const double span = y->max - y->min;
    const double t = span != 0 ? (value - y->min) / span : 0;
    return static_cast<float>(y->reversed ? min.y + t * (max.y - min.y)
                                          : max.y - t * (max.y - min.y));
  }
  // Pixel rectangle of a data rectangle, ordered min/max.
  void rect(const plot::Rect& r, ImVec2& a, ImVec2& b) const {
    const float x0 = px(r.x0), x1 = px(r.x1), y0 = py(r.y0), y1 = py(r.y1);
    a = ImVec2(std::min(x0, x1), std::min(y0, y1));
    b = ImVec2(std::max(x0, x1), std::max(y0, y1));
  }
};

std::string shorten(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;  // UTF-8 boundary
  return text.substr(0, cut) + "\xE2\x80\xA6";
}

float text_width(const std::string& text) { return ImGui::CalcTextSize(text.c_str()).x; }

// Draws `text` word-wrapped to `width`; returns the height used.
float draw_wrapped(ImDrawList* draw, ImVec2 at, ImU32 color, const std::string& text, float width) {
  const ImFont* font = ImGui::GetFont();
  const float scale = ImGui::GetFontSize() / font->FontSize;
  const float line_height = ImGui::GetTextLineHeight();
  const char* begin = text.c_str();
  const char* const end = begin + text.size();
  float y = at.y;
  while (begin < end) {
    const char* cut = font->CalcWordWrapPositionA(scale, begin, end, std::max(width, line_height));
    if (cut == begin) cut = begin + 1;  // a single glyph wider than the space: draw it anyway
    draw->AddText(ImVec2(at.x, y), color, begin, cut);
    y += line_height + 1;
    begin = cut;
    while (begin < end && *begin == ' ') ++begin;
  }
  return y - at.y;
}

// Draws the legend entries in rows from `left`; returns the height used.
float draw_legend(ImDrawList* draw, const plot::Figure& figure, ImVec2 origin, float width,
                  const FigureStyle& style) {
  if (figure.legend.empty()) return 0;
  const float line_height = ImGui::GetTextLineHeight();
  const float sample = line_height * 0.8f;
  const float gap = line_height;
  float x = origin.x, y = origin.y;
  for (const plot::LegendEntry& entry : figure.legend) {
    const float entry_width = sample + 6 + text_width(entry.label);
    if (x > origin.x && x + entry_width > origin.x + width) {
      x = origin.x;
      y += line_height + 2;
    }
    const ImU32 color = line_color(entry.color, style);
    const float middle = y + line_height / 2;
    if (entry.line) {
      if (entry.dashed) {
        dashed_segment(draw, ImVec2(x, middle), ImVec2(x + sample * 1.6f, middle), color, 2);
      } else {
        draw->AddLine(ImVec2(x, middle), ImVec2(x + sample * 1.6f, middle), color, 2.5f);
      }
      x += sample * 1.6f + 6;
    } else {
      draw->AddRectFilled(ImVec2(x, middle - sample / 2), ImVec2(x + sample, middle + sample / 2),
                          color);
      draw->AddRect(ImVec2(x, middle - sample / 2), ImVec2(x + sample, middle + sample / 2),
                    style.text, 0, 0, 1.5f);
      x += sample + 6;
    }
    draw->AddText(ImVec2(x, y), style.dim_text, entry.label.c_str());
    x += text_width(entry.label) + gap;
  }
  return y + line_height - origin.y;
}

}  // namespace

FigureHit draw_figure(const char* id, const plot::Figure& figure, ImVec2 size,
                      const FigureStyle& style) {
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

  const float line_height = ImGui::GetTextLineHeight();
  const float pad = std::round(line_height * 0.4f);
  float top = origin.y + pad;
  const float text_space = size.x - 2 * pad;
  // The title leaves room for the Export button in the top-right corner.
  const float title_space =
      text_space - ImGui::CalcTextSize("Export").x - ImGui::GetStyle().FramePadding.x * 2 - 4;
  if (!figure.title.empty())
    top +=
        draw_wrapped(draw, ImVec2(origin.x + pad, top), style.text, figure.title, title_space) + 1;
  for (const std::string& note : figure.notes) {
    top += draw_wrapped(draw, ImVec2(origin.x + pad, top), style.dim_text, note, text_space);
  }
  top += draw_legend(draw, figure, ImVec2(origin.x + pad, top + 2), size.x - 2 * pad, style);
  top += pad;

  // Tick labels: the longest decides the left margin (token labels are cut to stay readable).
  constexpr size_t kMaxTickBytes = 18;
  float y_label_width = 0;
  for (const plot::Tick& tick : figure.y.ticks) {
    y_label_width = std::max(y_label_width, text_width(shorten(tick.label, kMaxTickBytes)));
  }
  if (!figure.y.label.empty()) {
    draw->AddText(ImVec2(origin.x + pad, top), style.dim_text, figure.y.label.c_str());
    top += line_height + 2;
  }
  float scale_width = 0;
  if (figure.color_scale) {
    float tick_width = 0;
    for (const plot::Tick& tick : figure.color_scale->ticks)
      tick_width = std::max(tick_width, text_width(tick.label));
    scale_width = line_height + 6 + tick_width + 2 * pad;
  }
  Mapping map;
  map.x = &figure.x;
  map.y = &figure.y;
  map.min = ImVec2(origin.x + pad + y_label_width + 6, top + line_height * 0.5f);
  const float bottom_reserved = (figure.x.ticks.empty() ? 0 : line_height + 4) +
                                (figure.x.label.empty() ? 0 : line_height + 2) + pad;
  map.max = ImVec2(end.x - pad - scale_width, end.y - bottom_reserved);
  if (map.max.x - map.min.x < 10 || map.max.y - map.min.y < 10) {
    draw->PopClipRect();
    return hit;  // too small to draw anything useful
  }

  // Grid and y ticks.
  const float row_pitch =
      figure.y.ticks.size() > 1
          ? std::abs(map.py(figure.y.ticks[1].value) - map.py(figure.y.ticks[0].value))
          : line_height;
  const int y_stride =
      std::max(1, static_cast<int>(std::ceil(line_height / std::max(row_pitch, 0.5f))));
  for (size_t i = 0; i < figure.y.ticks.size(); ++i) {
    const plot::Tick& tick = figure.y.ticks[i];
    const float y = map.py(tick.value);
    if (figure.y.grid) draw->AddLine(ImVec2(map.min.x, y), ImVec2(map.max.x, y), style.grid, 1);
    if (i % static_cast<size_t>(y_stride) != 0) continue;
    const std::string label = shorten(tick.label, kMaxTickBytes);
    draw->AddLine(ImVec2(map.min.x - 4, y), ImVec2(map.min.x, y), style.axis, 1);
    draw->AddText(ImVec2(map.min.x - 6 - text_width(label), y - line_height / 2), style.dim_text,
                  label.c_str());
  }

  // Bars and cells, then what marks them.
  const plot::Rect* under_pointer = nullptr;
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const auto draw_rects = [&](const std::vector<plot::Rect>& rects, bool cells) {
    for (const plot::Rect& r : rects) {
      ImVec2 a, b;
      map.rect(r, a, b);
      if (b.y < origin.y || a.y > end.y) continue;  // scrolled out of view
      draw->AddRectFilled(a, b, to_imgui(r.fill));
      if (hovered && mouse.x >= a.x && mouse.x < b.x && mouse.y >= a.y && mouse.y < b.y)
        under_pointer = &r;
      if (!r.text.empty()) {
        const ImVec2 text_size = ImGui::CalcTextSize(r.text.c_str());
        if (cells) {
          if (text_size.x + 4 <= b.x - a.x && text_size.y <= b.y - a.y) {
            draw->AddText(ImVec2((a.x + b.x - text_size.x) / 2, (a.y + b.y - text_size.y) / 2),
                          text_color_on(r.fill, style.background), r.text.c_str());
          }
        } else if (text_size.x <= (b.x - a.x) * 1.3f) {
          draw->AddText(ImVec2((a.x + b.x - text_size.x) / 2, a.y - text_size.y - 1),
                        style.dim_text, r.text.c_str());
        }
      }
    }
    for (const plot::Rect& r : rects) {
      if (!r.outlined) continue;
      ImVec2 a, b;
      map.rect(r, a, b);
      if (b.y < origin.y || a.y > end.y) continue;
      const float thickness = std::clamp(std::min(b.x - a.x, b.y - a.y) / 8, 1.0f, 2.5f);
      draw->AddRect(ImVec2(a.x + thickness / 2, a.y + thickness / 2),
                    ImVec2(b.x - thickness / 2, b.y - thickness / 2), style.text, 0, 0, thickness);
    }
  };
  draw_rects(figure.cells, true);
  draw_rects(figure.bars, false);

  for (const plot::Line& line : figure.lines) {
    const ImU32 color = line_color(line.color, style);
    const float thickness = line.width * std::max(1.0f, line_height / 18);
    for (size_t i = 1; i < line.xs.size() && i < line.ys.size(); ++i) {
      const ImVec2 a(map.px(line.xs[i - 1]), map.py(line.ys[i - 1]));
      const ImVec2 b(map.px(line.xs[i]), map.py(line.ys[i]));
      if (line.dashed) {
        dashed_segment(draw, a, b, color, thickness);
      } else {
        draw->AddLine(a, b, color, thickness);
      }
    }
    if (line.markers) {
      for (size_t i = 0; i < line.xs.size(); ++i) {
        draw->AddCircleFilled(ImVec2(map.px(line.xs[i]), map.py(line.ys[i])), thickness * 1.3f,
                              color);
      }
    }
  }

  for (const plot::Annotation& note : figure.annotations) {
    const ImVec2 text_size = ImGui::CalcTextSize(note.text.c_str());
    ImVec2 at(map.px(note.x), map.py(note.y));
    switch (note.anchor) {
      case plot::Anchor::Center:
        at = ImVec2(at.x - text_size.x / 2, at.y - text_size.y / 2);
        break;
      case plot::Anchor::Left:
        at = ImVec2(at.x + 4, at.y - text_size.y / 2);
        break;
      case plot::Anchor::Right:
        at = ImVec2(at.x - text_size.x - 4, at.y - text_size.y / 2);
        break;
      case plot::Anchor::Above:
        at = ImVec2(at.x - text_size.x / 2, at.y - text_size.y - 2);
        break;
      case plot::Anchor::Below:
        at = ImVec2(at.x - text_size.x / 2, at.y + 2);
        break;
    }
    draw->AddText(at, note.color ? to_imgui(*note.color) : style.text, note.text.c_str());
  }

  // Axes and x ticks (labels thinned out where they would overlap).
  draw->AddLine(ImVec2(map.min.x, map.min.y), ImVec2(map.min.x, map.max.y), style.axis, 1);
  draw->AddLine(ImVec2(map.min.x, map.max.y), ImVec2(map.max.x, map.max.y), style.axis, 1);
  float widest = 0;
  for (const plot::Tick& tick : figure.x.ticks)
    widest = std::max(widest, text_width(shorten(tick.label, kMaxTickBytes)));
  const float x_pitch =
      figure.x.ticks.size() > 1
          ? std::abs(map.px(figure.x.ticks[1].value) - map.px(figure.x.ticks[0].value))
          : widest + 8;
  const int x_stride =
      std::max(1, static_cast<int>(std::ceil((widest + 8) / std::max(x_pitch, 1.0f))));
  for (size_t i = 0; i < figure.x.ticks.size(); i += static_cast<size_t>(x_stride)) {
    const plot::Tick& tick = figure.x.ticks[i];
    const float x = map.px(tick.value);
    const std::string label = shorten(tick.label, kMaxTickBytes);
    draw->AddLine(ImVec2(x, map.max.y), ImVec2(x, map.max.y + 4), style.axis, 1);
    draw->AddText(ImVec2(x - text_width(label) / 2, map.max.y + 4), style.dim_text, label.c_str());
  }
  if (!figure.x.label.empty()) {
    draw->AddText(ImVec2((map.min.x + map.max.x - text_width(figure.x.label)) / 2,
                         map.max.y + 4 + line_height + 2),
                  style.dim_text, figure.x.label.c_str());
  }

  // Colour scale: a vertical gradient beside the plot, its ticks on the right.
  if (figure.color_scale && figure.color_scale->stops.size() >= 2) {
    const plot::ColorScale& scale = *figure.color_scale;
    const float x0 = map.max.x + pad * 2, x1 = x0 + line_height;
    const float y_top = std::max(map.min.y, origin.y + pad),
                y_bottom = std::min(map.max.y, end.y - pad);
    const size_t n = scale.stops.size() - 1;
    for (size_t i = 0; i < n; ++i) {
      // Top is the maximum.
      const float a =
          y_bottom - (y_bottom - y_top) * static_cast<float>(i + 1) / static_cast<float>(n);
      const float b = y_bottom - (y_bottom - y_top) * static_cast<float>(i) / static_cast<float>(n);
      const ImU32 upper = to_imgui(scale.stops[i + 1]), lower = to_imgui(scale.stops[i]);
      draw->AddRectFilledMultiColor(ImVec2(x0, a), ImVec2(x1, b), upper, upper, lower, lower);
    }
    draw->AddRect(ImVec2(x0, y_top), ImVec2(x1, y_bottom), style.axis);
    for (const plot::Tick& tick : scale.ticks) {
      if (scale.max <= scale.min) break;
      const float t = static_cast<float>((tick.value - scale.min) / (scale.max - scale.min));
      const float y = y_bottom - t * (y_bottom - y_top);
      draw->AddLine(ImVec2(x1, y), ImVec2(x1 + 3, y), style.axis);
      draw->AddText(ImVec2(x1 + 5, y - line_height / 2), style.dim_text, tick.label.c_str());
    }
  }

  if (under_pointer) {
    ImVec2 a, b;
    map.rect(*under_pointer, a, b);
    draw->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), style.hover, 0, 0, 2);
    hit.rect = under_pointer;
    hit.clicked = clicked;
  }
  draw->PopClipRect();
  if (under_pointer && !under_pointer->tooltip.empty()) {
    ImGui::BeginTooltip();
    ImGui::TextUnformatted(under_pointer->tooltip.c_str());
    ImGui::EndTooltip();
  }
  figure_export_button(id, figure, origin, end);
  return hit;
}

}  // namespace moescope::gui
