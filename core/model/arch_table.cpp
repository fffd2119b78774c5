// The table of supported architectures. Each entry is data; hooks only where data cannot say it.
#include <string>
#include <vector>

#include "moe/arch.hpp"
#include "moe/error.hpp"

namespace moe {

namespace {

// Mixtral-style llama: RMSNorm, adjacent-pair RoPE, softmax router, renormalized top-k.
// Dense and MoE layers may be mixed (a layer without a router is dense).
Architecture make_llama() {
  Architecture arch;
  arch.name = "llama";
  arch.key_prefix = "llama";
  arch.norm = NormKind::Rms;
  arch.rope = RopePairing::Adjacent;
  arch.gating = GatingFunction::Softmax;
  arch.renormalize_top_k = true;
  return arch;
}

const std::vector<Architecture>& table() {
  static const std::vector<Architecture> architectures = {make_llama()};
  return architectures;
}

}  // namespace

std::string layer_tensor_name(std::string_view pattern, int layer) {
  static constexpr std::string_view placeholder = "{layer}";
  std::string name(pattern);
  const size_t at = name.find(placeholder);
  if (at != std::string::npos) name.replace(at, placeholder.size(), std::to_string(layer));
  return name;
}

std::string Architecture::key(std::string_view name) const {
  std::string full = key_prefix;
  full += '.';
  full += name;
  return full;
}

const Architecture& find_architecture(std::string_view name) {
  for (const Architecture& arch : table()) {
    if (arch.name == name) return arch;
  }
  std::string supported;
  for (const std::string& known : supported_architectures()) {
    if (!supported.empty()) supported += ", ";
    supported += known;
  }
  throw Error("unsupported architecture '" + std::string(name) + "' (supported: " + supported +
              ")");
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> names;
  for (const Architecture& arch : table()) names.push_back(arch.name);
  return names;
}

}  // namespace moe
