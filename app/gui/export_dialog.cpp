#include "export_dialog.hpp"

#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <optional>
#include <string>

#include "export_files.hpp"
#include "moe/error.hpp"
#include "moe/plot/export.hpp"
#include "moe/routing_data.hpp"
#include "profile_source.hpp"

namespace moescope::gui {

namespace fs = std::filesystem;
namespace plot = moe::plot;

namespace {

struct FigureExportState {
  std::optional<plot::Figure> figure;  // a copy of what the panel showed when asked
  bool open_requested = false;
  int format = 0;  // 0 PNG, 1 SVG, 2 PDF
  int width_px = 1600, height_px = 1000, dpi = 200;
  int width_pt = 576, height_pt = 360;
  float font_pt = 10;
  bool dark = false;                // exports default to the light theme (slides, paper)
  bool title = true, notes = true;  // papers give both in the caption
  bool compact = false;             // a paper column's narrow margins (set by its preset)
  std::string folder;
  std::string path;
  std::string message;
  bool message_is_error = false;
  // Scripted mode: the next figure with an Export button opens the dialog with this path, and
  // the dialog presses its own Export button once.
  std::string scripted_path;
  bool scripted_press = false;
};

struct DataExportState {
  bool open_requested = false;
  int kind = 0;  // DataExport
  std::string path;
  std::string message;
  bool message_is_error = false;
  bool scripted_press = false;
};

FigureExportState figure_state;
std::optional<std::string> scripted_result;  // the message of a scripted export once done
DataExportState data_state;
bool dialog_visible = false;

const char* const kFormatNames[] = {"PNG", "SVG", "PDF"};
const char* const kFormatExtensions[] = {".png", ".svg", ".pdf"};

// Replaces the extension of `path` with `extension` (keeps the user's folder and name).
std::string with_extension(const std::string& path, const char* extension) {
  fs::path p(path);
  p.replace_extension(extension);
  return p.string();
}

// A scripted press is over once the dialog tried to export: report and close, as a user would.
void finish_scripted_press(bool& press, const std::string& message, bool error) {
  press = false;
  scripted_result = error ? message : std::string();
  ImGui::CloseCurrentPopup();
}

// The Export and Close buttons every export dialog ends with (a scripted press counts as
// Export); when Export was pressed, runs `write` and records its outcome as the message, with
// the note `write` returns (e.g. characters no font could draw) on a line of its own.
void export_buttons(bool scripted_press, const std::string& path, std::string& message,
                    bool& message_is_error, const std::function<std::string()>& write) {
  bool export_now = ImGui::Button("Export") || scripted_press;
  ImGui::SameLine();
  if (ImGui::Button("Close") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
    message.clear();
    ImGui::CloseCurrentPopup();
    export_now = false;
  }
  if (!export_now) return;
  try {
    const std::string note = write();
    message = "Wrote " + path + (note.empty() ? "" : "\n" + note);
    message_is_error = false;
  } catch (const std::exception& error) {
    message = error.what();
    message_is_error = true;
  }
}

void message_line(const std::string& message, bool error) {
  if (message.empty()) return;
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32);
  ImGui::TextColored(error ? ImVec4(0.95f, 0.4f, 0.35f, 1) : ImVec4(0.45f, 0.8f, 0.45f, 1), "%s",
                     message.c_str());
  ImGui::PopTextWrapPos();
}

void draw_figure_dialog() {
  FigureExportState& s = figure_state;
  if (s.open_requested) {
    s.open_requested = false;
    ImGui::OpenPopup("Export figure");
  }
  if (!ImGui::BeginPopupModal("Export figure", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  dialog_visible = true;
  const float field = ImGui::GetFontSize() * 7;
  ImGui::TextDisabled("%s", s.figure ? s.figure->title.c_str() : "");
  int format = s.format;
  for (int i = 0; i < 3; ++i) {
    if (i) ImGui::SameLine();
    ImGui::RadioButton(kFormatNames[i], &format, i);
  }
  if (format != s.format) {
    s.format = format;
    s.path = with_extension(s.path, kFormatExtensions[format]);
  }
  const bool png = s.format == 0;
  ImGui::SetNextItemWidth(field);
  ImGui::InputInt(png ? "width (px)" : "width (pt)", png ? &s.width_px : &s.width_pt, 0);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(field);
  ImGui::InputInt(png ? "height (px)" : "height (pt)", png ? &s.height_px : &s.height_pt, 0);
  if (png) {
    ImGui::SetNextItemWidth(field);
    ImGui::InputInt("dpi", &s.dpi, 0);
    ImGui::SameLine();
    ImGui::TextDisabled("= %.1f x %.1f in", s.width_px / std::max(1.0, double(s.dpi)),
                        s.height_px / std::max(1.0, double(s.dpi)));
  } else {
    ImGui::TextDisabled("72 points = 1 inch; %d x %d pt = %.1f x %.1f in", s.width_pt, s.height_pt,
                        s.width_pt / 72.0, s.height_pt / 72.0);
  }
  if (ImGui::SmallButton(png ? "slide 1920x1080" : "slide 10x5.6 in")) {
    if (png)
      s.width_px = 1920, s.height_px = 1080, s.dpi = 200;
    else
      s.width_pt = 720, s.height_pt = 405;
    s.font_pt = 10;
    s.compact = false;
  }
  // Journal columns: the core's presets (>= 7 pt text, a small header, notes to the caption).
  const auto paper_button = [&](const char* label, plot::PaperColumn column) {
    ImGui::SameLine();
    if (!ImGui::SmallButton(label)) return;
    const plot::ExportOptions preset =
        plot::paper_export_options(column, static_cast<plot::ExportFormat>(s.format));
    if (png) {
      s.width_px = static_cast<int>(preset.width), s.height_px = static_cast<int>(preset.height);
      s.dpi = static_cast<int>(preset.dpi);
    } else {
      s.width_pt = static_cast<int>(std::lround(preset.width));
      s.height_pt = static_cast<int>(std::lround(preset.height));
    }
    s.font_pt = static_cast<float>(preset.font_pt);
    s.title = preset.title;
    s.notes = preset.notes;
    s.compact = preset.compact;
  };
  paper_button("single column 3.3 in", plot::PaperColumn::Single);
  paper_button("double column 7 in", plot::PaperColumn::Double);
  ImGui::SetNextItemWidth(field);
  ImGui::InputFloat("text size (pt)", &s.font_pt, 0, 0, "%.1f");
  ImGui::SameLine();
  ImGui::Checkbox("dark background", &s.dark);
  ImGui::Checkbox("title", &s.title);
  ImGui::SameLine();
  ImGui::Checkbox("notes under the title", &s.notes);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
  ImGui::InputText("file", &s.path);

  export_buttons(s.scripted_press, s.path, s.message, s.message_is_error, [&] {
    plot::ExportOptions options;
    options.format = static_cast<plot::ExportFormat>(s.format);
    options.width = png ? s.width_px : s.width_pt;
    options.height = png ? s.height_px : s.height_pt;
    options.dpi = s.dpi;
    options.font_pt = s.font_pt;
    options.theme = s.dark ? plot::ExportTheme::Dark : plot::ExportTheme::Light;
    options.title = s.title;
    options.notes = s.notes;
    options.compact = s.compact;
    if (!s.figure) throw moe::Error("no figure to export");
    prepare_export_folder(s.path);
    return plot::missing_font_note(plot::export_figure(*s.figure, s.path, options));
  });
  if (s.scripted_press) finish_scripted_press(s.scripted_press, s.message, s.message_is_error);
  message_line(s.message, s.message_is_error);
  ImGui::EndPopup();
}

void draw_data_dialog(const Snapshot& snapshot) {
  DataExportState& s = data_state;
  if (s.open_requested) {
    s.open_requested = false;
    ImGui::OpenPopup("Export data");
  }
  if (!ImGui::BeginPopupModal("Export data", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  dialog_visible = true;
  if (snapshot.profile) {
    ImGui::TextDisabled("%s (the load CSV only: a profile has no trace)",
                        profile_note(*snapshot.profile).c_str());
  } else {
    ImGui::TextDisabled("%d tokens, %zu MoE layers", snapshot.trace.n_tokens(),
                        snapshot.trace.moe_layers().size());
  }
  const char* const names[] = {"trace JSON", "trace CSV (token, layer, expert)",
                               "load CSV (layer, expert)"};
  int kind = s.kind;
  for (int i = 0; i < 3; ++i) ImGui::RadioButton(names[i], &kind, i);
  if (kind != s.kind) {
    // Keep the folder, name the file after what it holds.
    const char* const stems[] = {"routing-trace", "routing-trace", "expert-load"};
    fs::path p(s.path);
    p.replace_filename(std::string(stems[kind]) +
                       data_export_extension(static_cast<DataExport>(kind)));
    s.path = p.string();
    s.kind = kind;
  }
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
  ImGui::InputText("file", &s.path);
  export_buttons(s.scripted_press, s.path, s.message, s.message_is_error, [&] {
    export_snapshot_data(snapshot, static_cast<DataExport>(s.kind), s.path);
    return std::string();
  });
  if (s.scripted_press) finish_scripted_press(s.scripted_press, s.message, s.message_is_error);
  ImGui::TextDisabled("Formats: see the README, \"Export\" (schema_version %d).",
                      moe::kRoutingSchemaVersion);
  message_line(s.message, s.message_is_error);
  ImGui::EndPopup();
}

void open_figure_export(const plot::Figure& figure) {
  FigureExportState& s = figure_state;
  s.figure = figure;
  if (s.folder.empty()) s.folder = default_export_folder().string();
  // A new file name per figure, in the folder the last export went to.
  const fs::path last = s.path.empty() ? fs::path(s.folder) / "x" : fs::path(s.path);
  s.path =
      (last.parent_path() / (file_stem_for(figure.title) + kFormatExtensions[s.format])).string();
  s.message.clear();
  s.open_requested = true;
}

}  // namespace

void figure_export_button(const char* id, const plot::Figure& figure, ImVec2 min, ImVec2 max) {
  const ImVec2 saved = ImGui::GetCursorScreenPos();
  const char* label = "Export";
  const ImGuiStyle& style = ImGui::GetStyle();
  const float width = ImGui::CalcTextSize(label).x + style.FramePadding.x * 2;
  if (max.x - min.x < width * 3 || max.y - min.y < ImGui::GetFrameHeight() * 3) return;
  ImGui::PushID(id);
  ImGui::SetCursorScreenPos(ImVec2(max.x - width - 2, min.y + 2));
  ImGui::PushStyleVar(ImGuiStyleVar_Alpha, style.Alpha * 0.85f);
  if (ImGui::SmallButton(label)) open_figure_export(figure);
  if (!figure_state.scripted_path.empty() && !export_dialog_open()) {
    open_figure_export(figure);
    FigureExportState& s = figure_state;
    s.path = std::move(s.scripted_path);
    s.scripted_path.clear();
    const std::string extension = fs::path(s.path).extension().string();
    for (int i = 0; i < 3; ++i)
      if (extension == kFormatExtensions[i]) s.format = i;
    s.scripted_press = true;
  }
  ImGui::PopStyleVar();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save this figure as PNG, SVG or PDF");
  if (ImGui::IsMouseHoveringRect(min, max) && ImGui::IsMouseClicked(ImGuiMouseButton_Right) &&
      !ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId))
    ImGui::OpenPopup("##figure_menu");
  if (ImGui::BeginPopup("##figure_menu")) {
    if (ImGui::MenuItem("Export figure\xE2\x80\xA6")) open_figure_export(figure);
    if (ImGui::MenuItem("Export data\xE2\x80\xA6")) open_data_export();
    ImGui::EndPopup();
  }
  ImGui::PopID();
  ImGui::SetCursorScreenPos(saved);
}

void open_data_export() {
  DataExportState& s = data_state;
  if (s.path.empty()) {
    s.path =
        (default_export_folder() /
         ("routing-trace" + std::string(data_export_extension(static_cast<DataExport>(s.kind)))))
            .string();
  }
  s.message.clear();
  s.open_requested = true;
}

void draw_export_dialogs(const Snapshot& snapshot) {
  dialog_visible = false;
  draw_figure_dialog();
  draw_data_dialog(snapshot);
}

bool export_dialog_open() {
  return dialog_visible || figure_state.open_requested || data_state.open_requested;
}

void script_export_next_figure(std::string path) {
  scripted_result.reset();
  figure_state.scripted_path = std::move(path);
}

void script_export_data(DataExport kind, std::string path) {
  scripted_result.reset();
  open_data_export();
  data_state.kind = static_cast<int>(kind);
  data_state.path = std::move(path);
  data_state.scripted_press = true;
}

std::optional<std::string> scripted_export_result() { return scripted_result; }

}  // namespace moescope::gui
