#include "gl_context.hpp"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/glcorearb.h>
#include <GLFW/glfw3.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "moe/error.hpp"

namespace moe::gl {

namespace {

std::string egl_error_text(EGLint code) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "EGL error 0x%04x", static_cast<unsigned>(code));
  return buffer;
}

bool has_extension(const char* list, const char* name) {
  if (list == nullptr) return false;
  const size_t length = std::strlen(name);
  for (const char* p = list; (p = std::strstr(p, name)) != nullptr; p += length) {
    if ((p == list || p[-1] == ' ') && (p[length] == ' ' || p[length] == '\0')) return true;
  }
  return false;
}

bool current_version_at_least_43() {
  GLint major = 0, minor = 0;
  glGetIntegerv(GL_MAJOR_VERSION, &major);
  glGetIntegerv(GL_MINOR_VERSION, &minor);
  return major > 4 || (major == 4 && minor >= 3);
}

// eglTerminate ends every context of a display, and each thread's eglGetDisplay returns the same
// display: so a display is terminated only when the last of its users in this process lets go
// (destroying a second backend must not break the first, e.g. the app's switch between backends).
class DisplayUsers {
public:
  static bool initialize(EGLDisplay display, EGLint& major, EGLint& minor) {
    std::lock_guard<std::mutex> lock(mutex());
    if (!eglInitialize(display, &major, &minor)) return false;
    ++users()[display];
    return true;
  }
  static void release(EGLDisplay display) {
    std::lock_guard<std::mutex> lock(mutex());
    auto found = users().find(display);
    if (found == users().end()) return;
    if (--found->second == 0) {
      users().erase(found);
      eglTerminate(display);
    }
  }

private:
  static std::mutex& mutex() {
    static std::mutex instance;
    return instance;
  }
  static std::map<EGLDisplay, int>& users() {
    static std::map<EGLDisplay, int> instance;
    return instance;
  }
};

class EglContext final : public Context {
public:
  EglContext(EGLDisplay display, EGLContext context, std::string how)
      : display_(display), context_(context), how_(std::move(how)) {}
  ~EglContext() override {
    eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglDestroyContext(display_, context_);
    DisplayUsers::release(display_);
  }
  void make_current() override {
    if (eglGetCurrentContext() == context_) return;
    if (!eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_)) {
      throw Error("the GL backend's EGL context could not be made current (" +
                  egl_error_text(eglGetError()) + ")");
    }
  }
  void release_current() override {
    if (eglGetCurrentContext() == context_)
      eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  }
  std::string how() const override { return how_; }

  // A 4.3 core context on `display`, current on this thread; nullptr with `why` set otherwise.
  static std::unique_ptr<Context> try_display(EGLDisplay display, const std::string& how,
                                              std::string& why) {
    if (display == EGL_NO_DISPLAY) {
      why = how + ": no display";
      return nullptr;
    }
    EGLint major = 0, minor = 0;
    if (!DisplayUsers::initialize(display, major, minor)) {
      why = how + ": eglInitialize failed (" + egl_error_text(eglGetError()) + ")";
      return nullptr;
    }
    const char* extensions = eglQueryString(display, EGL_EXTENSIONS);
    if (!eglBindAPI(EGL_OPENGL_API)) {
      why = how + ": no desktop OpenGL through EGL";
      DisplayUsers::release(display);
      return nullptr;
    }
    EGLConfig config = EGL_NO_CONFIG_KHR;
    if (!has_extension(extensions, "EGL_KHR_no_config_context")) {
      const EGLint config_attributes[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE,
                                          EGL_OPENGL_BIT, EGL_NONE};
      EGLint n_configs = 0;
      if (!eglChooseConfig(display, config_attributes, &config, 1, &n_configs) || n_configs < 1) {
        why = how + ": no OpenGL config";
        DisplayUsers::release(display);
        return nullptr;
      }
    }
    const EGLint context_attributes[] = {EGL_CONTEXT_MAJOR_VERSION,
                                         4,
                                         EGL_CONTEXT_MINOR_VERSION,
                                         3,
                                         EGL_CONTEXT_OPENGL_PROFILE_MASK,
                                         EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                                         EGL_NONE};
    EGLContext context = eglCreateContext(display, config, EGL_NO_CONTEXT, context_attributes);
    if (context == EGL_NO_CONTEXT) {
      why = how + ": no 4.3 core context (" + egl_error_text(eglGetError()) + ")";
      DisplayUsers::release(display);
      return nullptr;
    }
    if (!eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, context)) {
      why = how + ": context without surface refused (" + egl_error_text(eglGetError()) + ")";
      eglDestroyContext(display, context);
      DisplayUsers::release(display);
      return nullptr;
    }
    auto result = std::make_unique<EglContext>(display, context, how);
    if (!current_version_at_least_43()) {
      why = how + ": the context is older than 4.3";
      return nullptr;
    }
    return result;
  }

