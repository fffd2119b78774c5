#include "moe/corpus_reader.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "moe/error.hpp"

namespace moe {

namespace {

bool is_jsonl(const std::filesystem::path& path) {
  return path.extension() == ".jsonl" || path.extension() == ".json";
}

bool is_blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

}  // namespace

CorpusReader::CorpusReader(const std::filesystem::path& data) {
  std::error_code error;
  if (std::filesystem::is_directory(data, error)) {
    for (const auto& entry : std::filesystem::directory_iterator(data, error)) {
      const auto& path = entry.path();
      if (!entry.is_regular_file() || (path.extension() != ".txt" && !is_jsonl(path))) continue;
      files_.push_back({path, path.stem().string(), is_jsonl(path), 0});
    }
    std::sort(files_.begin(), files_.end(),
              [](const File& a, const File& b) { return a.path.filename() < b.path.filename(); });
    if (files_.empty()) {
      throw Error("no <domain>.txt or <domain>.jsonl files in " + data.string());
    }
  } else if (std::filesystem::is_regular_file(data, error)) {
    files_.push_back({data, "", is_jsonl(data), 0});
  } else {
    throw Error("cannot read the corpus " + data.string() + ": no such file or folder");
  }
  for (File& file : files_) {
    file.size = std::filesystem::file_size(file.path, error);
    if (error) file.size = 0;
    total_bytes_ += file.size;
  }
}

bool CorpusReader::open_next_file() {
  if (current_ != nullptr) bytes_done_ += current_->size;
  current_bytes_ = 0;
  current_ = nullptr;
  stream_.close();
  if (next_file_ >= files_.size()) return false;
  current_ = &files_[next_file_++];
  stream_ = std::ifstream(current_->path, std::ios::binary);
  if (!stream_) throw Error("cannot read " + current_->path.string());
  line_ = 0;
  return true;
}

std::optional<CorpusDocument> CorpusReader::next() {
  std::string line;
  while (true) {
    if (current_ == nullptr || !std::getline(stream_, line)) {
      if (!open_next_file()) return std::nullopt;
      continue;
    }
    line_ += 1;
    current_bytes_ = std::min<uint64_t>(current_bytes_ + line.size() + 1, current_->size);
    if (is_blank(line)) continue;
    if (!current_->jsonl) return CorpusDocument{current_->domain, line};
    const std::string where = current_->path.string() + ":" + std::to_string(line_);
    const auto object = nlohmann::json::parse(line, nullptr, false);
    if (!object.is_object() || !object.contains("text") || !object["text"].is_string()) {
      throw Error(where + ": not a JSON object with a string \"text\"");
    }
    CorpusDocument document{current_->domain, object["text"].get<std::string>()};
    if (object.contains("domain") && object["domain"].is_string()) {
      document.domain = object["domain"].get<std::string>();
    }
    if (!is_blank(document.text)) return document;
  }
}

}  // namespace moe
