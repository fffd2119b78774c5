#include "figure_output.hpp"

#include <cmath>
#include <iostream>

namespace moescope::cli {

namespace plot = moe::plot;

void add_figure_output_options(CLI::App& command, FigureOutputArgs& args) {
  command.add_option("--out,-o", args.out_path, "Image file to write")->required();
  command.add_option("--format", args.format, "png | svg | pdf (default: from --out's extension)");
  command.add_option("--width", args.width,
                     "Width: pixels (PNG, default 1600) or points (SVG/PDF, default 576)");
  command.add_option("--height", args.height,
                     "Height: pixels (PNG, default 1000) or points (SVG/PDF, default 360)");
  command.add_option("--dpi", args.dpi, "PNG resolution: pixels per inch (default 200)");
  command.add_option("--font-size", args.font_pt, "Text size in points (default 10)");
  command.add_option("--theme", args.theme, "light (default) | dark");
  command
      .add_option("--paper", args.paper,
                  "single: one journal column, 3.3 x 2.4 in, 7 pt text; double: the full page "
                  "width, 7 x 3 in, 8 pt; both 300 dpi, without notes (your caption says them). "
                  "--width, --height, --dpi and --font-size still override")
      ->check(CLI::IsMember({"single", "double"}));
  command.add_flag("--no-title", args.no_title, "Leave the title out (a caption gives it)");
  command.add_flag("--no-notes", args.no_notes,
                   "Leave out the lines under the title (figures, units, caveats)");
}

plot::ExportOptions figure_export_options(const FigureOutputArgs& args) {
  plot::ExportOptions options;
  if (!args.format.empty()) options.format = plot::parse_export_format(args.format);
  if (!args.paper.empty()) {
    const plot::ExportFormat format =
        options.format ? *options.format : plot::export_format_for(args.out_path);
    options = plot::paper_export_options(
        args.paper == "single" ? plot::PaperColumn::Single : plot::PaperColumn::Double, format);
    if (args.dpi > 0 && format == plot::ExportFormat::Png) {
      // The preset's inches at the asked resolution.
      options.width = std::round(options.width / options.dpi * args.dpi);
      options.height = std::round(options.height / options.dpi * args.dpi);
    }
  }
  if (args.width != 0) options.width = args.width;
  if (args.height != 0) options.height = args.height;
  if (args.dpi != 0) options.dpi = args.dpi;
  if (args.font_pt != 0) options.font_pt = args.font_pt;
  if (args.no_title) options.title = false;
  if (args.no_notes) options.notes = false;
  options.theme = plot::parse_export_theme(args.theme);
  plot::resolve_export_options(args.out_path, options);  // throws for a bad format or size
  return options;
}

void write_figure(const plot::Figure& figure, const std::filesystem::path& path,
                  const plot::ExportOptions& options, const std::string& details) {
  const plot::ExportReport report = plot::export_figure(figure, path, options);
  if (report.characters_without_font > 0)
    std::cerr << "warning: " << path.string() << ": " << plot::missing_font_note(report) << "\n";
  const plot::ExportOptions used = plot::resolve_export_options(path, options);
  std::cout << "wrote " << path.string() << " (" << plot::export_format_name(*used.format) << ", "
            << used.width << " x " << used.height
            << (*used.format == plot::ExportFormat::Png ? " px" : " pt")
            << (details.empty() ? "" : "; " + details) << ")\n";
}

std::filesystem::path with_layer_suffix(const std::filesystem::path& path, int layer) {
  std::filesystem::path result = path;
  result.replace_filename(path.stem().string() + "-L" + std::to_string(layer) +
                          path.extension().string());
  return result;
}

}  // namespace moescope::cli
