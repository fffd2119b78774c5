#include "app.hpp"

#define GLFW_INCLUDE_NONE
#include <GL/gl.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <iostream>

#include "export_dialog.hpp"
#include "fonts.hpp"
#include "moe/model_loading.hpp"
#include "png_io.hpp"
#include "side_by_side.hpp"
#include "theme.hpp"
#include "token_text.hpp"

namespace moescope::gui {

namespace {

constexpr float kDefaultFontSize = 18;

}  // namespace

App::App(GLFWwindow* window, AppOptions options) : window_(window), options_(std::move(options)) {
  settings_file_ = options_.config_dir / "settings.json";
  std::vector<std::string> problems;
  settings_ = load_settings(settings_file_, &problems);
  for (const std::string& problem : problems) std::cerr << "moescope: " << problem << "\n";
  imgui_ini_ = (options_.config_dir / "imgui.ini").string();
  if (options_.save_settings) {
    std::error_code ignored;
    std::filesystem::create_directories(options_.config_dir, ignored);
    ImGui::GetIO().IniFilename = imgui_ini_.c_str();
  } else {
    ImGui::GetIO().IniFilename = nullptr;
  }

  WorkerOptions worker_options;
  worker_options.n_threads = options_.n_threads;
  worker_ = std::make_unique<Worker>(worker_options);
  snapshot_ = worker_->snapshot();
  prompt_state_.examples = load_example_prompts(options_.assets_dir / "prompts");
  training_.assets_dir = options_.assets_dir;
  const ViewSetup setup{options_.assets_dir, training_};
  for (const ViewInfo* view : views()) views_.push_back(view->make(setup));
  prompt_state_.text = settings_.prompt;
  requested_panel_ = settings_.panel;
  listing_.folder = settings_.browse_folder;

  if (!options_.script.empty()) {
    script_.emplace(options_.script);
    prompt_state_.text.clear();  // a script starts from an empty prompt
    prompt_state_.focus_prompt = false;
  } else {
    // Which model to open: the command line (a model or a saved session), else the one used
    // last, else the bundled one, else a generated demo model.
    std::string model = options_.model_path;
    const bool session = is_session_file(model);
    const bool profile = is_profile_file(model);
    if (session || profile) model.clear();
    std::error_code ignored;
    if (model.empty() && !settings_.last_model.empty() &&
        std::filesystem::exists(settings_.last_model, ignored)) {
      model = settings_.last_model;
    }
    if (model.empty()) model = bundled_model(options_.assets_dir);
    if (model.empty()) {
      open_demo_model(options_.demo_model.string());
    } else {
      open_path(model);
    }
    if (session) open_session(options_.model_path);
    if (profile) open_profile(options_.model_path);
    if (!settings_.tour_seen) {
      settings_.tour_seen = true;
      start_tour(tour_, requested_panel_);
    }
  }
  if (options_.presenter) set_presenter(true);
  update_title();
}

App::~App() {
  save();
  // ImGui writes its ini once more when its context is destroyed, after this App is gone:
  // write it now and leave it no pointer into our freed string.
  if (ImGui::GetIO().IniFilename != nullptr) ImGui::SaveIniSettingsToDisk(imgui_ini_.c_str());
  ImGui::GetIO().IniFilename = nullptr;
}

void App::save() {
  if (!options_.save_settings) return;
  int x = 0, y = 0, width = 0, height = 0;
  settings_.window_maximized = glfwGetWindowAttrib(window_, GLFW_MAXIMIZED) != 0;
  if (!settings_.window_maximized) {
    glfwGetWindowPos(window_, &x, &y);
    glfwGetWindowSize(window_, &width, &height);
    settings_.window_x = x;
    settings_.window_y = y;
    settings_.window_width = width;
    settings_.window_height = height;
  }
  settings_.prompt = prompt_state_.text;
  try {
    save_settings(settings_file_, settings_);
  } catch (const std::exception& error) {
    std::cerr << "moescope: " << error.what() << "\n";
  }
}

void App::set_font_size(float size) {
  settings_.font_size = std::clamp(size, 10.0f, 64.0f);
  fonts_dirty_ = true;
}

void App::before_frame() {
  if (!fonts_dirty_) return;
  fonts_dirty_ = false;
  const FontReport report = build_fonts(settings_.font_size, settings_.cjk_font);
  font_note_ = report.main_font + (report.cjk_font.empty() ? "" : " + " + report.cjk_font);
  apply_theme(settings_.theme, settings_.font_size / 16.0f);
  figure_style_ = figure_style(settings_.theme);
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  ImGui_ImplOpenGL3_CreateFontsTexture();
}

void App::override_input() {
  if (!script_) return;
  ImGuiIO& io = ImGui::GetIO();
  // A scripted key press lasts one frame, as a quick tap does.
  if (held_key_ >= 0) io.KeysDown[held_key_] = false;
  held_key_ = script_->take_key_press();
  if (held_key_ >= 0) io.KeysDown[held_key_] = true;
  const auto& boxes = strip_state_.token_boxes;
  const int hover = script_->hover_token();
  if (hover >= 0 && hover < static_cast<int>(boxes.size())) {
    const ImVec4& box = boxes[static_cast<size_t>(hover)];
    io.MousePos = ImVec2((box.x + box.z) / 2, (box.y + box.w) / 2);
  } else {
    io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
  }
}

bool App::can_idle() const {
  return !script_ && worker_->idle() && dialogs_.empty() && !open_dialog_visible_;
}

void App::update_title() {
  std::string title = "moescope";
  if (snapshot_->model) {
    title += " \xE2\x80\x94 " + snapshot_->model->name;
    if (snapshot_->model->random_weights)
      title += " (random-weight demo model: no bundled model yet)";
  }
  if (profile_) title += " \xC2\xB7 profile " + profile_->path;
  glfwSetWindowTitle(window_, title.c_str());
}

void App::take_snapshot() {
  std::shared_ptr<const Snapshot> latest = worker_->snapshot();
  for (WorkerMessage& message : worker_->take_messages()) {
    if (message.error) ++errors_seen_;
    std::cerr << "moescope: " << message.title << ": " << message.text << "\n";
    dialogs_.push_back(std::move(message));
  }
  if (latest->version == snapshot_->version) return;
  snapshot_ = std::move(latest);
  update_selection(selection_, static_cast<int>(snapshot_->tokens.size()),
                   snapshot_->trace.moe_layers());
  token_labels_ = figure_token_labels(snapshot_->tokens);
  if (snapshot_->model_generation != shown_model_generation_) {
    shown_model_generation_ = snapshot_->model_generation;
    interventions_ = snapshot_->trace.interventions();
    if (snapshot_->model && !snapshot_->model->random_weights)
      settings_.last_model = snapshot_->model->path;
    update_title();
    refresh_profile_snapshot();  // the same counts, now beside another model
  }
  if (script_) script_->snapshot_shown(*snapshot_);
}

void App::on_drop(const std::vector<std::string>& paths) {
  if (!paths.empty()) open_path(paths.front());
}

void App::frame() {
  ++frame_count_;
  take_snapshot();
  finish_session_restore();
  finish_profile_read();
  if (script_) {
    script_->step(*this);
    if (script_->finished()) exit_requested_ = true;
  }

  const ImGuiViewport* viewport = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(viewport->WorkPos);
  ImGui::SetNextWindowSize(viewport->WorkSize);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 0);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_MenuBar | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                 ImGuiWindowFlags_NoSavedSettings;
  ImGui::Begin("moescope##host", nullptr, presenter_ ? flags & ~ImGuiWindowFlags_MenuBar : flags);
  ImGui::PopStyleVar();
  if (presenter_) {
    draw_presenter();
  } else {
    draw_menu_bar();
    draw_layout();
    draw_status_bar();
  }
  draw_dialogs();
  draw_save_session_dialog();
  draw_tour(tour_, requested_panel_);
  draw_export_dialogs(profile_ ? *profile_snapshot_ : *snapshot_);
  ImGui::End();

