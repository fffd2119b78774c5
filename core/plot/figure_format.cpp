// The export options from outside (file extension, --format, --theme, sizes) checked and
// completed.
#include <cctype>

#include "figure_text.hpp"
#include "moe/error.hpp"
#include "moe/plot/export.hpp"

namespace moe::plot {

namespace {

using detail::compact_number;

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

ExportFormat parse_export_format(const std::string& name) {
  std::string key = lower(name);
  if (!key.empty() && key.front() == '.') key.erase(0, 1);
  if (key == "png") return ExportFormat::Png;
  if (key == "svg") return ExportFormat::Svg;
  if (key == "pdf") return ExportFormat::Pdf;
  throw Error("unknown image format '" + name + "' (formats: png, svg, pdf)");
}

ExportFormat export_format_for(const std::filesystem::path& path) {
  const std::string extension = path.extension().string();
  if (extension.empty()) {
    throw Error("cannot tell the image format of " + path.string() +
                ": give the file a .png, .svg or .pdf extension or name the format");
  }
  try {
    return parse_export_format(extension);
  } catch (const Error&) {
    throw Error("unknown image format '" + extension + "' for " + path.string() +
                " (formats: png, svg, pdf)");
  }
}

const char* export_format_name(ExportFormat format) {
  switch (format) {
    case ExportFormat::Png:
      return "png";
    case ExportFormat::Svg:
      return "svg";
    case ExportFormat::Pdf:
      return "pdf";
  }
  return "png";
}

ExportTheme parse_export_theme(const std::string& name) {
  const std::string key = lower(name);
  if (key == "light") return ExportTheme::Light;
  if (key == "dark") return ExportTheme::Dark;
  throw Error("unknown theme '" + name + "' (themes: light, dark)");
}

ExportOptions resolve_export_options(const std::filesystem::path& path, ExportOptions options) {
  if (!options.format) options.format = export_format_for(path);
  const bool png = *options.format == ExportFormat::Png;
  if (!(options.dpi >= 36 && options.dpi <= 1200))
    throw Error("the resolution must be between 36 and 1200 dpi (got " +
                compact_number(options.dpi) + ")");
  if (options.width == 0) options.width = png ? 1600 : 576;
  if (options.height == 0) options.height = png ? 1000 : 360;
  const double limit = png ? 16384 : 14400;  // pixels; points (200 inches, PDF's page limit)
  const char* unit = png ? "pixels" : "points";
  for (const double size : {options.width, options.height}) {
    if (!(size >= 32 && size <= limit)) {
      throw Error("the image size must be between 32 and " + compact_number(limit) + " " + unit +
                  " (got " + compact_number(options.width) + " x " +
                  compact_number(options.height) + ")");
    }
  }
  if (!(options.font_pt >= 4 && options.font_pt <= 72))
    throw Error("the font size must be between 4 and 72 points (got " +
                compact_number(options.font_pt) + ")");
  return options;
}

}  // namespace moe::plot
