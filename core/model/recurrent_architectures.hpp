#pragma once
// Architectures llama.cpp runs that moescope does not: layers that are not attention (linear
// attention, state-space models, short convolutions, RWKV). Private to core/model.
#include <string>
#include <string_view>

namespace moe {

// For a hybrid or recurrent architecture, why it cannot be computed here (what it has that
// moescope lacks), as a sentence; "" for any other name.
std::string recurrent_architecture_reason(std::string_view name);

}  // namespace moe
