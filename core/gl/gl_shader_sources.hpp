#pragma once
// The GLSL files of shaders/, embedded at build time (generated gl_shader_sources.cpp).
#include <string_view>
#include <vector>

namespace moe::gl {

struct ShaderSource {
  std::string_view name;  // file name, e.g. "matmul.comp"
  std::string_view text;
};

const std::vector<ShaderSource>& shader_sources();

}  // namespace moe::gl
