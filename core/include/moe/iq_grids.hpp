#pragma once
// The lookup grids of the IQ quantization types (core/gguf/iq_grids.cpp), read by the decoders
// (core/gguf/iq_codes.cpp) and the vectorized CPU kernels: each uint64 entry holds 8 byte-sized
// element magnitudes (IQ1: signed -1, 0, 1), element 0 in the lowest byte; each uint32 entry 4.
#include <cstdint>

namespace moe::iq {

extern const uint64_t kIq2XxsGrid[256];
extern const uint64_t kIq2XsGrid[512];
extern const uint64_t kIq2SGrid[1024];
extern const uint32_t kIq3XxsGrid[256];
extern const uint32_t kIq3SGrid[512];
extern const uint64_t kIq1SGrid[2048];

}  // namespace moe::iq
