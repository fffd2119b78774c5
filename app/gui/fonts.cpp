#include "fonts.hpp"

#include <imgui.h>

#include <filesystem>
#include <initializer_list>

namespace moescope::gui {

namespace {

std::string first_existing(std::initializer_list<const char*> paths) {
  for (const char* path : paths) {
    std::error_code error;
    if (std::filesystem::exists(path, error)) return path;
  }
  return {};
}

// Character ranges the main font provides (pairs, zero-terminated; ImGui keeps the pointer).
const ImWchar* main_ranges() {
  static const ImWchar ranges[] = {
      0x0020, 0x024F,  // Basic Latin, Latin-1, Latin Extended-A/B
      0x0300, 0x036F,  // combining accents
      0x0370, 0x03FF,  // Greek
      0x0400, 0x052F,  // Cyrillic and its supplement
      0x1E00, 0x1EFF,  // Latin Extended Additional (Vietnamese)
      0x2000, 0x206F,  // punctuation: dashes, quotes, ellipsis
      0x20A0, 0x20BF,  // currency
      0x2190, 0x21FF,  // arrows
      0x2200, 0x22FF,  // mathematical operators
      0x2500, 0x25FF,  // box drawing, blocks (SentencePiece's U+2581), shapes
      0xFFFD, 0xFFFD,  // replacement character
      0};
  return ranges;
}

}  // namespace

FontReport build_fonts(float size_pixels, bool with_cjk) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  FontReport report;
  const std::string main = first_existing({"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                                           "/usr/share/fonts/dejavu/DejaVuSans.ttf"});
  ImFontConfig config;
  config.OversampleH = 2;
  config.OversampleV = 1;
  if (main.empty() ||
      !io.Fonts->AddFontFromFileTTF(main.c_str(), size_pixels, &config, main_ranges())) {
    ImFontConfig fallback;
    fallback.SizePixels = size_pixels;
    io.Fonts->AddFontDefault(&fallback);
    report.main_font = "ImGui built-in (install fonts-dejavu-core)";
    return report;
  }
  report.main_font = main;
  if (with_cjk) {
    const std::string cjk =
        first_existing({"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"});
    if (!cjk.empty()) {
      ImFontConfig merge;
      merge.MergeMode = true;
      merge.OversampleH = 1;
      merge.OversampleV = 1;
      // The common simplified Chinese set (about 2,500 characters) plus kana keep the atlas small.
      if (io.Fonts->AddFontFromFileTTF(cjk.c_str(), size_pixels, &merge,
                                       io.Fonts->GetGlyphRangesChineseSimplifiedCommon())) {
        report.cjk_font = cjk;
      }
    }
  }
  return report;
}

}  // namespace moescope::gui
