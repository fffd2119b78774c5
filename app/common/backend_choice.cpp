#include "backend_choice.hpp"

#include "moe/cpu_backend.hpp"
#include "moe/error.hpp"
#include "moe/gl_backend.hpp"

namespace moescope {

std::shared_ptr<moe::Backend> make_compute_backend(const std::string& kind, int threads,
                                                   bool exact) {
  if (kind == "gl") return std::make_shared<moe::GlBackend>();
  if (kind != "cpu") throw moe::Error("unknown backend '" + kind + "' (use cpu or gl)");
  moe::CpuBackendOptions options;
  options.n_threads = threads;
  options.quantized_activations = !exact;
  return std::make_shared<moe::CpuBackend>(options);
}

bool computes_exactly_on_cpu(const moe::Backend& backend) {
  const auto* cpu = dynamic_cast<const moe::CpuBackend*>(&backend);
  return cpu != nullptr && !cpu->quantized_activations();
}

}  // namespace moescope
