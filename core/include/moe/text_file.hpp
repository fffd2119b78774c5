#pragma once
// A whole file read as bytes, for configs and prompt files given on the command line or picked
// in the app: one message for every reader when it cannot be read.
#include <filesystem>
#include <string>

namespace moe {

// Throws moe::Error "cannot read PATH: REASON".
std::string read_text_file(const std::filesystem::path& path);

}  // namespace moe
