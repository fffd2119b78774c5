#pragma once
// Writing a file so that it is either complete or absent: the bytes go to a temporary file beside
// the destination (same folder, so the rename stays on one file system), which is synced and then
// renamed over the destination. A failure at any step (unwritable folder, full disk) throws
// moe::Error naming the destination and removes the temporary file; an existing destination is
// left as it was.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace moe {

class AtomicFile {
public:
  // Creates the temporary file; throws moe::Error when the folder cannot take it.
  explicit AtomicFile(std::filesystem::path destination);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);  // throws moe::Error (e.g. disk full)
  void write(std::string_view text) { write(text.data(), text.size()); }
  // Syncs, closes and renames onto the destination; throws moe::Error on failure.
  void commit();
  // Closes and removes the temporary file (also what the destructor does).
  void discard() noexcept;

  const std::filesystem::path& destination() const { return destination_; }
  const std::filesystem::path& temporary_path() const { return temporary_; }

private:
  [[noreturn]] void fail(const std::string& what, int error_number);

  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  bool committed_ = false;
};

// The whole of `contents` as the file at `destination`, atomically (see AtomicFile).
void write_file_atomically(const std::filesystem::path& destination, std::string_view contents);

}  // namespace moe
