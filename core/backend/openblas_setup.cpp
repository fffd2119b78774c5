// OpenBLAS's threads per call and the kernels it runs (moe/openblas_setup.hpp).
#include "moe/openblas_setup.hpp"

#include <cstdlib>
#include <mutex>

extern "C" {
// OpenBLAS's own C API.
void openblas_set_num_threads(int num_threads);
char* openblas_get_corename(void);
}

namespace moe {

void use_one_blas_thread_per_call() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

std::string openblas_kernels() {
  const char* name = openblas_get_corename();
  return name != nullptr ? name : "unknown";
}

std::string openblas_kernels_summary() {
  // OpenBLAS read the variable when it loaded; it is read again here only to say who chose.
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  return openblas_kernels() + (forced != nullptr && *forced != '\0'
                                   ? std::string(" (OPENBLAS_CORETYPE=") + forced + ")"
                                   : std::string(" (chosen by OpenBLAS for this CPU)"));
}

}  // namespace moe
