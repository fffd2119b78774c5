#pragma once
// Eigen's float and double matrix products go to OpenBLAS (EIGEN_USE_BLAS, core/CMakeLists.txt).
// Our thread pools call it from several threads at once, each on its own slice: OpenBLAS must
// then run each call on the calling thread only, or its threads and ours oversubscribe the
// cores. (Debian's serial OpenBLAS is not safe to call from several threads at once: results
// came out corrupted in test_train_model; the pthread build with one thread per call is.)
namespace moe {

// Sets OpenBLAS to one thread per call; once per process, before the first parallel product.
void use_one_blas_thread_per_call();

}  // namespace moe
