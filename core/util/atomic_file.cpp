#include "moe/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "moe/error.hpp"

namespace moe {

namespace fs = std::filesystem;

AtomicFile::AtomicFile(fs::path destination) : destination_(std::move(destination)) {
  const std::string target = destination_.string();
  if (target.empty()) throw Error("cannot write a file with an empty name");
  if (!destination_.has_filename()) throw Error("cannot write " + target + ": not a file name");
  std::error_code error;
  if (fs::is_directory(destination_, error))
    throw Error("cannot write " + target + ": it is a folder");
  const fs::path folder =
      destination_.has_parent_path() ? destination_.parent_path() : fs::path(".");
  if (!fs::is_directory(folder, error))
    throw Error("cannot write " + target + ": the folder " + folder.string() + " does not exist");

  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; fd_ < 0; ++attempt) {
    fs::path candidate = destination_;
    std::string name(1, '.');
    name += destination_.filename().string();
    name += ".tmp.";
    name += std::to_string(::getpid());
    name += '.';
    name += std::to_string(counter++);
    candidate.replace_filename(name);
    // 0666 and the user's umask, as for any new file (mkstemp would give 0600).
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      fd_ = fd;
      temporary_ = candidate;
    } else if (errno != EEXIST || attempt >= 100) {
      throw Error("cannot write " + target + ": " + std::strerror(errno));
    }
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!committed_ && !temporary_.empty()) {
    ::unlink(temporary_.c_str());
    temporary_.clear();
  }
}

void AtomicFile::fail(const std::string& what, int error_number) {
  discard();
  throw Error("cannot write " + destination_.string() + ": " + what +
              (error_number ? std::string(": ") + std::strerror(error_number) : std::string()));
}

void AtomicFile::write(const void* data, size_t size) {
  if (fd_ < 0) fail("the file is already closed", 0);
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, bytes, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed", errno);
    }
    if (n == 0) fail("write failed", ENOSPC);
    bytes += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  if (fd_ < 0) fail("the file is already closed", 0);
  if (::fsync(fd_) != 0) fail("sync failed", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close failed", errno);
  if (std::rename(temporary_.c_str(), destination_.c_str()) != 0) fail("rename failed", errno);
  committed_ = true;
}

void write_file_atomically(const fs::path& destination, std::string_view contents) {
  AtomicFile file(destination);
  file.write(contents);
  file.commit();
}

}  // namespace moe
