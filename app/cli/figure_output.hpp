#pragma once
// The image-output options the plotting commands share (--out, --format, --width, --height,
// --dpi, --font-size, --theme, --paper, --no-title, --no-notes) and writing a Figure with them.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "moe/plot/export.hpp"
#include "moe/plot/figure.hpp"

namespace moescope::cli {

struct FigureOutputArgs {
  std::string out_path;
  std::string format;            // empty: from the extension of out_path
  double width = 0, height = 0;  // 0: the default or the --paper preset's
  double dpi = 0, font_pt = 0;   // 0: likewise
  std::string theme = "light";
  std::string paper;  // "", "single" or "double": a journal column's size and text
  bool no_title = false, no_notes = false;
};

void add_figure_output_options(CLI::App& command, FigureOutputArgs& args);
// The export options, checked against --out's extension: call it before any long work so a bad
// format or size fails at once.
moe::plot::ExportOptions figure_export_options(const FigureOutputArgs& args);
// Writes the figure and prints "wrote PATH (format, W x H px|pt[; details])".
void write_figure(const moe::plot::Figure& figure, const std::filesystem::path& path,
                  const moe::plot::ExportOptions& options, const std::string& details = "");

// One file per layer: FILE.png -> FILE-L3.png.
std::filesystem::path with_layer_suffix(const std::filesystem::path& path, int layer);

}  // namespace moescope::cli
