// The layers of core/ (docs/ARCHITECTURE.md): each folder includes only folders of a lower
// layer, never another folder's private headers. Read from the source tree: a public header
// core/include/moe/<name>.hpp belongs to the folder holding <name>.cpp (moe/plot/... to plot);
// public headers without a .cpp of their name (error.hpp, ...) are shared and count for no
// folder. A failure names the file and the include that breaks the rule.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kCore = fs::path(MOESCOPE_SOURCE_DIR) / "core";

// Lower numbers are lower layers. Folders of the same layer may not include each other.
const std::map<std::string, int>& layers() {
  static const std::map<std::string, int> table = {
      {"util", 0},     {"gguf", 1},    {"tokenizer", 2}, {"model", 2},    {"routing", 3},
      {"backend", 4},  {"gl", 5},      {"session", 5},   {"analysis", 6}, {"plot", 7},
      {"train", 7}};
  return table;
}

bool is_source(const fs::path& path) {
  const std::string extension = path.extension().string();
  return extension == ".cpp" || extension == ".hpp" || extension == ".h";
}

std::string top_folder(const fs::path& path) {
  return path.lexically_relative(kCore).begin()->string();
}

std::vector<std::string> quoted_includes(const fs::path& file) {
  static const std::regex include(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<std::string> found;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::smatch match;
    if (std::regex_search(line, match, include)) found.push_back(match[1]);
  }
  return found;
}

struct Tree {
  std::map<std::string, std::string> folder_of_stem;  // "router" -> "routing"
  std::vector<fs::path> files;                        // under the folders (not include/)
  std::vector<fs::path> public_headers;
};

Tree read_tree() {
  Tree tree;
  for (const auto& entry : fs::recursive_directory_iterator(kCore)) {
    if (!entry.is_regular_file() || !is_source(entry.path())) continue;
    const std::string top = top_folder(entry.path());
    if (top == "include") {
      tree.public_headers.push_back(entry.path());
      continue;
    }
    if (entry.path().parent_path() == kCore) continue;  // CMakeLists.txt and the like
    tree.files.push_back(entry.path());
    if (entry.path().extension() == ".cpp")
      tree.folder_of_stem.emplace(entry.path().stem().string(), top);
  }
  return tree;
}

// The folder a public header belongs to, or "" for a shared one.
std::string owner_of_public(const Tree& tree, const std::string& include) {
  const fs::path path(include);  // moe/x.hpp or moe/plot/x.hpp
  auto part = path.begin();
  if (part == path.end() || *part != "moe") return "";
  ++part;
  if (std::next(part) != path.end()) return part->string();  // moe/<folder>/x.hpp
  const auto found = tree.folder_of_stem.find(path.stem().string());
  return found == tree.folder_of_stem.end() ? "" : found->second;
}

struct Edge {
  std::string from, to;
  std::string where;  // file: include
};

std::vector<Edge> edges(const Tree& tree, std::vector<std::string>& reach_ins) {
  std::vector<Edge> all;
  const auto add = [&](const std::string& from, const std::string& to, const fs::path& file,
                       const std::string& include) {
    if (!to.empty() && to != from)
      all.push_back({from, to, file.lexically_relative(kCore).string() + ": " + include});
  };
  for (const fs::path& file : tree.files) {
    const std::string from = top_folder(file);
    for (const std::string& include : quoted_includes(file)) {
      if (include.rfind("moe/", 0) == 0) {
        add(from, owner_of_public(tree, include), file, include);
        continue;
      }
      fs::path target = (file.parent_path() / include).lexically_normal();
      // Not beside the file: a folder put on the include path (another folder's private
      // header reached that way is a reach-in too), else a system or generated header.
      for (const auto& folder : fs::directory_iterator(kCore))
        if (!fs::exists(target) && folder.is_directory() && folder.path().filename() != "include")
          target = (folder.path() / include).lexically_normal();
      if (!fs::exists(target) || target.lexically_relative(kCore).begin()->string() == "..")
        continue;
      const std::string to = top_folder(target);
      if (to != from && to != "include")
        reach_ins.push_back(file.lexically_relative(kCore).string() + ": " + include);
      add(from, to, file, include);
    }
  }
  // A public header's includes count for the folder that owns it.
  for (const fs::path& header : tree.public_headers) {
    const std::string relative = header.lexically_relative(kCore / "include").string();
    const std::string owner = owner_of_public(tree, relative);
    if (owner.empty()) continue;
    for (const std::string& include : quoted_includes(header))
      if (include.rfind("moe/", 0) == 0)
        add(owner, owner_of_public(tree, include), header, include);
  }
  return all;
}

TEST(CoreLayers, EveryFolderHasALayer) {
  std::set<std::string> folders;
  for (const auto& entry : fs::directory_iterator(kCore))
    if (entry.is_directory() && entry.path().filename() != "include")
      folders.insert(entry.path().filename().string());
  ASSERT_FALSE(folders.empty()) << kCore;
  for (const std::string& folder : folders)
    EXPECT_TRUE(layers().count(folder)) << "core/" << folder
                                        << " has no layer in this test and docs/ARCHITECTURE.md";
}

TEST(CoreLayers, IncludesGoOnlyDownAndNeverIntoPrivateHeaders) {
  const Tree tree = read_tree();
  ASSERT_GT(tree.files.size(), 50u);
  std::vector<std::string> reach_ins;
  const std::vector<Edge> found = edges(tree, reach_ins);
  EXPECT_GT(found.size(), 10u) << "the include scan found almost nothing";
  for (const Edge& edge : found) {
    const auto from = layers().find(edge.from);
    const auto to = layers().find(edge.to);
    if (from == layers().end() || to == layers().end()) continue;  // reported above
    EXPECT_LT(to->second, from->second)
        << edge.from << " (layer " << from->second << ") includes " << edge.to << " (layer "
        << to->second << "): " << edge.where;
  }
  for (const std::string& reach_in : reach_ins)
    ADD_FAILURE() << "a reach-in to another folder's private header: " << reach_in;
}

}  // namespace
