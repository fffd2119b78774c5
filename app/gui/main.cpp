// moescope: the desktop app. `moescope [MODEL.gguf]` opens the window; `--script FILE` (or the
// shortcut flags --prompt, --select-token, --panel, --screenshot, --frames, --exit) drives it
// for tests and screenshots. See script.hpp for the script commands.
#define GLFW_INCLUDE_NONE
#include <GL/gl.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "app.hpp"
#include "asset_paths.hpp"
#include "file_browser.hpp"
#include "profile_source.hpp"
#include "moe/error.hpp"

namespace fs = std::filesystem;
using moescope::gui::App;
using moescope::gui::AppOptions;

namespace {

fs::path executable_dir() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::current_path() : exe.parent_path();
}

// --assets, else the shared lookup (asset_paths.hpp). Without assets the app still opens (on a
// generated demo model), so a missing folder is a warning that names the places tried.
fs::path find_assets(const std::string& from_flag) {
  if (!from_flag.empty()) return from_flag;
  if (std::optional<fs::path> found = moescope::find_assets_dir()) return *found;
  std::cerr << "moescope: warning: no assets folder (bundled model, prompt sets) in "
            << moescope::describe_assets_candidates()
            << "; set MOESCOPE_ASSETS or use --assets DIR\n";
  return executable_dir() / ".." / ".." / "assets";
}

