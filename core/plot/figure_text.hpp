#pragma once
// Text of figures made safe to draw and to write, and numbers written compactly. Private to
// core/plot.
#include <cstddef>
#include <string>

namespace moe::plot::detail {

// Invalid UTF-8 would put a cairo context into an error state and make SVG unreadable: such
// bytes become U+FFFD, and control characters (not allowed in XML) become spaces.
std::string clean_text(const std::string& text);

// Cuts text to `max_bytes` on a UTF-8 boundary and adds an ellipsis.
std::string shorten(const std::string& text, size_t max_bytes);

// At most two decimals, trailing zeros dropped: "576", "0.75" (SVG coordinates, messages).
std::string compact_number(double value);

}  // namespace moe::plot::detail
