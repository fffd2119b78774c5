#include "asset_paths.hpp"

#include <cstdlib>

#include "moe/error.hpp"

namespace moescope {

namespace fs = std::filesystem;

namespace {

// Without symlinks and "..", so messages and `info` show a plain path; as given if that fails.
fs::path tidy(const fs::path& path) {
  std::error_code error;
  fs::path canonical = fs::weakly_canonical(path, error);
  return error ? path.lexically_normal() : canonical;
}

}  // namespace

std::vector<AssetsCandidate> assets_candidates() {
  std::vector<AssetsCandidate> candidates;
  std::error_code error;
  const fs::path working_dir = fs::current_path(error);
  if (const char* env = std::getenv("MOESCOPE_ASSETS"); env && *env)
    candidates.push_back({tidy(working_dir / env), "$MOESCOPE_ASSETS"});
  // /proc/self/exe names the real file, so a symlink to the program (e.g. in ~/bin) still leads
  // to the assets beside the real one.
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const fs::path bin = executable.parent_path();
    candidates.push_back({tidy(bin / ".." / ".." / "assets"), "build tree"});
    candidates.push_back({tidy(bin / ".." / "share" / "moescope" / "assets"), "installed"});
  }
  if (!working_dir.empty()) candidates.push_back({working_dir / "assets", "working folder"});
  return candidates;
}

std::optional<fs::path> find_assets_dir() {
  std::error_code ignored;
  for (const AssetsCandidate& candidate : assets_candidates()) {
    if (fs::is_directory(candidate.dir, ignored)) return candidate.dir;
  }
  return std::nullopt;
}

fs::path find_asset(const fs::path& relative) {
  std::error_code ignored;
  for (const AssetsCandidate& candidate : assets_candidates()) {
    const fs::path path = candidate.dir / relative;
    if (fs::exists(path, ignored)) return path;
  }
  throw moe::Error("cannot find assets/" + relative.string() + "; looked in " +
                   describe_assets_candidates() +
                   "; set MOESCOPE_ASSETS to moescope's assets folder, or give the path");
}

std::string describe_assets_candidates() {
  std::string text;
  for (const AssetsCandidate& candidate : assets_candidates()) {
    if (!text.empty()) text += ", ";
    text += candidate.dir.string() + " (" + candidate.source + ")";
  }
  return text;
}

}  // namespace moescope
