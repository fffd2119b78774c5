#pragma once
// The listing behind the in-app "Open model" dialog: a folder's subfolders, then its GGUF files and
// saved sessions (or every file), sorted by name. No ImGui here, so the rules are testable.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace moescope::gui {

struct BrowserEntry {
  std::string name;
  bool is_directory = false;
  uint64_t size = 0;  // bytes, files only
};

struct FolderListing {
  std::filesystem::path folder;  // absolute, normalized
  std::vector<BrowserEntry> entries;
  std::string error;  // empty when the folder could be read
};

// Hidden entries (a leading '.') are left out. Unreadable entries are skipped; an unreadable
// folder gives an empty listing with `error` set.
FolderListing list_folder(const std::filesystem::path& folder, bool all_files);

bool has_gguf_extension(const std::string& name);  // case-insensitive ".gguf"

// The bundled model: the first .gguf (by name) in `assets_dir`/models; empty when there is none.
// Both the window and a scripted run open it when no model is given.
std::string bundled_model(const std::filesystem::path& assets_dir);

}  // namespace moescope::gui
