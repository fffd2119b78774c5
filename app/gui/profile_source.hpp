#pragma once
// A corpus profile opened in the app (a .moeprofile file, moe/corpus_profile_file.hpp): the
// routing of a whole data set as pooled counts. While one is open the pooled views (expert load,
// co-activation, domains, systems) draw its counts instead of the prompt's, through a Snapshot
// built here that has the profile's statistics and domains and no tokens; the views that need
// single tokens or router scores say that a profile has none. Everything here is window-free.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "moe/corpus_profile.hpp"
#include "moe/plot/figure.hpp"
#include "moe/routing_stats.hpp"
#include "worker.hpp"

namespace moescope::gui {

inline constexpr const char* kProfileExtension = ".moeprofile";

struct ProfileSource {
  std::string path;
  uint64_t serial = 0;  // unique per opened profile: the key of the figures drawn from it
  moe::CorpusProfile profile;
  moe::RoutingStats stats;                      // moe::pooled_stats(profile)
  std::shared_ptr<const DomainResult> domains;  // its labelled domains; null when it has none
};

bool is_profile_file(const std::filesystem::path& path);  // by its .moeprofile name

// Reads and checks the file; throws moe::Error saying what is wrong (moe::read_corpus_profile).
std::shared_ptr<const ProfileSource> read_profile_source(const std::filesystem::path& path);

// "Profile: <source>, N documents, N tokens (model <name>, E experts, top-k)".
std::string profile_summary(const ProfileSource& source);
// One line for the views that need what a profile does not keep: "A corpus profile holds
// pooled counts of N tokens of <source>: no per-token routing and no router scores."
std::string profile_has_no_tokens(const ProfileSource& source);
// For a figure's notes: "corpus profile <source>: N documents, N tokens".
std::string profile_note(const ProfileSource& source);
// `figure` with profile_note as its first note when `snapshot` is a profile's, so that the
// figure, on screen and exported, says where its numbers come from; else `figure` as it is.
moe::plot::Figure with_profile_note(moe::plot::Figure figure, const Snapshot& snapshot);

// Empty when `model` has the profile's shape (experts, top-k, MoE layers) or no model is open;
// else what differs, for a warning.
std::string profile_model_mismatch(const moe::ProfileModel& profile, const ModelInfo* model);

// The snapshot the pooled views draw while the profile is open: the profile's statistics,
// domains and shape (an empty trace of its layers and top-k), the live snapshot's model, no
// tokens, no playground results. Its version is the profile's own, never a prompt's.
std::shared_ptr<const Snapshot> profile_snapshot(std::shared_ptr<const ProfileSource> source,
                                                 const Snapshot& live);

}  // namespace moescope::gui
