// The run-time choice of the CPU kernels' SIMD level (moe/cpu_level.hpp): names, the cap that
// MOESCOPE_CPU_LEVEL sets, refusal of levels this CPU lacks, and what `info` reports.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>
#include <optional>
#include <string>
#include <nlohmann/json.hpp>

#include "../core/backend/cpu_quant_dot.hpp"  // private to the backend; tested directly here
#include "../core/backend/cpu_vector_ops.hpp"
#include "cli_runner.hpp"
#include "moe/cpu_level.hpp"
#include "moe/error.hpp"

namespace {

using moe::cpu::SimdLevel;
constexpr SimdLevel kLevels[] = {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::AvxVnni,
                                 SimdLevel::Avx512Vnni};

TEST(CpuLevel, NamesParseBack) {
  for (SimdLevel level : kLevels) {
    EXPECT_EQ(moe::cpu::parse_simd_level(moe::cpu::simd_level_name(level)), level);
  }
  EXPECT_EQ(moe::cpu::parse_simd_level("avx512"), SimdLevel::Avx512Vnni);
  EXPECT_EQ(moe::cpu::parse_simd_level("avxvnni"), SimdLevel::AvxVnni);
  EXPECT_EQ(moe::cpu::parse_simd_level("AVX2"), std::nullopt);  // names are lower case
  EXPECT_EQ(moe::cpu::parse_simd_level("sse4"), std::nullopt);
  EXPECT_EQ(moe::cpu::parse_simd_level(""), std::nullopt);
}

TEST(CpuLevel, CapGivesTheHighestSupportedLevelNotAboveIt) {
  const std::vector<SimdLevel> supported = moe::cpu::supported_simd_levels();
  ASSERT_FALSE(supported.empty());
  EXPECT_EQ(supported.front(), SimdLevel::Scalar);
  EXPECT_EQ(moe::cpu::simd_level_for_cap(std::nullopt), supported.back());
  EXPECT_EQ(moe::cpu::simd_level_for_cap(SimdLevel::Scalar), SimdLevel::Scalar);
  for (SimdLevel cap : kLevels) {
    const SimdLevel chosen = moe::cpu::simd_level_for_cap(cap);
    EXPECT_LE(chosen, cap);
    EXPECT_TRUE(moe::cpu::cpu_supports(chosen));
    for (SimdLevel level : supported)
      if (level <= cap) {
        EXPECT_GE(chosen, level) << "skipped a supported level";
      }
  }
}

// A level this CPU lacks is refused with a message, never run (its code could be illegal here).
TEST(CpuLevel, KernelsOfAnUnsupportedLevelAreRefused) {
  int refused = 0;
  for (SimdLevel level : kLevels) {
    if (moe::cpu::cpu_supports(level)) {
      EXPECT_NE(moe::cpu::quant_dot_for(moe::GgmlType::Q4_K, level), nullptr);
    } else {
      EXPECT_THROW(moe::cpu::quant_dot_for(moe::GgmlType::Q4_K, level), moe::Error);
      ++refused;
    }
  }
  if (refused == 0) GTEST_SKIP() << "this CPU runs every level: nothing to refuse";
}

// The attention's f32 dot product and scaled add at every level equal the scalar ones within the
// rounding of their summation orders (lengths with and without a tail of the vector width).
TEST(CpuLevel, VectorOpsMatchTheScalarOnesAtEveryLevel) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const moe::cpu::VectorOps& scalar = moe::cpu::vector_ops(SimdLevel::Scalar);
  for (SimdLevel level : moe::cpu::supported_simd_levels()) {
    const moe::cpu::VectorOps& ops = moe::cpu::vector_ops(level);
    for (int64_t n : {1, 7, 8, 16, 64, 128, 131}) {
      std::vector<float> a(n), b(n), y(n), y_scalar(n);
      double magnitude = 0;
      for (int64_t i = 0; i < n; ++i) {
        a[i] = normal(rng), b[i] = normal(rng), y[i] = y_scalar[i] = normal(rng);
        magnitude += std::fabs(static_cast<double>(a[i]) * b[i]);
      }
      EXPECT_NEAR(ops.dot(a.data(), b.data(), n), scalar.dot(a.data(), b.data(), n),
                  2.0 * static_cast<double>(n) * 0x1.0p-24 * magnitude)
          << simd_level_name(level) << " n=" << n;
      ops.axpy(0.75f, a.data(), y.data(), n);
      scalar.axpy(0.75f, a.data(), y_scalar.data(), n);
      for (int64_t i = 0; i < n; ++i) {  // one fused or two rounded operations: within 1 ulp
        EXPECT_NEAR(y[i], y_scalar[i], 1e-6f * (std::fabs(y_scalar[i]) + std::fabs(a[i])))
            << simd_level_name(level) << " n=" << n << " i=" << i;
      }
    }
  }
}

// `info --json` names the level in use; MOESCOPE_CPU_LEVEL lowers it; a bad value is reported
// and ignored.
// (The suite itself may run under MOESCOPE_CPU_LEVEL: each call sets the variable its own way.)
class CpuLevelCli : public ::testing::Test {
protected:
  void SetUp() override {
    if (const char* value = std::getenv(moe::cpu::kSimdLevelVariable)) saved_ = value;
  }
  void TearDown() override {
    if (saved_) setenv(moe::cpu::kSimdLevelVariable, saved_->c_str(), 1);
  }

  static nlohmann::json info_with_level(const char* value, std::string* err = nullptr) {
    unsetenv(moe::cpu::kSimdLevelVariable);
    if (value) setenv(moe::cpu::kSimdLevelVariable, value, 1);
    const moe::testing::CommandResult result = moe::testing::run_cli("info --json");
    unsetenv(moe::cpu::kSimdLevelVariable);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    if (err) *err = result.err;
    return nlohmann::json::parse(result.out, nullptr, false);
  }

private:
  std::optional<std::string> saved_;
};

TEST_F(CpuLevelCli, InfoReportsTheLevelAndTheOverride) {
  const std::string best(moe::cpu::simd_level_name(moe::cpu::simd_level_for_cap(std::nullopt)));
  EXPECT_EQ(info_with_level(nullptr)["cpu_kernels"]["level"], best);
  const nlohmann::json scalar = info_with_level("scalar");
  EXPECT_EQ(scalar["cpu_kernels"]["level"], "scalar");
  if (best != "scalar") {
    EXPECT_NE(scalar["cpu_kernels"]["summary"].get<std::string>().find("MOESCOPE_CPU_LEVEL=scalar"),
              std::string::npos);
  }
  std::string err;
  EXPECT_EQ(info_with_level("fastest", &err)["cpu_kernels"]["level"], best);
  EXPECT_NE(err.find("ignoring MOESCOPE_CPU_LEVEL=fastest"), std::string::npos) << err;
}

}  // namespace
