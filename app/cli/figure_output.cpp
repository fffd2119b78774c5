#include "figure_output.hpp"

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
}

plot::ExportOptions figure_export_options(const FigureOutputArgs& args) {
  plot::ExportOptions options;
  if (!args.format.empty()) options.format = plot::parse_export_format(args.format);
  options.width = args.width;
  options.height = args.height;
  options.dpi = args.dpi;
  options.font_pt = args.font_pt;
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

}  // namespace moescope::cli