  // Shortcuts that work everywhere (GLFW key codes are the backend's key indices).
  const ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsKeyPressed(GLFW_KEY_F5, false)) set_presenter(!presenter_);
  if (io.KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_O, false)) open_dialog_requested_ = true;
  if (io.KeyCtrl && ImGui::IsKeyPressed(GLFW_KEY_S, false) && snapshot_->model)
    save_session_requested_ = true;
  if (io.KeyCtrl &&
      (ImGui::IsKeyPressed(GLFW_KEY_EQUAL, false) || ImGui::IsKeyPressed(GLFW_KEY_KP_ADD, false))) {
    set_font_size(settings_.font_size + 2);
  }
  if (io.KeyCtrl && (ImGui::IsKeyPressed(GLFW_KEY_MINUS, false) ||
                     ImGui::IsKeyPressed(GLFW_KEY_KP_SUBTRACT, false))) {
    set_font_size(settings_.font_size - 2);
  }
}

void App::draw_menu_bar() {
  if (!ImGui::BeginMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Open model\xE2\x80\xA6", "Ctrl+O")) open_dialog_requested_ = true;
    if (ImGui::MenuItem("Open the random demo model")) open_demo_model(options_.demo_model.string());
    ImGui::Separator();
    if (ImGui::MenuItem("Open session\xE2\x80\xA6")) open_dialog_requested_ = true;
    if (ImGui::MenuItem("Save session\xE2\x80\xA6", "Ctrl+S", false,
                        snapshot_->model != nullptr && snapshot_->model->routing_source.empty()))
      save_session_requested_ = true;
    if (profile_ && ImGui::MenuItem("Close profile")) close_profile();
    ImGui::Separator();
    if (ImGui::MenuItem("Connect to server\xE2\x80\xA6"))
      source_dialog_requested_ = SourceDialog::Connect;
    if (server_ && ImGui::MenuItem("Disconnect from server")) disconnect_server();
    if (ImGui::MenuItem("Import trace\xE2\x80\xA6"))
      source_dialog_requested_ = SourceDialog::Import;
    ImGui::Separator();
    if (ImGui::MenuItem("Export data\xE2\x80\xA6", nullptr, false, snapshot_->model != nullptr))
      open_data_export();
    ImGui::TextDisabled("(figures: the Export button on each)");
    ImGui::Separator();
    if (ImGui::MenuItem("Quit", "Alt+F4")) glfwSetWindowShouldClose(window_, GLFW_TRUE);
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    if (ImGui::MenuItem("Dark theme", nullptr, settings_.theme == Theme::Dark))
      set_theme(Theme::Dark);
    if (ImGui::MenuItem("Light theme", nullptr, settings_.theme == Theme::Light))
      set_theme(Theme::Light);
    ImGui::Separator();
    if (ImGui::MenuItem("Larger text", "Ctrl++")) set_font_size(settings_.font_size + 2);
    if (ImGui::MenuItem("Smaller text", "Ctrl+-")) set_font_size(settings_.font_size - 2);
    if (ImGui::BeginMenu("Text size")) {
      for (float size : {14.0f, 16.0f, 18.0f, 22.0f, 26.0f, 32.0f, 40.0f}) {
        const std::string label = std::to_string(static_cast<int>(size)) + " px" +
                                  (size >= 26                 ? "  (projector)"
                                   : size == kDefaultFontSize ? "  (default)"
                                                              : "");
        if (ImGui::MenuItem(label.c_str(), nullptr, settings_.font_size == size))
          set_font_size(size);
      }
      ImGui::EndMenu();
    }
    if (ImGui::MenuItem("Presenter", "F5", presenter_)) set_presenter(!presenter_);
    if (ImGui::MenuItem("Chinese / Japanese glyphs", nullptr, settings_.cjk_font)) {
      settings_.cjk_font = !settings_.cjk_font;
      fonts_dirty_ = true;
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Help")) {
    if (ImGui::MenuItem("Guided tour")) start_tour(tour_, requested_panel_);
    ImGui::Separator();
    ImGui::TextUnformatted("moescope: watch a Mixture-of-Experts router decide, token by token.");
    ImGui::Separator();
    ImGui::TextUnformatted("Type in the prompt box: every view follows.");
    ImGui::TextUnformatted("Click a token to select it; click it again to follow the typing.");
    ImGui::TextUnformatted("Over the token strip: Left/Right move the token, Up/Down the layer.");
    ImGui::TextUnformatted("Ctrl+O opens a GGUF model, a saved session or a corpus profile (.moeprofile); you can also drop one on the window.");
    ImGui::TextUnformatted("Ctrl+S saves the session: model, prompt, view and routing.");
    ImGui::TextUnformatted(
        "Ctrl++ / Ctrl+- change the text size (View > Text size for a projector).");
    ImGui::Separator();
    ImGui::TextDisabled(
        "Expert colours: Okabe-Ito and Tol's muted set (colour-blind safe up to 16 experts).");
    ImGui::TextDisabled("Font: %s", font_note_.c_str());
    ImGui::EndMenu();
  }
  ImGui::EndMenuBar();
}

void App::draw_layout() {
  // Below the columns: item spacing, a separator (1 px and spacing), a frame-high status line.
  const float status_height = ImGui::GetFrameHeight() + 3 * ImGui::GetStyle().ItemSpacing.y + 2;
  const ImVec2 available = ImGui::GetContentRegionAvail();
  const float content_height = std::max(100.0f, available.y - status_height);
  const float splitter_size = std::max(6.0f, ImGui::GetFontSize() * 0.35f);
  const float left_width = std::round(available.x * settings_.prompt_column_share);

  ImGui::BeginChild("##prompt_column", ImVec2(left_width, content_height), true);
  ViewContext view = view_context();
  draw_prompt_box(view, prompt_state_);
  ImGui::EndChild();
  ImGui::SameLine(0, 0);
  splitter("##column_splitter", true, splitter_size, content_height, settings_.prompt_column_share,
           available.x, 0.15f, 0.6f);
  ImGui::SameLine(0, 0);

  ImGui::BeginGroup();
  // At least the layer line, the legend's rows and one row of tokens, whatever the text size.
  // A profile's banner (in the strip's place) needs only those few lines.
  const float strip_width =
      ImGui::GetContentRegionAvail().x - 2 * ImGui::GetStyle().WindowPadding.x;
  const int legend_rows = token_strip_legend_rows(
      strip_state_, view.snapshot.trace.n_expert(), strip_width);
  const float strip_height =
      profile_ || profile_reading_.valid()
          ? ImGui::GetFrameHeightWithSpacing() * (profile_mismatch_.empty() ? 2.2f : 4.6f)
          : std::min(std::max(std::round(content_height * settings_.token_strip_share),
                              ImGui::GetFrameHeightWithSpacing() * (2.4f + legend_rows)),
                     content_height * 0.6f);
  ImGui::BeginChild("##token_strip", ImVec2(0, strip_height), true);
  if (profile_ || profile_reading_.valid()) draw_profile_banner();
  else draw_token_strip(view, strip_state_);
  ImGui::EndChild();
  splitter("##strip_splitter", false, splitter_size, ImGui::GetContentRegionAvail().x,
           settings_.token_strip_share, content_height, 0.1f, 0.7f);
  // The group stacks three items: two item spacings go between them.
  const float views_height =
      content_height - strip_height - splitter_size - 2 * ImGui::GetStyle().ItemSpacing.y;
  ImGui::BeginChild("##views", ImVec2(0, std::max(views_height, 50.0f)), true);
  draw_views();
  ImGui::EndChild();
  ImGui::EndGroup();
}

void App::draw_views() {
  // No view may show a modified model without saying so.
  if (!snapshot_->trace.interventions().empty()) {
    ImGui::TextColored(ImVec4(0.95f, 0.65f, 0.25f, 1), "Modified routing: %s",
                       snapshot_->trace.interventions().describe().c_str());
    ImGui::SameLine();
    std::string ignored;
    if (ImGui::SmallButton("Reset")) set_interventions(moe::RoutingInterventions{}, ignored);
  }
  // Tabs keep their whole names (large text scrolls the bar instead of cutting every name to
  // "Rou…"); the list button at the left reaches any view.
  if (!ImGui::BeginTabBar("##view_tabs",
                          ImGuiTabBarFlags_FittingPolicyScroll | ImGuiTabBarFlags_TabListPopupButton))
    return;
  ViewContext context = view_context();
  // A view may ask for another while it draws: that request waits for the next frame.
  const std::string requested = std::move(requested_panel_);
  requested_panel_.clear();
  if (find_view(requested)) settings_.panel = requested;
  for (size_t i = 0; i < views().size(); ++i) {
    const ViewInfo& info = *views()[i];
    const bool select = requested == info.key;
    if (ImGui::BeginTabItem(info.label, nullptr, select ? ImGuiTabItemFlags_SetSelected : 0)) {
      settings_.panel = info.key;
      ImGui::BeginChild("##panel");
      draw_view(i, context);
      ImGui::EndChild();
      ImGui::EndTabItem();
    }
  }
  ImGui::EndTabBar();
}

void App::draw_status_bar() {
  ImGui::Separator();
  const Snapshot& snapshot = *snapshot_;
  if (snapshot.model) {
    ImGui::TextUnformatted(snapshot.model->name.c_str());
    if (snapshot.model->random_weights) {
      ImGui::SameLine();
      ImGui::TextColored(ImVec4(0.95f, 0.65f, 0.25f, 1), "random-weight demo model");
      if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip(
            "No bundled model was found, so moescope generated one with random weights.\n"
            "Its routing is real (the router runs) but means nothing about language.\n"
            "Open a trained GGUF model with File > Open model or by dropping it here.");
      }
    }
  } else {
    ImGui::TextDisabled("no model");
  }
  ImGui::SameLine(0, ImGui::GetFontSize() * 1.5f);
  const WorkerStatus status = worker_->status();
  switch (status.activity) {
    case WorkerActivity::Loading: {
      // done/total are MB of weights paged in (0/0 while the header is read and checked).
      const float share =
          status.total > 0 ? static_cast<float>(status.done) / static_cast<float>(status.total) : 0;
      // A server request or a trace file (worker_remote.cpp) has no size: only the subject.
      const std::string text = status.total > 0 ? "loading " + status.subject + "  " +
                                                      std::to_string(status.done) + " / " +
                                                      std::to_string(status.total) + " MB"
                                                : "loading " + status.subject + " \xE2\x80\xA6";
      ImGui::ProgressBar(share, ImVec2(ImGui::GetFontSize() * 18, 0), text.c_str());
      ImGui::SameLine();
      if (ImGui::SmallButton("Cancel")) worker_->cancel_load();
      break;
    }
    case WorkerActivity::Prefilling:
    case WorkerActivity::Generating: {
      const float share =
          status.total > 0 ? static_cast<float>(status.done) / static_cast<float>(status.total) : 0;
      const std::string text =
          std::string(status.activity == WorkerActivity::Generating ? "generating "
                                                                    : "computing ") +
          std::to_string(status.done) + " / " + std::to_string(status.total);
      ImGui::ProgressBar(share, ImVec2(ImGui::GetFontSize() * 12, 0), text.c_str());
      break;
    }
    case WorkerActivity::Domains: {
      const float share =
          status.total > 0 ? static_cast<float>(status.done) / static_cast<float>(status.total) : 0;
      const std::string text = "domain prompts " + std::to_string(status.done) + " / " +
                               std::to_string(status.total);
      ImGui::ProgressBar(share, ImVec2(ImGui::GetFontSize() * 12, 0), text.c_str());
      break;
    }
    case WorkerActivity::Idle:
      // Large text in a small window leaves each view a few lines: point to presenter mode.
      if (ImGui::GetIO().DisplaySize.y < ImGui::GetTextLineHeight() * 32) {
        ImGui::TextDisabled("ready \xC2\xB7 little room at this text size: F5 shows one view "
                            "full screen");
      } else {
        ImGui::TextDisabled("ready");
      }
      break;
  }
  double frame_ms = 0;
  for (double ms : recent_frame_ms_) frame_ms += ms;
  if (!recent_frame_ms_.empty()) frame_ms /= static_cast<double>(recent_frame_ms_.size());
  char timing[256];
  std::snprintf(timing, sizeof timing,
                "%d tokens  \xC2\xB7  worker %.1f ms (%d reused, %d computed)  \xC2\xB7  latency "
                "%.1f ms  \xC2\xB7  frame %.1f ms",
                static_cast<int>(snapshot.tokens.size()), snapshot.compute_ms,
                snapshot.reused_tokens, snapshot.computed_tokens, snapshot.latency_ms, frame_ms);
  // With large text the full line may not fit beside the model name: fall back to the essentials.
  ImGui::SameLine(0, ImGui::GetFontSize());
  const float room = ImGui::GetWindowContentRegionMax().x - ImGui::GetCursorPosX();
  if (ImGui::CalcTextSize(timing).x > room) {
    std::snprintf(timing, sizeof timing, "latency %.1f ms  \xC2\xB7  frame %.1f ms",
                  snapshot.latency_ms, frame_ms);
  }
  const float width = ImGui::CalcTextSize(timing).x;
  if (width > room) return;
  ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - width);
  ImGui::TextDisabled("%s", timing);
  if (ImGui::IsItemHovered()) {
    ImGui::SetTooltip(
        "worker: time spent computing the last request; latency: from the keystroke to the views\n"
        "having the result; frame: time to draw one frame of this window.");
  }
}

