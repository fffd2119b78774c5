// Writes a figure to a PNG, SVG or PDF file: lays it out once with the figure layout engine and
// draws the result on the cairo canvas (PNG, PDF) or the SVG canvas. Text is measured with cairo
// for every format, so all three lay out the same way.
#include <cairo-pdf.h>
#include <cairo.h>

#include <cmath>
#include <exception>
#include <functional>
#include <string>

#include "cairo_canvas.hpp"
#include "figure_text.hpp"
#include "moe/atomic_file.hpp"
#include "moe/error.hpp"
#include "moe/plot/export.hpp"
#include "moe/plot/layout.hpp"
#include "svg_canvas.hpp"

namespace moe::plot {

namespace {

using detail::CairoCanvas;
using detail::CairoMetrics;
using detail::clean_text;
using detail::compact_number;
using detail::SvgCanvas;

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void check_cairo(cairo_status_t status, const std::filesystem::path& path) {
  if (status != CAIRO_STATUS_SUCCESS)
    throw Error("cannot write " + path.string() + ": cairo: " + cairo_status_to_string(status));
}

// Lays the figure out on `canvas` and draws it; throws when the text leaves no room for the plot.
void draw_on(Canvas& canvas, const Figure& figure, double width, double height,
             const LayoutOptions& options) {
  const FigureLayout layout = lay_out_figure(figure, width, height, canvas, options);
  if (!layout.fits) {
    throw Error("the figure \"" + figure.title + "\" does not fit in " + compact_number(width) +
                " x " + compact_number(height) +
                " points: make the image larger or the text smaller");
  }
  canvas.draw(layout.primitives);
}

// Draws the figure on a cairo surface (in points, `scale` device units to the point), then ends
// it with `finish` (writes the PNG, finishes the PDF). The surface is released whatever fails;
// the layout's error comes first, then cairo's. Returns the characters no font could draw.
int draw_on_surface(cairo_surface_t* surface, double scale, bool crisp_fills, const Figure& figure,
                    Point size, const LayoutOptions& layout, CairoMetrics& metrics,
                    const std::filesystem::path& path,
                    const std::function<cairo_status_t(cairo_surface_t*)>& finish) {
  cairo_t* cr = cairo_create(surface);
  cairo_scale(cr, scale, scale);
  std::exception_ptr failure;
  int missing_glyphs = 0;
  try {
    CairoCanvas canvas(cr, metrics, crisp_fills);
    draw_on(canvas, figure, size.x, size.y, layout);
    missing_glyphs = canvas.missing_glyphs();
  } catch (...) {
    failure = std::current_exception();
  }
  const cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);
  const cairo_status_t finish_status =
      failure || status != CAIRO_STATUS_SUCCESS ? status : finish(surface);
  cairo_surface_destroy(surface);
  if (failure) std::rethrow_exception(failure);
  check_cairo(status, path);
  check_cairo(finish_status, path);
  return missing_glyphs;
}

}  // namespace

ExportOptions paper_export_options(PaperColumn column, ExportFormat format) {
  // Widths of the common two-column journal and conference layouts; heights keep the plot
  // wide rather than tall. Text at the size of a caption's small print, never below 7 pt.
  const bool single = column == PaperColumn::Single;
  const double width_in = single ? 3.3 : 7.0;
  const double height_in = single ? 2.4 : 3.0;
  ExportOptions options;
  options.format = format;
  options.dpi = 300;
  options.font_pt = single ? 7 : 8;
  options.notes = false;  // the caption says what the notes would
  options.compact = true;
  const double per_inch = format == ExportFormat::Png ? options.dpi : 72;
  options.width = std::round(width_in * per_inch * 10) / 10;
  options.height = std::round(height_in * per_inch * 10) / 10;
  return options;
}

Figure figure_as_exported(const Figure& figure, const ExportOptions& options) {
  Figure exported = figure;
  if (!options.title) exported.title.clear();
  if (!options.notes) exported.notes.clear();
  return exported;
}

LayoutOptions export_layout_options(const ExportOptions& options) {
  LayoutOptions layout;  // paper: 0.75 pt hairlines
  layout.palette = options.theme == ExportTheme::Dark ? dark_palette() : light_palette();
  if (options.compact) {
    layout.margin = 0.3;
    layout.compact = true;
  }
  return layout;
}

ExportReport export_figure(const Figure& original, const std::filesystem::path& path,
                           const ExportOptions& requested) {
  const ExportOptions options = resolve_export_options(path, requested);
  ExportReport report;
  const LayoutOptions layout = export_layout_options(options);
  const Figure figure = figure_as_exported(original, options);
  CairoMetrics metrics(options.font_pt);
  std::string bytes;

  switch (*options.format) {
    case ExportFormat::Png: {
      const int width_px = static_cast<int>(std::lround(options.width));
      const int height_px = static_cast<int>(std::lround(options.height));
      const double scale = options.dpi / 72;
      cairo_surface_t* surface =
          cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width_px, height_px);
      report.characters_without_font = draw_on_surface(
          surface, scale, /*crisp_fills=*/true, figure, {width_px / scale, height_px / scale},
          layout, metrics, path, [&](cairo_surface_t* done) {
            cairo_surface_flush(done);
            return cairo_surface_write_to_png_stream(done, append_to_string, &bytes);
          });
      break;
    }
    case ExportFormat::Pdf: {
      cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(append_to_string, &bytes,
                                                                     options.width, options.height);
      cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE,
                                     clean_text(original.title).c_str());
      cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "moescope");
      report.characters_without_font = draw_on_surface(surface, 1, /*crisp_fills=*/false, figure,
                                                       {options.width, options.height}, layout,
                                                       metrics, path, [](cairo_surface_t* done) {
                                                         cairo_surface_finish(done);
                                                         return cairo_surface_status(done);
                                                       });
      break;
    }
    case ExportFormat::Svg: {
      SvgCanvas canvas(options.width, options.height, clean_text(original.title), metrics);
      draw_on(canvas, figure, options.width, options.height, layout);
      bytes = canvas.finish();
      break;
    }
  }
  write_file_atomically(path, bytes);
  return report;
}

std::string missing_font_note(const ExportReport& report) {
  if (report.characters_without_font == 0) return "";
  return std::to_string(report.characters_without_font) +
         " characters have no installed font and show as boxes; install a font that covers "
         "them (for Chinese, Japanese and Korean: fonts-noto-cjk or fonts-wqy-microhei)";
}

}  // namespace moe::plot
