#include "cairo_text.hpp"

#include <pango/pangocairo.h>

#include "moe/error.hpp"

namespace moe::plot::detail {

namespace {

constexpr const char* kFontFamily = "DejaVu Sans";

PangoFontDescription* describe(const Font& font) {
  PangoFontDescription* description = pango_font_description_new();
  pango_font_description_set_family(description, kFontFamily);
  pango_font_description_set_weight(description,
                                    font.bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  // Absolute: in cairo user units, as cairo_set_font_size was, with no 96-dpi conversion.
  pango_font_description_set_absolute_size(description, font.size * PANGO_SCALE);
  return description;
}

}  // namespace

CairoText::CairoText(cairo_t* cr) : cr_(cr), layout_(pango_cairo_create_layout(cr)) {
  if (layout_ == nullptr) throw Error("cannot lay out text for the figure (Pango)");
  PangoContext* context = pango_layout_get_context(layout_);
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options(context, options);
  cairo_font_options_destroy(options);
  pango_context_set_round_glyph_positions(context, FALSE);
  pango_layout_context_changed(layout_);
  pango_layout_set_single_paragraph_mode(layout_, TRUE);
}

CairoText::~CairoText() { g_object_unref(layout_); }

void CairoText::set(const std::string& text, const Font& font) {
  PangoFontDescription* description = describe(font);
  pango_layout_set_font_description(layout_, description);
  pango_font_description_free(description);
  pango_layout_set_text(layout_, text.data(), static_cast<int>(text.size()));
}

double CairoText::width(const std::string& text, const Font& font) {
  set(text, font);
  PangoRectangle logical;
  pango_layout_get_extents(layout_, nullptr, &logical);
  return static_cast<double>(logical.width) / PANGO_SCALE;
}

double CairoText::ascent(const Font& font) {
  PangoFontDescription* description = describe(font);
  PangoFontMetrics* metrics =
      pango_context_get_metrics(pango_layout_get_context(layout_), description, nullptr);
  const double ascent = static_cast<double>(pango_font_metrics_get_ascent(metrics)) / PANGO_SCALE;
  pango_font_metrics_unref(metrics);
  pango_font_description_free(description);
  return ascent;
}

double CairoText::line_height(const Font& font) {
  PangoFontDescription* description = describe(font);
  PangoFontMetrics* metrics =
      pango_context_get_metrics(pango_layout_get_context(layout_), description, nullptr);
  const double height = static_cast<double>(pango_font_metrics_get_ascent(metrics) +
                                            pango_font_metrics_get_descent(metrics)) /
                        PANGO_SCALE;
  pango_font_metrics_unref(metrics);
  pango_font_description_free(description);
  return height;
}

int CairoText::show(const std::string& text, const Font& font) {
  set(text, font);
  // The layout draws from its top-left corner: lift it by its baseline.
  const double baseline = static_cast<double>(pango_layout_get_baseline(layout_)) / PANGO_SCALE;
  pango_cairo_update_layout(cr_, layout_);
  cairo_rel_move_to(cr_, 0, -baseline);
  pango_cairo_show_layout(cr_, layout_);
  return pango_layout_get_unknown_glyphs_count(layout_);
}

}  // namespace moe::plot::detail