void App::after_render(double frame_ms) {
  recent_frame_ms_.push_back(frame_ms);
  if (recent_frame_ms_.size() > 60) recent_frame_ms_.pop_front();
  if (script_) script_->frame_rendered(frame_ms);

  for (GLenum error = glGetError(); error != GL_NO_ERROR; error = glGetError()) {
    char text[96];
    std::snprintf(text, sizeof text, "GL error 0x%04X after frame %d", error, frame_count_);
    fail(text);
  }
  const std::string screenshot = script_ ? script_->screenshot_due() : std::string();
  if (!screenshot.empty()) {
    int width = 0, height = 0;
    glfwGetFramebufferSize(window_, &width, &height);
    Image image;
    image.width = width;
    image.height = height;
    image.rgba.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, image.rgba.data());
    // GL's rows go bottom-up; PNG's top-down.
    const size_t stride = static_cast<size_t>(width) * 4;
    for (int y = 0; y < height / 2; ++y) {
      std::swap_ranges(image.rgba.begin() + static_cast<long>(y * stride),
                       image.rgba.begin() + static_cast<long>((y + 1) * stride),
                       image.rgba.begin() + static_cast<long>((height - 1 - y) * stride));
    }
    for (size_t i = 3; i < image.rgba.size(); i += 4) image.rgba[i] = 255;
    try {
      write_png(screenshot, image);
      std::cout << "moescope: screenshot " << screenshot << " (" << width << "x"
                << height << ")\n";
    } catch (const std::exception& error) {
      fail(error.what());
    }
  }
}

void App::fail(const std::string& message) {
  if (std::find(failures_.begin(), failures_.end(), message) == failures_.end()) {
    std::cerr << "moescope: " << message << "\n";
    failures_.push_back(message);
  }
}

}  // namespace moescope::gui
