#include "png_io.hpp"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "moe/error.hpp"

namespace moescope::gui {

namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

void write_png(const std::filesystem::path& file, const Image& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgba.size() !=
          static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 4) {
    throw moe::Error("cannot write " + file.string() + ": empty or inconsistent image");
  }
  FilePtr out(std::fopen(file.c_str(), "wb"));
  if (!out) throw moe::Error("cannot write " + file.string() + ": " + std::strerror(errno));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    throw moe::Error("cannot write " + file.string() + ": out of memory");
  }
  // libpng reports errors by longjmp; nothing with a destructor is created after this point.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw moe::Error("cannot write " + file.string() + ": libpng error");
  }
  png_init_io(png, out.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y) {
    png_write_row(
        png, image.rgba.data() + static_cast<size_t>(y) * static_cast<size_t>(image.width) * 4);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fflush(out.get()) != 0)
    throw moe::Error("cannot write " + file.string() + ": " + std::strerror(errno));
}

Image read_png(const std::filesystem::path& file) {
  png_image decoder;
  std::memset(&decoder, 0, sizeof decoder);
  decoder.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&decoder, file.c_str())) {
    throw moe::Error("cannot read " + file.string() + ": " + decoder.message);
  }
  decoder.format = PNG_FORMAT_RGBA;
  Image image;
  image.width = static_cast<int>(decoder.width);
  image.height = static_cast<int>(decoder.height);
  image.rgba.resize(PNG_IMAGE_SIZE(decoder));
  if (!png_image_finish_read(&decoder, nullptr, image.rgba.data(), 0, nullptr)) {
    png_image_free(&decoder);
    throw moe::Error("cannot read " + file.string() + ": " + decoder.message);
  }
  return image;
}

double grey_variance(const Image& image) {
  const size_t n = image.rgba.size() / 4;
  if (n == 0) return 0;
  double sum = 0, sum_squares = 0;
  for (size_t i = 0; i < n; ++i) {
    const double grey = (image.rgba[4 * i] + image.rgba[4 * i + 1] + image.rgba[4 * i + 2]) / 3.0;
    sum += grey;
    sum_squares += grey * grey;
  }
  const double mean = sum / static_cast<double>(n);
  return sum_squares / static_cast<double>(n) - mean * mean;
}

int count_colors(const Image& image, int limit) {
  std::unordered_set<uint32_t> colors;
  for (size_t i = 0; i + 3 < image.rgba.size(); i += 4) {
    colors.insert((uint32_t{image.rgba[i]} << 16) | (uint32_t{image.rgba[i + 1]} << 8) |
                  image.rgba[i + 2]);
    if (static_cast<int>(colors.size()) >= limit) break;
  }
  return static_cast<int>(colors.size());
}

}  // namespace moescope::gui
