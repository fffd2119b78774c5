#pragma once
// The documents of a corpus, read one at a time (never the whole corpus in memory): a plain text
// file (one document per line), a JSONL file (one object per line, its "text" field, and its
// "domain" field when it has one), or a folder of <domain>.txt / <domain>.jsonl files (the file
// name is the domain label; files in name order). Blank lines are not documents.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace moe {

struct CorpusDocument {
  std::string domain;  // "" for a single plain text file without labels
  std::string text;
};

class CorpusReader {
public:
  // Throws moe::Error when `data` is neither a readable file nor a folder holding .txt/.jsonl.
  explicit CorpusReader(const std::filesystem::path& data);

  // The next document; nullopt at the end. Throws moe::Error naming file and line for a JSONL
  // line that is not an object with a string "text".
  std::optional<CorpusDocument> next();

  // Bytes of the corpus consumed so far and in all (for progress and ETA).
  uint64_t bytes_read() const { return bytes_done_ + current_bytes_; }
  uint64_t total_bytes() const { return total_bytes_; }

private:
  struct File {
    std::filesystem::path path;
    std::string domain;
    bool jsonl = false;
    uint64_t size = 0;
  };
  bool open_next_file();

  std::vector<File> files_;
  size_t next_file_ = 0;
  std::ifstream stream_;
  const File* current_ = nullptr;
  uint64_t line_ = 0;
  uint64_t bytes_done_ = 0, current_bytes_ = 0, total_bytes_ = 0;
};

}  // namespace moe
