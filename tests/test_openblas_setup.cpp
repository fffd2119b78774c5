// Which OpenBLAS kernels run, as `info` and `train` report them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "moe/openblas_setup.hpp"

namespace {

TEST(OpenblasSetup, TheSummaryNamesTheKernelsAndWhoChoseThem) {
  const std::string kernels = moe::openblas_kernels();
  EXPECT_FALSE(kernels.empty());
  EXPECT_NE(kernels, "unknown");
  const std::string summary = moe::openblas_kernels_summary();
  EXPECT_EQ(summary.rfind(kernels + " (", 0), 0u) << summary;
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  if (forced != nullptr && *forced != '\0') {
    EXPECT_NE(summary.find(std::string("OPENBLAS_CORETYPE=") + forced), std::string::npos);
  } else {
    EXPECT_NE(summary.find("chosen by OpenBLAS"), std::string::npos);
  }
}

}  // namespace
