#include "file_browser.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "profile_source.hpp"
#include "session_file.hpp"

namespace moescope::gui {

std::string bundled_model(const std::filesystem::path& assets_dir) {
  std::string first;
  std::error_code ignored;
  for (std::filesystem::directory_iterator it(assets_dir / "models", ignored), end;
       !ignored && it != end; it.increment(ignored)) {
    const std::string name = it->path().filename().string();
    if (has_gguf_extension(name) && (first.empty() || it->path().string() < first))
      first = it->path().string();
  }
  return first;
}

bool has_gguf_extension(const std::string& name) {
  if (name.size() < 5) return false;
  std::string tail = name.substr(name.size() - 5);
  std::transform(tail.begin(), tail.end(), tail.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return tail == ".gguf";
}

FolderListing list_folder(const std::filesystem::path& folder, bool all_files) {
  FolderListing listing;
  std::error_code error;
  listing.folder =
      std::filesystem::weakly_canonical(std::filesystem::absolute(folder, error), error);
  if (error) listing.folder = folder;
  std::filesystem::directory_iterator it(
      listing.folder, std::filesystem::directory_options::skip_permission_denied, error);
  if (error) {
    listing.error = "cannot read " + listing.folder.string() + ": " + error.message();
    return listing;
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) break;
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    std::error_code entry_error;
    BrowserEntry entry;
    entry.name = name;
    entry.is_directory = it->is_directory(entry_error);
    if (entry_error) continue;
    if (!entry.is_directory) {
      if (!all_files && !has_gguf_extension(name) && !is_session_file(name) &&
          !is_profile_file(name))
        continue;
      entry.size = it->file_size(entry_error);
      if (entry_error) entry.size = 0;
    }
    listing.entries.push_back(std::move(entry));
  }
  std::sort(listing.entries.begin(), listing.entries.end(),
            [](const BrowserEntry& a, const BrowserEntry& b) {
              if (a.is_directory != b.is_directory) return a.is_directory;
              return a.name < b.name;
            });
  return listing;
}

}  // namespace moescope::gui
