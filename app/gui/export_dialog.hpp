#pragma once
// Export from the desktop app. Every figure gets an "Export" button in its top-right corner (and
// the same entry on right click) that opens a dialog writing exactly that plot::Figure through
// the cairo exporter as PNG, SVG or PDF, at a size, resolution and theme the user picks. "Export
// data" (File menu) writes the current routing trace as JSON or CSV, or the load table as CSV.
// The dialogs keep their state here: they are drawn on the UI thread only.
#include <imgui.h>

#include <optional>
#include <string>

#include "moe/plot/figure.hpp"
#include "export_files.hpp"
#include "settings.hpp"
#include "worker.hpp"

namespace moescope::gui {

// Draws the Export button over the top-right corner of the figure just drawn (`min`..`max`),
// and a right-click menu on it; either opens the export dialog for `figure`.
void figure_export_button(const char* id, const moe::plot::Figure& figure, ImVec2 min, ImVec2 max);

// Opens the data export dialog.
void open_data_export();

// Draws whichever export dialog is open; call once per frame inside the host window.
void draw_export_dialogs(const Snapshot& snapshot);

// True while an export dialog is open (the scripted mode waits for it to close).
bool export_dialog_open();

// The scripted mode drives the same dialogs a user clicks through: the next figure drawn with
// an Export button opens its dialog with `path` (format from the extension) and the dialog's
// Export button is pressed once; likewise for the data dialog. The result: nullopt while
// pending, then the error message, or an empty string when the file was written.
void script_export_next_figure(std::string path);
void script_export_data(DataExport kind, std::string path);
std::optional<std::string> scripted_export_result();

}  // namespace moescope::gui
