// The `conveyor` executable the wheel installs (its scripts directory, beside the Python
// interpreter of the environment).
//
// `conveyor broker ...` runs the broker natively in this process: no Python interpreter, so it
// is ready in tens of milliseconds (issue 2 "start to ready <= 100 ms"; `python -c pass`
// alone takes longer on the 2-core machines conveyor is measured on). Every other command —
// and `conveyor broker --help`, so the help text has one source — is handed to the Python CLI
// (python/conveyor/cli.py) by exec'ing `<python> -m conveyor ARGS...`, where <python> is:
//   1. $CONVEYOR_PYTHON if set;
//   2. python3, then python, in the directory of this executable (a venv's bin/, pyenv's
//      versions/X/bin/, /usr/local/bin/ — where pip installs console scripts);
//   3. python3 on $PATH.
//
// The broker command accepts what the Python CLI's `conveyor broker` accepts, with the same
// meaning, output and exit status:
//   conveyor broker [--config FILE] [--override KEY=VALUE]... [--data-dir DIR]
// stdout gets exactly one line when the listener accepts connections:
//   conveyor broker listening on HOST:PORT
// stderr gets the data directory and shutdown lines; SIGTERM/SIGINT stop it cleanly (exit 0);
// a bad flag exits 2, a broker that cannot start (bad property, port in use) exits 1 with the
// broker's error naming the key or the cause.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "conveyor/base/properties.h"
#include "conveyor/broker/broker.h"

namespace {

constexpr const char* kDefaultListeners = "PLAINTEXT://127.0.0.1:9092";  // cli.py DEFAULT_LISTENERS

bool executable(const std::filesystem::path& p) { return ::access(p.c_str(), X_OK) == 0; }

std::string find_python() {
  if (const char* env = std::getenv("CONVEYOR_PYTHON"); env && *env) return env;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const char* name : {"python3", "python"}) {
      auto candidate = self.parent_path() / name;
      if (executable(candidate)) return candidate.string();
    }
  }
  return "python3";  // execvp searches $PATH
}

[[noreturn]] void exec_python_cli(int argc, char** argv) {
  std::string python = find_python();
  std::vector<char*> args;
  args.push_back(python.data());
  std::string dash_m = "-m", module = "conveyor";
  args.push_back(dash_m.data());
  args.push_back(module.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execvp(python.c_str(), args.data());
  std::fprintf(stderr,
               "conveyor: cannot run the Python CLI with '%s' (%s); set CONVEYOR_PYTHON to the "
               "interpreter conveyor is installed in\n",
               python.c_str(), std::strerror(errno));
  std::exit(127);
}

bool wants_help(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") return true;
    if (a == "--") break;
  }
  return false;
}

int run_broker(int argc, char** argv) {
  CLI::App app{"conveyor broker", "conveyor broker"};
  app.set_help_flag();  // --help goes to the Python CLI (one help text)
  std::string config_file, data_dir;
  std::vector<std::string> overrides;
  app.add_option("--config", config_file);
  app.add_option("--override", overrides)->allow_extra_args(false);
  app.add_option("--data-dir", data_dir);
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "usage: conveyor broker [--config FILE] [--override KEY=VALUE] [--data-dir DIR]\n"
                         "conveyor broker: error: %s\n", e.what());
    return 2;
  }

  conveyor::Properties props;
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) {
      std::fprintf(stderr, "conveyor broker: cannot read %s: %s\n", config_file.c_str(), std::strerror(errno));
      return 1;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = conveyor::Properties::parse(text.str());
    if (!parsed) {
      std::fprintf(stderr, "conveyor broker: %s: %s\n", config_file.c_str(), parsed.error().to_string().c_str());
      return 1;
    }
    props = std::move(*parsed);
  }
  for (const auto& item : overrides) {
    auto eq = item.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "conveyor: --override expects key=value, got '%s'\n", item.c_str());
      return 1;
    }
    auto trim = [](std::string s) {
      auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    props.set(trim(item.substr(0, eq)), trim(item.substr(eq + 1)));
  }
  if (!data_dir.empty()) props.set("log.dirs", data_dir);
  if (!props.contains("listeners")) props.set("listeners", kDefaultListeners);

  return conveyor::broker::run_until_stop_signal(props);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "broker") == 0 && !wants_help(argc, argv)) return run_broker(argc, argv);
  exec_python_cli(argc, argv);
}
