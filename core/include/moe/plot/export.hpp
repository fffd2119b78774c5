#pragma once
// Writes a plot::Figure to a PNG, SVG or PDF file, laid out by the same engine as the app's
// figure views (moe/plot/layout.hpp). Text stays text in SVG and PDF.
//
// Sizes: PNG in pixels, SVG and PDF in points (1/72 inch). Drawing happens in points, so a PNG
// of W pixels at D dpi looks like a W * 72 / D point page: text is `font_pt` points at every size.
// The file is written atomically (moe::AtomicFile): a failure throws moe::Error and leaves
// nothing behind.
#include <filesystem>
#include <optional>
#include <string>

#include "moe/plot/figure.hpp"
#include "moe/plot/layout.hpp"

namespace moe::plot {

enum class ExportFormat { Png, Svg, Pdf };
enum class ExportTheme { Light, Dark };

struct ExportOptions {
  std::optional<ExportFormat> format;  // empty: from the file's extension
  double width = 0;   // 0: 1600 px (PNG) or 576 pt (SVG/PDF), 8 inches at the default dpi
  double height = 0;  // 0: 1000 px or 360 pt (8 x 5 inches)
  double dpi = 200;   // PNG only: pixels per inch
  double font_pt = 10;
  ExportTheme theme = ExportTheme::Light;
  // Papers and slides put these in a caption: leave them out of the image.
  bool title = true;
  bool notes = true;     // the lines under the title (subtitle, figures, caveats)
  bool compact = false;  // narrow margins (paper columns)
};

// Journal figure widths: one column (3.3 in) or the full page (7 in), with text of at least
// 7 pt and the header (title, legend) kept small; notes are left to the caption.
enum class PaperColumn { Single, Double };
ExportOptions paper_export_options(PaperColumn column, ExportFormat format);

// What export_figure draws: the figure without the parts the options leave out, laid out with
// these options (theme, margins). Tests measure exports through them.
Figure figure_as_exported(const Figure& figure, const ExportOptions& options);
LayoutOptions export_layout_options(const ExportOptions& options);

// "png", "svg", "pdf" (any case, with or without the dot) -> format; throws moe::Error otherwise.
ExportFormat parse_export_format(const std::string& name);
// The format the extension of `path` names; throws moe::Error naming the path when it names none.
ExportFormat export_format_for(const std::filesystem::path& path);
const char* export_format_name(ExportFormat format);      // "png", "svg", "pdf"
ExportTheme parse_export_theme(const std::string& name);  // "light" | "dark"

struct ExportReport {
  // PNG and PDF: characters of the labels that no installed font can draw (they show as
  // boxes). SVG leaves fonts to the viewer, so 0 there.
  int characters_without_font = 0;
};

// Writes the figure; throws moe::Error (unknown format, bad size, unwritable path, disk full).
ExportReport export_figure(const Figure& figure, const std::filesystem::path& path,
                           const ExportOptions& options = {});
// A sentence for the user when some characters had no font, else "".
std::string missing_font_note(const ExportReport& report);

// The options with defaults filled in and the format decided (for messages and the GUI).
ExportOptions resolve_export_options(const std::filesystem::path& path, ExportOptions options);

}  // namespace moe::plot
