#include "conveyor/io/file.h"
#include "conveyor/io/file_faults.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace conveyor::io {
namespace {

std::unexpected<Error> errno_error(std::string_view what, const std::string& path, int err) {
  return fail(ErrorCode::kafka_storage_error,
              fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

// Fault injection (file_faults.h): the errno a test rule asks this call to fail with, or 0.
inline int injected(faults::Op op, const std::string& path) { return faults::detail::check(op, path); }

int open_flags(OpenMode mode) {
  switch (mode) {
    case OpenMode::read_only: return O_RDONLY;
    case OpenMode::read_write: return O_RDWR;
    case OpenMode::create: return O_RDWR | O_CREAT;
    case OpenMode::create_exclusive: return O_RDWR | O_CREAT | O_EXCL;
    case OpenMode::create_truncate: return O_RDWR | O_CREAT | O_TRUNC;
  }
  return O_RDONLY;
}

}  // namespace

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

Result<File> File::open(const std::string& path, OpenMode mode) {
  if (int e = injected(faults::Op::open, path)) return errno_error("open", path, e);
  int fd;
  do {
    fd = ::open(path.c_str(), open_flags(mode) | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno_error("open", path, errno);
  File f;
  f.fd_ = fd;
  f.path_ = path;
  return f;
}

Result<size_t> File::pread(std::span<uint8_t> out, int64_t position) const {
  if (int e = injected(faults::Op::read, path_)) return errno_error("pread", path_, e);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, position + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("pread", path_, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<void> File::pread_exact(std::span<uint8_t> out, int64_t position) const {
  auto n = pread(out, position);
  if (!n) return fail(n.error());
  if (*n != out.size())
    return fail(ErrorCode::corrupt_message,
                fmt::format("pread {}: short read at {} ({} of {} bytes)", path_, position, *n, out.size()));
  return {};
}

Result<void> File::pwrite(std::span<const uint8_t> data, int64_t position) {
  int64_t partial = -1;
  if (int e = faults::detail::check(faults::Op::write, path_, &partial)) {
    // A torn write: part of the data reaches the file, then the call fails.
    if (partial > 0) {
      size_t n = std::min(data.size(), static_cast<size_t>(partial));
      if (::pwrite(fd_, data.data(), n, position) < 0) return errno_error("pwrite", path_, errno);
    }
    return errno_error("pwrite", path_, e);
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, position + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("pwrite", path_, errno);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<void> File::fsync() {
  if (int e = injected(faults::Op::fsync, path_)) return errno_error("fsync", path_, e);
  if (::fsync(fd_) != 0) return errno_error("fsync", path_, errno);
  return {};
}

Result<void> File::fdatasync() {
  if (int e = injected(faults::Op::fsync, path_)) return errno_error("fdatasync", path_, e);
  if (::fdatasync(fd_) != 0) return errno_error("fdatasync", path_, errno);
  return {};
}

Result<void> File::truncate(int64_t size) {
  if (int e = injected(faults::Op::truncate, path_)) return errno_error("ftruncate", path_, e);
  int rc;
  do {
    rc = ::ftruncate(fd_, size);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return errno_error("ftruncate", path_, errno);
  return {};
}

Result<void> File::preallocate(int64_t size) {
  if (int e = injected(faults::Op::allocate, path_)) return errno_error("posix_fallocate", path_, e);
  int rc = ::posix_fallocate(fd_, 0, size);
  if (rc == 0) return {};
  if (rc == EOPNOTSUPP || rc == EINVAL) return truncate(size);
  return errno_error("posix_fallocate", path_, rc);
}

Result<int64_t> File::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return errno_error("fstat", path_, errno);
  return static_cast<int64_t>(st.st_size);
}

Result<void> File::close() {
  if (fd_ < 0) return {};
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && errno != EINTR) return errno_error("close", path_, errno);
  return {};
}

Result<void> create_directories(const std::string& path) {
  if (int e = injected(faults::Op::mkdir, path)) return errno_error("mkdir", path, e);
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fail(ErrorCode::kafka_storage_error, fmt::format("mkdir {}: {}", path, ec.message()));
  return {};
}

Result<std::vector<DirEntry>> list_directory(const std::string& path) {
  if (int e = injected(faults::Op::read, path)) return errno_error("opendir", path, e);
  DIR* dir = ::opendir(path.c_str());
  if (!dir) return errno_error("opendir", path, errno);
  std::vector<DirEntry> out;
  errno = 0;
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = false;
    if (e->d_type == DT_DIR) {
      is_dir = true;
    } else if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      struct stat st;
      if (::stat(join_path(path, name).c_str(), &st) == 0) is_dir = S_ISDIR(st.st_mode);
    }
    out.push_back(DirEntry{std::move(name), is_dir});
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return errno_error("readdir", path, err);
  std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<void> rename_path(const std::string& from, const std::string& to) {
  if (int e = injected(faults::Op::rename, from)) return errno_error("rename", from + " -> " + to, e);
  if (::rename(from.c_str(), to.c_str()) != 0) return errno_error("rename", from + " -> " + to, errno);
  return {};
}

Result<void> remove_file(const std::string& path) {
  if (int e = injected(faults::Op::remove, path)) return errno_error("unlink", path, e);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("unlink", path, errno);
  return {};
}

Result<void> remove_all(const std::string& path) {
  if (int e = injected(faults::Op::remove, path)) return errno_error("remove", path, e);
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return fail(ErrorCode::kafka_storage_error, fmt::format("remove {}: {}", path, ec.message()));
  return {};
}

Result<void> fsync_directory(const std::string& path) {
  if (int e = injected(faults::Op::fsync, path)) return errno_error("fsync dir", path, e);
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("open dir", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems refuse fsync on a directory; that is not a failure of the caller.
  if (rc != 0 && err != EINVAL && err != EROFS) return errno_error("fsync dir", path, err);
  return {};
}

Result<int64_t> file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno_error("stat", path, errno);
  return static_cast<int64_t>(st.st_size);
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  auto f = File::open(path, OpenMode::read_only);
  if (!f) return fail(f.error());
  auto size = f->size();
  if (!size) return fail(size.error());
  if (static_cast<uint64_t>(*size) > max_bytes)
    return fail(ErrorCode::kafka_storage_error,
                fmt::format("read {}: {} bytes is over the limit of {}", path, *size, max_bytes));
  std::string out(static_cast<size_t>(*size), '\0');
  auto n = f->pread(std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()), 0);
  if (!n) return fail(n.error());
  out.resize(*n);
  return out;
}

Result<void> write_file_atomic(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp";
  {
    auto f = File::open(tmp, OpenMode::create_truncate);
    if (!f) return fail(f.error());
    auto w = f->pwrite(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(content.data()), content.size()), 0);
    if (!w) return w;
    if (auto s = f->fsync(); !s) return s;
    if (auto c = f->close(); !c) return c;
  }
  if (auto r = rename_path(tmp, path); !r) return r;
  return fsync_directory(parent_path(path));
}

bool is_no_space_error(const Error& error) {
  return error.code == ErrorCode::kafka_storage_error &&
         (error.message.find(std::strerror(ENOSPC)) != std::string::npos ||
          error.message.find(std::strerror(EDQUOT)) != std::string::npos);
}

std::string parent_path(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace conveyor::io
