#pragma once
// The instruction-set level of the CPU kernels, chosen once at run time. moescope is built for the
// x86-64 baseline; the vectorized kernels are compiled once per level (core/backend/*_simd.cpp)
// and the highest level this CPU runs is used, unless MOESCOPE_CPU_LEVEL names a lower one.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moe::cpu {

// In increasing order. A level is used only where the CPU (and the OS) support all it needs.
enum class SimdLevel {
  Scalar,      // portable C++: the reference every other level is tested against
  Avx2,        // AVX2 + FMA + F16C (Haswell, Zen 1 and later)
  AvxVnni,     // Avx2 + AVX-VNNI: 256-bit int8 dot products (Alder Lake, Sapphire Rapids, Zen 5)
  Avx512Vnni,  // Avx2 + AVX-512 F/BW/VL + VNNI (Cascade Lake, Ice Lake, Zen 4)
};

// "scalar", "avx2", "avx-vnni", "avx512-vnni".
std::string_view simd_level_name(SimdLevel level);
// The level a name (as above; also "avxvnni", "avx512") stands for, or nullopt.
std::optional<SimdLevel> parse_simd_level(std::string_view name);

// Whether this CPU runs `level`'s kernels (cpuid, including the OS's saving of AVX/AVX-512 state).
bool cpu_supports(SimdLevel level);
// Throws moe::Error when this CPU cannot run `level`'s kernels: their code must never run there.
void require_cpu_support(SimdLevel level);
// Every level this CPU supports, in increasing order (always starts with Scalar).
std::vector<SimdLevel> supported_simd_levels();

// The environment variable that caps the level, e.g. MOESCOPE_CPU_LEVEL=avx2 or =scalar.
inline constexpr const char* kSimdLevelVariable = "MOESCOPE_CPU_LEVEL";

// What the kernels use: the highest supported level not above `cap`.
SimdLevel simd_level_for_cap(std::optional<SimdLevel> cap);
// The level in use, decided once per process from the CPU and MOESCOPE_CPU_LEVEL. An unknown
// value is reported once on stderr and ignored.
SimdLevel active_simd_level();
// One line for `info` and `bench`: the level in use, the best one this CPU has, and whether
// MOESCOPE_CPU_LEVEL lowered it; e.g. "avx2 (this CPU: avx512-vnni; MOESCOPE_CPU_LEVEL=avx2)".
std::string simd_level_summary();

}  // namespace moe::cpu
