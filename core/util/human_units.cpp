#include "moe/human_units.hpp"

#include <cstdio>

namespace moe {

std::string human_bytes(uint64_t bytes) {
  char text[32];
  const double value = static_cast<double>(bytes);
  if (bytes >= (1ull << 30)) std::snprintf(text, sizeof text, "%.1f GB", value / (1ull << 30));
  else if (bytes >= (1ull << 20)) std::snprintf(text, sizeof text, "%.1f MB", value / (1ull << 20));
  else if (bytes >= (1ull << 10)) std::snprintf(text, sizeof text, "%.1f KB", value / (1ull << 10));
  else std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  return text;
}

std::string human_count(double n) {
  char text[32];
  if (n >= 1e9) std::snprintf(text, sizeof text, "%.2f B", n / 1e9);
  else if (n >= 1e6) std::snprintf(text, sizeof text, "%.2f M", n / 1e6);
  else if (n >= 1e3) std::snprintf(text, sizeof text, "%.2f K", n / 1e3);
  else std::snprintf(text, sizeof text, "%.0f", n);
  return text;
}

}  // namespace moe
