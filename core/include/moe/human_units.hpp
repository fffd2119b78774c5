#pragma once
// Sizes and counts written for people, one style everywhere (CLI, app, figures' notes).
#include <cstdint>
#include <string>

namespace moe {

// "1.5 GB", "64.0 MB", "812 B" (binary units).
std::string human_bytes(uint64_t bytes);
// "8.27 M", "1.50 B", "133.06 K", "812" (decimal: thousands, millions, billions).
std::string human_count(double n);

}  // namespace moe
