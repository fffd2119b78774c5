#pragma once
// The compute backends both programs offer, made in one place: the CPU backend with llama.cpp's
// 8-bit activations (the default) or the exact f32-activation product, or the GL backend.
#include <memory>
#include <string>

#include "moe/backend.hpp"

namespace moescope {

// kind "cpu" or "gl"; `exact` (CPU only: the GL backend always computes in f32) turns off the
// CPU backend's quantized activations. Throws moe::Error for another kind, or saying why the
// GL backend cannot start.
std::shared_ptr<moe::Backend> make_compute_backend(const std::string& kind, int threads,
                                                   bool exact);

// Whether `backend` is a CPU backend computing the exact f32-activation product.
bool computes_exactly_on_cpu(const moe::Backend& backend);

}  // namespace moescope
