#pragma once
// An OpenGL 4.3 core context for compute work, without a visible window: EGL first (Mesa's
// surfaceless platform, then an EGL device, then the default display), then a hidden GLFW
// window (needs a display, e.g. Xvfb). The context is made current on the creating thread;
// make_current() moves it to another thread (it must not be current on two at once).
#include <memory>
#include <string>

namespace moe::gl {

class Context {
public:
  // Throws moe::Error ("no OpenGL 4.3 context: <what each way said>; try --backend cpu").
  static std::unique_ptr<Context> create();
  virtual ~Context() = default;

  virtual void make_current() = 0;
  // Releases the context from the calling thread, so another thread may take it.
  virtual void release_current() = 0;
  // "EGL surfaceless" / "GLFW hidden window": how the context was made.
  virtual std::string how() const = 0;
  // GL_RENDERER and GL_VERSION of the current context.
  std::string renderer() const;
  std::string version() const;
};

}  // namespace moe::gl
