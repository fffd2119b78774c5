// Run-time choice of the CPU kernels' instruction-set level (moe/cpu_level.hpp).
#include "moe/cpu_level.hpp"

#include <cstdlib>
#include <iostream>

#include "moe/error.hpp"

namespace moe::cpu {

namespace {

constexpr SimdLevel kAllLevels[] = {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::AvxVnni,
                                    SimdLevel::Avx512Vnni};

#if defined(__x86_64__) || defined(__i386__)
// libgcc's cpuid reading also checks XGETBV, so a feature counts only where the OS saves the
// registers it uses.
bool has_avx2_fma_f16c() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
}
bool detect(SimdLevel level) {
  __builtin_cpu_init();
  switch (level) {
    case SimdLevel::Scalar:
      return true;
    case SimdLevel::Avx2:
      return has_avx2_fma_f16c();
    case SimdLevel::AvxVnni:
      return has_avx2_fma_f16c() && __builtin_cpu_supports("avxvnni");
    case SimdLevel::Avx512Vnni:
      return has_avx2_fma_f16c() && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
}
#else
bool detect(SimdLevel level) { return level == SimdLevel::Scalar; }
#endif

// The cap MOESCOPE_CPU_LEVEL asks for; nullopt when unset or unknown (reported once).
std::optional<SimdLevel> cap_from_environment() {
  const char* value = std::getenv(kSimdLevelVariable);
  if (value == nullptr || *value == '\0') return std::nullopt;
  const std::optional<SimdLevel> cap = parse_simd_level(value);
  if (!cap) {
    std::cerr << "moescope: ignoring " << kSimdLevelVariable << "=" << value
              << ": not a level (use scalar, avx2, avx-vnni or avx512-vnni)\n";
  }
  return cap;
}

}  // namespace

std::string_view simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Scalar:
      return "scalar";
    case SimdLevel::Avx2:
      return "avx2";
    case SimdLevel::AvxVnni:
      return "avx-vnni";
    case SimdLevel::Avx512Vnni:
      return "avx512-vnni";
  }
  return "unknown";
}

std::optional<SimdLevel> parse_simd_level(std::string_view name) {
  for (SimdLevel level : kAllLevels)
    if (name == simd_level_name(level)) return level;
  if (name == "avxvnni") return SimdLevel::AvxVnni;
  if (name == "avx512" || name == "avx512vnni") return SimdLevel::Avx512Vnni;
  return std::nullopt;
}

bool cpu_supports(SimdLevel level) {
  static const bool supported[] = {detect(kAllLevels[0]), detect(kAllLevels[1]),
                                   detect(kAllLevels[2]), detect(kAllLevels[3])};
  return supported[static_cast<int>(level)];
}

void require_cpu_support(SimdLevel level) {
  if (!cpu_supports(level)) {
    throw Error("this CPU cannot run the " + std::string(simd_level_name(level)) + " kernels");
  }
}

std::vector<SimdLevel> supported_simd_levels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel level : kAllLevels)
    if (cpu_supports(level)) levels.push_back(level);
  return levels;
}

SimdLevel simd_level_for_cap(std::optional<SimdLevel> cap) {
  SimdLevel chosen = SimdLevel::Scalar;
  for (SimdLevel level : kAllLevels)
    if (cpu_supports(level) && (!cap || level <= *cap)) chosen = level;
  return chosen;
}

SimdLevel active_simd_level() {
  static const SimdLevel level = simd_level_for_cap(cap_from_environment());
  return level;
}

std::string simd_level_summary() {
  const SimdLevel best = simd_level_for_cap(std::nullopt);
  std::string summary(simd_level_name(active_simd_level()));
  if (active_simd_level() != best) {
    summary += " (this CPU: " + std::string(simd_level_name(best)) + "; " + kSimdLevelVariable +
               "=" + std::getenv(kSimdLevelVariable) + ")";
  }
  return summary;
}

}  // namespace moe::cpu
