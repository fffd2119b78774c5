#pragma once
// The .moeprofile file: a CorpusProfile as JSON (the schema, versioned, is docs/moeprofile.md).
#include <filesystem>
#include <string>

#include "moe/corpus_profile.hpp"

namespace moe {

inline constexpr int kMoeProfileVersion = 1;

// The profile as the file's text.
std::string corpus_profile_to_text(const CorpusProfile& profile);
// Parses the file's text; throws moe::Error saying what is wrong (not JSON, not a moeprofile,
// a newer version, a field of the wrong type or size). `name` is used in the messages.
CorpusProfile corpus_profile_from_text(const std::string& text, const std::string& name);

// Writes atomically (moe/atomic_file.hpp): a stopped run never leaves half a profile.
void write_corpus_profile(const std::filesystem::path& path, const CorpusProfile& profile);
CorpusProfile read_corpus_profile(const std::filesystem::path& path);

}  // namespace moe
