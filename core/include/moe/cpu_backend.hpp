#pragma once
// The CPU backend: Eigen f32 kernels on a small thread pool of its own.
#include <memory>
#include <mutex>

#include "moe/backend.hpp"

namespace moe {

namespace cpu {
class Kernels;  // thread pool + scratch, core/backend/cpu_kernels.hpp
}

struct CpuBackendOptions {
  int n_threads = 0;  // 0: std::thread::hardware_concurrency()
  // Quantized weights (Q4_0 ... Q6_K) times activations quantized to 8 bits, in integers, as
  // llama.cpp's CPU backend computes them (its q8_0 / q8_1 / q8_K activation blocks and
  // rounding): fast, and logits within about 1e-2 of the exact product. false (`--exact`):
  // such weights are converted to f32 a block at a time (exact up to f32 rounding, slower).
  bool quantized_activations = true;
};

// Weights stay in the mapped file in their stored type; quantized ones are used through integer
// dot products (core/backend/cpu_quant_dot.hpp), F16/BF16 (and quantized ones without
// quantized_activations) are converted to f32 a block of rows at a time, right before use
// (see core/backend/cpu_matmul.cpp for why).
// forward() calls are serialized: one backend can serve several states, one call at a time.
class CpuBackend final : public Backend {
public:
  explicit CpuBackend(CpuBackendOptions options = {});
  ~CpuBackend() override;

  std::string name() const override;
  int n_threads() const;
  bool quantized_activations() const { return quantized_activations_; }

  std::unique_ptr<ForwardState> new_state(std::shared_ptr<const Model> model, int n_ctx) override;
  void forward(ForwardState& state, std::span<const int32_t> tokens, int pos0, LogitsMode mode,
               std::vector<float>& logits_out, RoutingTrace* trace) override;

private:
  bool quantized_activations_ = true;
  std::unique_ptr<cpu::Kernels> kernels_;
  std::mutex forward_mutex_;
};

}  // namespace moe
