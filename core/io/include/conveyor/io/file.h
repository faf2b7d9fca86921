#pragma once
// Files and directories: the only code in conveyor that touches the file system (DESIGN.md §2).
// A thin layer over POSIX: every call returns Result with the errno text and the path in the
// message; the error code is kafka_storage_error unless a more precise one applies
// (missing file: kafka_storage_error too; use path_exists() to ask first).
//
// Thread-safety: a File may be used from several threads at once for pread/pwrite at explicit
// positions (POSIX guarantees those are atomic with respect to the file offset); open/close and
// moving a File are single-threaded. The free functions are thread-safe.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "conveyor/base/result.h"

namespace conveyor::io {

enum class OpenMode {
  read_only,           // O_RDONLY; fails if missing
  read_write,          // O_RDWR; fails if missing
  create,              // O_RDWR|O_CREAT: opens or creates
  create_exclusive,    // O_RDWR|O_CREAT|O_EXCL: fails if it exists
  create_truncate,     // O_RDWR|O_CREAT|O_TRUNC
};

// An open file descriptor (RAII). Positions are byte offsets from the start of the file.
class File {
 public:
  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Opens `path` (mode 0644 when created).
  static Result<File> open(const std::string& path, OpenMode mode);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }  // for sendfile by the network layer
  const std::string& path() const { return path_; }

  // Reads up to out.size() bytes at `position`; returns the count read (short only at EOF).
  Result<size_t> pread(std::span<uint8_t> out, int64_t position) const;
  // Reads exactly out.size() bytes at `position`; fails (corrupt_message) on a short read.
  Result<void> pread_exact(std::span<uint8_t> out, int64_t position) const;
  // Writes all of `data` at `position` (retries short writes and EINTR).
  Result<void> pwrite(std::span<const uint8_t> data, int64_t position);
  // fsync(2) (data and metadata) / fdatasync(2).
  Result<void> fsync();
  Result<void> fdatasync();
  // ftruncate(2): shrink or extend (with zeros) to `size` bytes.
  Result<void> truncate(int64_t size);
  // posix_fallocate where supported, else ftruncate; the file reads as zeros past its data.
  Result<void> preallocate(int64_t size);
  // Current size in bytes (fstat).
  Result<int64_t> size() const;
  // Closes now, reporting close(2) errors; the destructor closes silently.
  Result<void> close();

 private:
  int fd_ = -1;
  std::string path_;
};

struct DirEntry {
  std::string name;  // file name only, no directory part
  bool is_directory = false;
};

// mkdir -p. Succeeds if the directory already exists.
Result<void> create_directories(const std::string& path);
// Entries of one directory (not recursive, without "." and ".."), sorted by name.
Result<std::vector<DirEntry>> list_directory(const std::string& path);
// Whether anything exists at `path`.
bool path_exists(const std::string& path);
// rename(2): atomic replacement within one file system.
Result<void> rename_path(const std::string& from, const std::string& to);
// unlink(2); succeeds if already missing.
Result<void> remove_file(const std::string& path);
// rm -r; succeeds if already missing.
Result<void> remove_all(const std::string& path);
// open(dir, O_RDONLY) + fsync: makes creates/renames/removes in `dir` durable.
Result<void> fsync_directory(const std::string& path);
// Size of a file in bytes (stat).
Result<int64_t> file_size(const std::string& path);
// Reads a whole file; fails (kafka_storage_error) if it is larger than `max_bytes`.
Result<std::string> read_file(const std::string& path, size_t max_bytes);
// Durable atomic replace: writes `path`.tmp, fsyncs it, renames it over `path`, fsyncs the
// directory. A crash leaves either the old or the new content at `path` (and maybe a .tmp).
Result<void> write_file_atomic(const std::string& path, std::string_view content);

// Whether `error` (from a call above) is the file system being full: ENOSPC or EDQUOT. The
// errno text is part of every message ("... No space left on device").
bool is_no_space_error(const Error& error);

// The directory part of `path` ("." if none) and the last component.
std::string parent_path(const std::string& path);
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace conveyor::io
