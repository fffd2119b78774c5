// Prompt files and folders of prompt sets (moe/prompt_sets.hpp): the one reading rule the CLI
// and the app share (blank lines and '#' comment lines skipped, a trailing '\r' dropped).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model_fixtures.hpp"
#include "moe/error.hpp"
#include "moe/prompt_sets.hpp"

namespace fs = std::filesystem;
using Lines = std::vector<std::string>;

namespace {

// A fresh temporary folder, removed again on destruction.
class TempFolder {
public:
  TempFolder() : path_(moe::testing::unique_temp_path("prompt_sets", "")) {
    fs::create_directories(path_);
  }
  ~TempFolder() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

private:
  fs::path path_;
};

}  // namespace

TEST(PromptSets, SkipsBlankAndCommentLinesAndDropsCarriageReturns) {
  EXPECT_EQ(moe::parse_prompt_lines("# a comment\nSolve 2 + 2\n\n   \t\nWhat is 3 × 3?\r\n"),
            (Lines{"Solve 2 + 2", "What is 3 × 3?"}));
  // A comment may be indented; a '#' later in the line is part of the prompt, and a prompt's own
  // leading spaces are kept.
  EXPECT_EQ(moe::parse_prompt_lines("  # indented comment\nC# is a language\n  x = 1"),
            (Lines{"C# is a language", "  x = 1"}));
  EXPECT_EQ(moe::parse_prompt_lines("\r\n\n#only comments\n"), Lines{});
  EXPECT_EQ(moe::parse_prompt_lines(""), Lines{});
}

TEST(PromptSets, ReadsEveryTxtFileInNameOrder) {
  const TempFolder folder;
  folder.write("maths.txt", "# maths\nSolve 15 x 8\n");
  folder.write("code.txt", "def f(): pass\n\nint main() {}\n");
  folder.write("notes.md", "not a prompt set\n");
  const std::vector<moe::PromptSet> sets = moe::read_prompt_sets(folder.path());
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].name, "code");
  EXPECT_EQ(sets[0].prompts, (Lines{"def f(): pass", "int main() {}"}));
  EXPECT_EQ(sets[1].name, "maths");
  EXPECT_EQ(sets[1].prompts, Lines{"Solve 15 x 8"});
  EXPECT_EQ(moe::find_prompt_sets(folder.path()).size(), 2u);
  EXPECT_EQ(moe::read_prompt_file(folder.path() / "maths.txt"), Lines{"Solve 15 x 8"});
}

TEST(PromptSets, StrictReadingSaysWhatIsWrongAndForgivingReadingSkipsIt) {
  const TempFolder folder;
  EXPECT_THROW(moe::read_prompt_sets(folder.path()), moe::Error);  // no .txt file
  EXPECT_THROW(moe::read_prompt_sets(folder.path() / "absent"), moe::Error);
  EXPECT_THROW(moe::read_prompt_file(folder.path() / "absent.txt"), moe::Error);
  EXPECT_TRUE(moe::find_prompt_sets(folder.path() / "absent").empty());

  folder.write("empty.txt", "# nothing but a comment\n\n");
  folder.write("poems.txt", "Roses are red\n");
  try {
    moe::read_prompt_sets(folder.path());
    FAIL() << "a prompt file without prompts was accepted";
  } catch (const moe::Error& error) {
    EXPECT_NE(std::string(error.what()).find("empty.txt holds no prompts"), std::string::npos)
        << error.what();
  }
  const std::vector<moe::PromptSet> found = moe::find_prompt_sets(folder.path());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].name, "poems");
}