private:
  EGLDisplay display_;
  EGLContext context_;
  std::string how_;
};

std::unique_ptr<Context> create_egl(std::vector<std::string>& reasons) {
  const char* client_extensions = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  auto get_platform_display = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(
      eglGetProcAddress("eglGetPlatformDisplayEXT"));
  std::string why;
  if (get_platform_display != nullptr &&
      has_extension(client_extensions, "EGL_MESA_platform_surfaceless")) {
    EGLDisplay display =
        get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
    if (auto context = EglContext::try_display(display, "EGL surfaceless", why)) return context;
    reasons.push_back(why);
  }
  auto query_devices =
      reinterpret_cast<PFNEGLQUERYDEVICESEXTPROC>(eglGetProcAddress("eglQueryDevicesEXT"));
  if (get_platform_display != nullptr && query_devices != nullptr &&
      has_extension(client_extensions, "EGL_EXT_platform_device")) {
    EGLDeviceEXT devices[16];
    EGLint n_devices = 0;
    if (query_devices(16, devices, &n_devices)) {
      for (EGLint i = 0; i < n_devices; ++i) {
        EGLDisplay display = get_platform_display(EGL_PLATFORM_DEVICE_EXT, devices[i], nullptr);
        if (auto context =
                EglContext::try_display(display, "EGL device " + std::to_string(i), why)) {
          return context;
        }
        reasons.push_back(why);
      }
    }
  }
  if (auto context =
          EglContext::try_display(eglGetDisplay(EGL_DEFAULT_DISPLAY), "EGL default display", why)) {
    return context;
  }
  reasons.push_back(why);
  return nullptr;
}

class GlfwContext final : public Context {
public:
  explicit GlfwContext(GLFWwindow* window) : window_(window) {}
  ~GlfwContext() override { glfwDestroyWindow(window_); }
  void make_current() override {
    if (glfwGetCurrentContext() != window_) glfwMakeContextCurrent(window_);
  }
  void release_current() override {
    if (glfwGetCurrentContext() == window_) glfwMakeContextCurrent(nullptr);
  }
  std::string how() const override { return "GLFW hidden window"; }

private:
  GLFWwindow* window_;
};

std::unique_ptr<Context> create_glfw(std::vector<std::string>& reasons) {
  if (std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr) {
    reasons.push_back("GLFW: no DISPLAY for a hidden window");
    return nullptr;
  }
  // GLFW is initialized once and left initialized: the GUI may share it.
  static const bool initialized = glfwInit() == GLFW_TRUE;
  if (!initialized) {
    reasons.push_back("GLFW: glfwInit failed");
    return nullptr;
  }
  glfwDefaultWindowHints();
  glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 4);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  GLFWwindow* window = glfwCreateWindow(16, 16, "moescope GL backend", nullptr, nullptr);
  if (window == nullptr) {
    reasons.push_back("GLFW: no window with a 4.3 core context");
    return nullptr;
  }
  glfwMakeContextCurrent(window);
  return std::make_unique<GlfwContext>(window);
}

}  // namespace

std::unique_ptr<Context> Context::create() {
  std::vector<std::string> reasons;
  if (auto context = create_egl(reasons)) return context;
  if (auto context = create_glfw(reasons)) return context;
  std::string message = "no OpenGL 4.3 context: ";
  for (size_t i = 0; i < reasons.size(); ++i) message += (i > 0 ? "; " : "") + reasons[i];
  throw Error(message + "; try --backend cpu");
}

std::string Context::renderer() const {
  const auto* text = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
  return text != nullptr ? text : "unknown renderer";
}

std::string Context::version() const {
  const auto* text = reinterpret_cast<const char*>(glGetString(GL_VERSION));
  return text != nullptr ? text : "unknown version";
}

}  // namespace moe::gl
