#pragma once
// PNG files for screenshots (libpng): 8-bit RGBA, rows top to bottom.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace moescope::gui {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgba;  // width * height * 4 bytes, first row at the top
};

// Throws moe::Error naming the file on failure.
void write_png(const std::filesystem::path& file, const Image& image);
Image read_png(const std::filesystem::path& file);

// Variance of the pixels' grey level (0..255 scale); a blank image gives 0.
double grey_variance(const Image& image);
// How many distinct RGB colours the image has (stops counting at `limit`).
int count_colors(const Image& image, int limit = 1 << 20);

}  // namespace moescope::gui