// Where the random demo model is written: build/demo-model.gguf in a build tree, else the
// user's cache folder, since an installed program's folder (/usr) is not the user's to write.
fs::path default_demo_model() {
  std::error_code ignored;
  const fs::path build = executable_dir().parent_path();
  if (fs::exists(build / "CMakeCache.txt", ignored)) return build / "demo-model.gguf";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return fs::path(xdg) / "moescope" / "demo-model.gguf";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "moescope" / "demo-model.gguf";
  return fs::temp_directory_path(ignored) / "moescope-demo-model.gguf";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw moe::Error("cannot read script " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void glfw_error(int code, const char* description) {
  std::cerr << "moescope: GLFW error " << code << ": " << description << "\n";
}

void on_drop(GLFWwindow* window, int count, const char** paths) {
  auto* app = static_cast<App*>(glfwGetWindowUserPointer(window));
  if (!app) return;
  std::vector<std::string> dropped(paths, paths + count);
  app->on_drop(dropped);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"moescope: watch a Mixture-of-Experts router decide, token by token"};
  std::string model_path, script_path, prompt, panel, screenshot, assets_flag, config_flag,
      demo_model;
  int select_token = 0, frames = 0, threads = 0, width = 0, height = 0;
  bool exit_after = false;
  cli.add_option("MODEL", model_path,
                 "GGUF model, saved session (.moescope.json) or corpus profile (.moeprofile) to "
                 "open (default: the bundled model, else a random demo model)");
  cli.add_option("--script", script_path,
                 "Run the commands of FILE (see app/gui/script.hpp), then exit");
  cli.add_option("--prompt", prompt, "Scripted: type this prompt and wait for the worker");
  auto* select_option =
      cli.add_option("--select-token", select_token, "Scripted: select token N (-1: the last)");
  const std::vector<std::string> view_keys = moescope::gui::view_keys();
  std::string view_list;
  for (const std::string& key : view_keys) view_list += (view_list.empty() ? "" : ", ") + key;
  cli.add_option("--panel", panel, "Scripted: show a view (" + view_list + ")")
      ->check(CLI::IsMember(view_keys));
  bool presenter = false;
  cli.add_flag("--presenter", presenter,
               "Start in presenter mode: one view fills the window in large text (F5 toggles)");
  bool list_views = false;
  cli.add_flag("--list-views", list_views, "Print each view's key and tab label, then exit");
  cli.add_option("--screenshot", screenshot, "Scripted: save the window as a PNG");
  cli.add_option("--frames", frames, "Scripted: render N more frames")
      ->check(CLI::NonNegativeNumber);
  cli.add_flag("--exit", exit_after,
               "Scripted: exit when done (exit status 0 only if all went well)");
  cli.add_option("--demo-model", demo_model,
                 "Where the random demo model is written when no model is found");
  cli.add_option("--assets", assets_flag, "The assets folder (bundled models, prompt sets)");
  cli.add_option("--config-dir", config_flag,
                 "Folder for settings.json and imgui.ini (default: ~/.config/moescope)");
  cli.add_option("--threads", threads, "CPU threads for the model (0: all cores)")
      ->check(CLI::Range(0, 1024));
  cli.add_option("--width", width, "Window width in pixels")->check(CLI::Range(320, 16384));
  cli.add_option("--height", height, "Window height in pixels")->check(CLI::Range(240, 16384));
  CLI11_PARSE(cli, argc, argv);
  if (list_views) {
    for (const moescope::gui::ViewInfo* view : moescope::gui::views())
      std::cout << view->key << "\t" << view->label << "\n";
    return 0;
  }

  AppOptions options;
  options.model_path = model_path;
  options.assets_dir = find_assets(assets_flag);
  options.config_dir = moescope::gui::config_dir(config_flag);
  options.demo_model = demo_model.empty() ? default_demo_model() : fs::path(demo_model);
  options.n_threads = threads;
  options.presenter = presenter;
  try {
    if (!script_path.empty()) options.script = moescope::gui::parse_script(read_file(script_path), view_keys);
    // The shortcut flags make a script of their own, after the file's commands.
    std::string flags_script;
    if (!prompt.empty()) flags_script += "prompt " + prompt + "\nwait\n";
    if (*select_option) flags_script += "select-token " + std::to_string(select_token) + "\n";
    if (!panel.empty()) flags_script += "panel " + panel + "\n";
    if (frames > 0) flags_script += "frames " + std::to_string(frames) + "\n";
    if (!screenshot.empty()) flags_script += "screenshot " + screenshot + "\n";
    if (exit_after) flags_script += "exit\n";
    if (!flags_script.empty()) {
      for (auto& command : moescope::gui::parse_script(flags_script, view_keys))
        options.script.push_back(std::move(command));
    }
  } catch (const std::exception& error) {
    std::cerr << "moescope: " << error.what() << "\n";
    return 2;
  }
  if (!options.script.empty()) {
    // A script starts from the given model, else the bundled one, else the demo model, unless it
    // opens one itself (as the window does, and as --help says).
    const auto opens_model = [](const auto& command) {
      return command.kind == moescope::gui::ScriptKind::Model ||
             command.kind == moescope::gui::ScriptKind::DemoModel;
    };
    // A profile opens over the model (as in the window): the model first, then `open PROFILE`.
    std::string profile_path;
    if (moescope::gui::is_profile_file(model_path)) std::swap(profile_path, model_path);
    if (options.script.empty() || !opens_model(options.script.front())) {
      if (model_path.empty()) model_path = moescope::gui::bundled_model(options.assets_dir);
      moescope::gui::ScriptCommand open;
      open.kind = model_path.empty() ? moescope::gui::ScriptKind::DemoModel
                                     : moescope::gui::ScriptKind::Model;
      open.text = model_path.empty() ? options.demo_model.string() : model_path;
      options.script.insert(options.script.begin(), open);
    }
    if (!profile_path.empty()) {
      moescope::gui::ScriptCommand open_profile;
      open_profile.kind = moescope::gui::ScriptKind::Drop;
      open_profile.text = profile_path;
      options.script.insert(options.script.begin() + 1, open_profile);
    }
    options.save_settings = !config_flag.empty();  // never touch the user's own settings
  }

  glfwSetErrorCallback(glfw_error);
  if (!glfwInit()) {
    std::cerr
        << "moescope: cannot initialise GLFW (is there a display? try xvfb-run for headless use)\n";
    return 1;
  }
  const moescope::gui::Settings initial =
      moescope::gui::load_settings(options.config_dir / "settings.json");
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  const bool scripted = !options.script.empty();
  const int window_width = width > 0 ? width : scripted ? 1400 : initial.window_width;
  const int window_height = height > 0 ? height : scripted ? 860 : initial.window_height;
  if (!scripted && initial.window_maximized) glfwWindowHint(GLFW_MAXIMIZED, GLFW_TRUE);
  GLFWwindow* window = glfwCreateWindow(window_width, window_height, "moescope", nullptr, nullptr);
  if (!window) {
    std::cerr << "moescope: cannot open an OpenGL 3.3 window\n";
    glfwTerminate();
    return 1;
  }
  if (!scripted && (initial.window_x != 0 || initial.window_y != 0))
    glfwSetWindowPos(window, initial.window_x, initial.window_y);
  glfwMakeContextCurrent(window);
  glfwSwapInterval(scripted ? 0 : 1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");

  int status = 0;
  {
    App app(window, std::move(options));
    glfwSetWindowUserPointer(window, &app);
    glfwSetDropCallback(window, on_drop);
    while (!glfwWindowShouldClose(window) && !app.wants_exit()) {
      // Idle: sleep until an event, but wake often enough to pick up the worker's results.
      if (app.can_idle()) {
        glfwWaitEventsTimeout(0.1);
      } else {
        glfwPollEvents();
      }
      app.before_frame();
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      app.override_input();
      ImGui::NewFrame();
      const auto frame_start = std::chrono::steady_clock::now();
      app.frame();
      ImGui::Render();
      int framebuffer_width = 0, framebuffer_height = 0;
      glfwGetFramebufferSize(window, &framebuffer_width, &framebuffer_height);
      glViewport(0, 0, framebuffer_width, framebuffer_height);
      const ImVec4 clear = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
      glClearColor(clear.x, clear.y, clear.z, 1);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      glFinish();  // so that the frame time includes the (software) rasterization
      const auto frame_end = std::chrono::steady_clock::now();
      app.after_render(std::chrono::duration<double, std::milli>(frame_end - frame_start).count());
      glfwSwapBuffers(window);
    }
    status = app.exit_code();
    glfwSetWindowUserPointer(window, nullptr);
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return status;
}
