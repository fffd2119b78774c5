#pragma once
// What the GUI's export dialogs write, without any window: default paths, and the snapshot's
// routing trace or load table as JSON / CSV (the formats of `moescope-cli route`).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "worker.hpp"

namespace moescope::gui {

// ~/moescope-exports when HOME is set, else the current folder.
std::filesystem::path default_export_folder();

// A file name from a figure title: lower case letters and digits joined by '-', at most 60
// characters ("Expert load at layer 2 (12 tokens)" -> "expert-load-at-layer-2-12-tokens").
std::string file_stem_for(const std::string& title);

enum class DataExport { TraceJson, TraceCsv, LoadCsv };
const char* data_export_extension(DataExport kind);  // ".json" or ".csv"

// The snapshot's routing as the `route --json` document. Throws moe::Error when there is no
// model or the routing is still being computed.
nlohmann::json snapshot_routing_json(const Snapshot& snapshot);

// Writes the snapshot's routing (all computed tokens) atomically; throws moe::Error.
void export_snapshot_data(const Snapshot& snapshot, DataExport kind,
                          const std::filesystem::path& path);

// Creates `folder` when it is the default export folder and missing (other folders must exist:
// a typo should not silently create a tree).
void prepare_export_folder(const std::filesystem::path& path);

}  // namespace moescope::gui
