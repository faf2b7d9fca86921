#pragma once
// Names the calling thread as `top -H`, `ps -L`, perf and gdb show it ("cv-io-0", "cv-cleaner-0").
#include <string_view>

namespace conveyor {

// Linux keeps 15 bytes of a thread name; longer names are cut. Never fails (a refused name
// leaves the old one). Thread-safe: it names only the calling thread.
void set_current_thread_name(std::string_view name);

}  // namespace conveyor
