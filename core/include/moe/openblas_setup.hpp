#pragma once
// Eigen's float and double matrix products go to OpenBLAS (EIGEN_USE_BLAS, core/CMakeLists.txt).
// Our thread pools call it from several threads at once, each on its own slice: OpenBLAS must
// then run each call on the calling thread only, or its threads and ours oversubscribe the
// cores. (Debian's serial OpenBLAS is not safe to call from several threads at once: results
// came out corrupted in test_train_model; the pthread build with one thread per call is.)
//
// OpenBLAS picks its kernels from CPUID when it loads, unless OPENBLAS_CORETYPE names them. An
// environment that sets the variable can halve training speed without a word (HASWELL on an
// AVX-512 CPU: single-precision GEMM 92 instead of 187 GFLOP/s on a Zen 5 core), so `info` and
// `train` say which kernels run.
#include <string>

namespace moe {

// Sets OpenBLAS to one thread per call; once per process, before the first parallel product.
void use_one_blas_thread_per_call();

// OpenBLAS's name for the kernels it runs (openblas_get_corename), e.g. "Cooperlake".
std::string openblas_kernels();

// The same and who chose them, e.g. "Cooperlake (chosen by OpenBLAS for this CPU)" or
// "Haswell (OPENBLAS_CORETYPE=Haswell)".
std::string openblas_kernels_summary();

}  // namespace moe
