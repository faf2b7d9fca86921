#pragma once
// Test-only fault injection for the file layer (file.h). Every call of file.h that touches the
// file system asks this registry first; a matching rule makes the call fail with an errno
// (EIO, ENOSPC, ...) as if the kernel had returned it, optionally after writing part of the
// data (a torn write). Rules match an operation and a path prefix, so a test can fail one log
// dir of a broker and leave the others alone. A rule with error 0 only counts calls (used to
// prove that an acknowledged record was fsync'd).
//
// Two ways to install rules:
//  - in-process (C++ tests): faults::add(Rule{...}) / faults::remove(id) / faults::clear();
//  - in a broker process: set $CONVEYOR_FAULT_INJECTION_FILE=<path> in its environment; the
//    file is re-read when its size or mtime changes (checked at most every 20 ms while armed),
//    one rule per line, '#' starts a comment:
//        <op> <errno> <path prefix> [skip=N] [times=N] [partial=N] [delay_ms=N]
//    op: open read write fsync truncate allocate rename remove mkdir; errno: EIO, ENOSPC,
//    EDQUOT, EROFS, ENOMEM, OK (0: count or delay only) or a number. Replace the file atomically (write + rename); an empty
//    file removes the file's rules. Never set the variable in production.
// Without rules (and without the variable) each call costs one relaxed atomic load.
//
// Thread-safety: every function is thread-safe.
#include <cstdint>
#include <optional>
#include <string>

namespace conveyor::io::faults {

enum class Op : uint8_t {
  open,      // File::open (any mode)
  read,      // File::pread, read_file, list_directory
  write,     // File::pwrite
  fsync,     // File::fsync, File::fdatasync, fsync_directory (path = the directory)
  truncate,  // File::truncate
  allocate,  // File::preallocate
  rename,    // rename_path (path = the source)
  remove,    // remove_file, remove_all
  mkdir,     // create_directories
};

struct Rule {
  Op op = Op::fsync;
  std::string path_prefix;     // the call's path must start with this ("" = every path)
  int error = 0;               // errno to fail with; 0 = only count matching calls
  int64_t skip = 0;            // let this many matching calls through before failing
  int64_t times = -1;          // fail this many matching calls after `skip`; -1 = all of them
  int64_t partial_bytes = -1;  // Op::write: write at most this many bytes first, then fail
  int64_t delay_ms = 0;        // sleep this long before the call (a slow disk), failing or not
};

// Installs a rule; returns its id (> 0).
int64_t add(Rule rule);
// Removes one rule (its counters are gone too). Unknown ids are ignored.
void remove(int64_t id);
// Removes every in-process rule.
void clear();
// Calls that matched rule `id` so far (failed or let through); 0 for unknown ids.
int64_t matched(int64_t id);
// Calls that rule `id` failed so far.
int64_t failed(int64_t id);

// Parses an errno name ("EIO", "ENOSPC", ...) or number; nullopt if unknown.
std::optional<int> parse_errno(const std::string& text);

namespace detail {
// Called by file.cc before a real call: the errno to fail with, or 0 to proceed. For
// Op::write, *partial_bytes is set to how much to write before failing (-1: nothing).
int check(Op op, const std::string& path, int64_t* partial_bytes = nullptr);
}  // namespace detail

}  // namespace conveyor::io::faults
