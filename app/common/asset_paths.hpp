#pragma once
// Where moescope and moescope-cli find their data (the bundled model, prompt sets, the training
// sample): one lookup for both, relative to the executable, so they run from any folder, from
// build/bin as well as installed.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace moescope {

struct AssetsCandidate {
  std::filesystem::path dir;  // a folder laid out like the source tree's assets/
  std::string source;         // why it is tried, for messages: "$MOESCOPE_ASSETS", "installed", ...
};

// The folders tried, in this order: $MOESCOPE_ASSETS (when set), <exe>/../../assets (the build
// tree: build/bin/..), <exe>/../share/moescope/assets (an installed copy), then ./assets.
std::vector<AssetsCandidate> assets_candidates();

// The first candidate that is a folder, normalized; nothing when none is.
std::optional<std::filesystem::path> find_assets_dir();

// `relative` (e.g. "models/moescope-moe-v2.gguf") under the first candidate that holds it.
// Throws moe::Error naming the file and every folder tried.
std::filesystem::path find_asset(const std::filesystem::path& relative);

// "A ($MOESCOPE_ASSETS), B (build tree), ..." : the folders tried, for messages.
std::string describe_assets_candidates();

}  // namespace moescope
