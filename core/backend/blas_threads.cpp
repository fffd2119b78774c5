#include "moe/blas_threads.hpp"

#include <mutex>

extern "C" void openblas_set_num_threads(int num_threads);  // OpenBLAS's own C API

namespace moe {

void use_one_blas_thread_per_call() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

}  // namespace moe
