#pragma once
// The GL backend: the forward pass in OpenGL 4.3 compute shaders (shaders/*.comp, embedded at
// build time), on a context of its own (EGL without a window, or a hidden GLFW window).
// Weights are uploaded once per model in their stored type; tokens are routed on the GPU with
// route_layer's semantics (route.comp) and grouped by expert there, or read back and routed by
// route_layer itself for the interventions the GPU does not do, so traces are identical in form.
// A trace is kept in a GPU buffer and read back once per forward call.
//
// Threads: the context is current on the thread that created the backend. Call everything
// (new_state, forward, destroying states) from one thread at a time; a backend created on a
// worker thread is used from that worker.
#include <memory>
#include <mutex>
#include <string>

#include "moe/backend.hpp"

namespace moe {

namespace gl {
struct Device;
}

class GlBackend final : public Backend {
public:
  // Creates the context and compiles the shaders (the matmul shader for a weight type when
  // new_state first uploads a model that has it). Throws moe::Error saying why when no
  // OpenGL 4.3 context can be had or a shader does not compile.
  GlBackend();
  ~GlBackend() override;

  std::string name() const override;  // "gl"
  // Renderer, GL version and how the context was made, e.g.
  // "llvmpipe (LLVM 15.0.6, 256 bits), 4.5 (Core Profile) Mesa 22.3.6, EGL surfaceless".
  std::string device_description() const;

  // Uploads the model's weights on first use (kept for the most recent model). Throws
  // moe::Error for what the GL backend does not implement (architecture, tensor type).
  std::unique_ptr<ForwardState> new_state(std::shared_ptr<const Model> model, int n_ctx) override;
  void forward(ForwardState& state, std::span<const int32_t> tokens, int pos0, LogitsMode mode,
               std::vector<float>& logits_out, RoutingTrace* trace) override;

  // MoE layers routed since the backend was made: by route.comp on the GPU, or read back and
  // routed on the CPU (interventions that couple tokens or use the CPU's noise: capacity,
  // expert choice, router noise, pins); the buffers read back by forward calls (per call
  // the logits, the trace when one is taken, and each CPU-routed layer's router logits); and
  // the compute dispatches submitted since (by every GL backend of the process).
  struct RoutingCounts {
    long gpu_layers = 0;
    long cpu_layers = 0;
    long downloads = 0;
    long dispatches = 0;
  };
  RoutingCounts routing_counts() const;

  // Fused kernels (on unless MOESCOPE_GL_UNFUSED is set to something other than "" or "0"):
  // each block's RMSNorm inside its first matmul, the gated activation inside the [gate | up]
  // matmul, and at decode the experts' mix inside their down matmul. Off, each step is a
  // dispatch of its own, so the two can be compared on a device; results agree within float
  // rounding.
  void set_kernel_fusion(bool on);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::mutex forward_mutex_;
};

}  // namespace moe
