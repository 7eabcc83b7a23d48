#include "bridge_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>

namespace loopback {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPollSliceMs = 50;
constexpr size_t kMaxLine = 64 * 1024;  // a longer stdout "line" is cut into pieces
constexpr size_t kMaxInfoLines = 256;   // the newest ones are kept

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) {
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
}

// A close-on-exec pipe. The matrix starts bridges from several threads, so on Linux the flag
// is set atomically (pipe2): a pipe end that another thread's child inherited would keep it
// open for that bridge's whole life. Elsewhere it is set right after (one bridge at a time).
bool make_pipe(Fd* read_end, Fd* write_end) {
  int fds[2];
#if defined(__linux__)
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return false;
  }
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  return true;
#else
  if (::pipe(fds) != 0) {
    return false;
  }
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  return ::fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0 && ::fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0;
#endif
}

std::string format_seconds(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

// This process's environment for the bridge, without the client shim: a tool run under
// usbserial-run has it in LD_PRELOAD, and the bridge is the server side of the ports.
std::vector<std::string> bridge_environment() {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    if (text.rfind("LD_PRELOAD=", 0) == 0) {
      std::string kept;
      std::istringstream list(text.substr(11));
      for (std::string item; list >> item;) {  // the loader takes spaces or colons
        for (size_t start = 0; start <= item.size();) {
          const size_t colon = std::min(item.find(':', start), item.size());
          const std::string library = item.substr(start, colon - start);
          if (!library.empty() && library.find("libusbserial-shim") == std::string::npos) {
            kept += (kept.empty() ? "" : ":") + library;
          }
          start = colon + 1;
        }
      }
      if (kept.empty()) {
        continue;
      }
      text = "LD_PRELOAD=" + kept;
    }
    env.push_back(std::move(text));
  }
  return env;
}

// Child side of fork(): only async-signal-safe calls from here to exec.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, int stdin_fd, int stdout_fd,
                             int stderr_fd, int report_fd, pid_t parent) {
  ::setpgid(0, 0);
#if defined(__linux__)
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) {
    ::_exit(127);  // the parent died before PDEATHSIG was armed
  }
#else
  (void)parent;
#endif
  ::dup2(stdin_fd, STDIN_FILENO);
  ::dup2(stdout_fd, STDOUT_FILENO);
  ::dup2(stderr_fd, STDERR_FILENO);
  // Ignored signals stay ignored across exec; the bridge must see SIGTERM and SIGINT
  // with their default meaning, whatever this process did with them.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (const int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) {
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(argv[0], argv, envp);
  const int err = errno;
  [[maybe_unused]] const ssize_t n = ::write(report_fd, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

std::string BridgeExit::describe() const {
  if (killed_after_grace) {
    return "did not exit within " + format_seconds(grace_s) +
           " s of SIGTERM and was killed with SIGKILL";
  }
  if (exited) {
    return "exited with status " + std::to_string(code);
  }
  const char* name = ::strsignal(signal);
  return "was killed by signal " + std::to_string(signal) +
         (name != nullptr ? " (" + std::string(name) + ")" : std::string());
}

BridgeChild::~BridgeChild() {
  if (pid_ > 0) {
    stop(5);
  }
}

std::vector<std::string> BridgeChild::info_lines() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return info_;
}

std::string BridgeChild::stderr_tail() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stderr_;
}

void BridgeChild::append_stderr(const char* data, size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  stderr_.append(data, n);
  if (stderr_.size() > kStderrKeep) {
    stderr_.erase(0, stderr_.size() - kStderrKeep);
  }
}

void BridgeChild::handle_line(const std::string& raw, bool* ready, std::string* error) {
  std::string line = raw;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  if (ready != nullptr && !*ready) {
    if (line == "ready") {
      if (ports_.empty()) {
        *error = "the bridge printed 'ready' without a 'port <path>' line before it";
        return;
      }
      *ready = true;
      return;
    }
    if (line.rfind("port ", 0) == 0) {
      std::string path = line.substr(5);
      if (path.empty() || path[0] != '/') {
        *error = "the bridge printed a port line without an absolute path: '" + line + "'";
        return;
      }
      ports_.push_back(std::move(path));
      return;
    }
  }
  info_.push_back(line);
  if (info_.size() > kMaxInfoLines) {
    info_.erase(info_.begin());
  }
}

void BridgeChild::take_stdout(const char* data, size_t n, bool* ready, std::string* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  stdout_partial_.append(data, n);
  size_t start = 0;
  for (;;) {
    const size_t nl = stdout_partial_.find('\n', start);
    if (nl == std::string::npos) {
      break;
    }
    handle_line(stdout_partial_.substr(start, nl - start), ready, error);
    start = nl + 1;
    if (error != nullptr && !error->empty()) {
      break;
    }
  }
  stdout_partial_.erase(0, start);
  if (stdout_partial_.size() > kMaxLine) {
    handle_line(stdout_partial_, ready, error);
    stdout_partial_.clear();
  }
}

bool BridgeChild::reap(bool block) {
  if (exit_) {
    return true;
  }
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) {
    return false;
  }
  BridgeExit e;
  if (r < 0) {
    // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN by an embedding program).
    e.exited = true;
    e.code = -1;
  } else if (WIFEXITED(status)) {
    e.exited = true;
    e.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
  }
  exit_ = e;
  return true;
}

void BridgeChild::fail_start(BridgeStartError kind, std::string message, std::string* error) {
  start_error_ = kind;
  if (!exit_) {
    stop(2);
  }
  // Whatever the bridge wrote before it died or was stopped is the most useful part.
  const std::string tail = stderr_tail();
  if (tail.empty()) {
    message += " (it wrote nothing on stderr)";
  } else {
    message += "; its stderr ends with:\n" + tail;
    if (message.back() != '\n') {
      message += '\n';
    }
  }
  *error = std::move(message);
}

bool BridgeChild::start(const BridgeConfig& config, std::string* error) {
  if (pid_ > 0) {
    *error = "the bridge was already started";
    return false;
  }
  std::vector<std::string> storage;
  storage.push_back(config.path);
  storage.insert(storage.end(), config.args.begin(), config.args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = bridge_environment();
  std::vector<char*> envp;
  for (std::string& s : env_storage) {
    envp.push_back(s.data());
  }
  envp.push_back(nullptr);

  Fd out_read, out_write, err_read, err_write, report_read, report_write;
  if (!make_pipe(&out_read, &out_write) || !make_pipe(&err_read, &err_write) ||
      !make_pipe(&report_read, &report_write)) {
    *error = std::string("cannot create a pipe: ") + std::strerror(errno);
    start_error_ = BridgeStartError::cannot_run;
    return false;
  }
  Fd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null.valid()) {
    *error = std::string("cannot open /dev/null: ") + std::strerror(errno);
    start_error_ = BridgeStartError::cannot_run;
    return false;
  }

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("cannot fork: ") + std::strerror(errno);
    start_error_ = BridgeStartError::cannot_run;
    return false;
  }
  if (pid == 0) {
    exec_child(argv.data(), envp.data(), dev_null.get(), out_write.get(), err_write.get(),
               report_write.get(), parent);
  }
  pid_ = pid;
  ::setpgid(pid, pid);  // also done by the child; whichever runs first wins, both are fine
  out_write.reset();
  err_write.reset();
  report_write.reset();
  dev_null.reset();

  // The report pipe closes on a successful exec (O_CLOEXEC) or carries exec's errno.
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(report_read.get(), &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    reap(true);
    start_error_ = BridgeStartError::cannot_run;
    *error = "cannot run the bridge " + config.path + ": " + std::strerror(exec_errno);
    if (exec_errno == ENOENT && ::access(config.path.c_str(), F_OK) == 0) {
      *error += " (the file exists, so its #! interpreter is probably missing)";
    }
    return false;
  }

  out_ = std::move(out_read);
  err_ = std::move(err_read);
  set_nonblocking(out_.get());
  set_nonblocking(err_.get());

  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(config.ready_timeout_s));
  bool ready = false;
  bool out_open = true;
  bool err_open = true;
  std::string protocol_error;
  std::optional<Clock::time_point> stdout_closed_at;
  char buffer[4096];
  while (!ready) {
    if (config.cancel != nullptr && config.cancel->load()) {
      fail_start(BridgeStartError::cancelled, "interrupted while waiting for the bridge", error);
      return false;
    }
    const bool gone = reap(false);
    const Clock::time_point now = Clock::now();
    auto report_death = [&] {
      fail_start(
          BridgeStartError::died,
          "the bridge " + config.path + " " + exit_->describe() + " before it printed 'ready'",
          error);
      return false;
    };
    if (now >= deadline) {
      if (gone) {
        return report_death();
      }
      fail_start(BridgeStartError::not_ready,
                 "the bridge " + config.path + " did not print 'ready' within " +
                     format_seconds(config.ready_timeout_s) + " s",
                 error);
      return false;
    }
    if (stdout_closed_at && !gone && now - *stdout_closed_at > std::chrono::seconds(2)) {
      fail_start(BridgeStartError::protocol,
                 "the bridge closed its stdout without printing 'ready' and kept running", error);
      return false;
    }
    pollfd fds[2];
    nfds_t count = 0;
    if (out_open) {
      fds[count++] = pollfd{out_.get(), POLLIN, 0};
    }
    if (err_open) {
      fds[count++] = pollfd{err_.get(), POLLIN, 0};
    }
    // Once it has exited, what is left in the pipes is read before reporting.
    if (count == 0 || (gone && ::poll(fds, count, 0) == 0)) {
      if (gone) {
        return report_death();
      }
      ::usleep(kPollSliceMs * 1000);
      continue;
    }
    if (::poll(fds, count, kPollSliceMs) <= 0) {
      continue;
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        continue;
      }
      if (fds[i].fd == out_.get()) {
        if (n <= 0) {
          out_open = false;
          stdout_closed_at = Clock::now();
        } else {
          take_stdout(buffer, static_cast<size_t>(n), &ready, &protocol_error);
          if (!protocol_error.empty()) {
            fail_start(BridgeStartError::protocol, protocol_error, error);
            return false;
          }
          if (ready) {
            break;
          }
        }
      } else {
        if (n <= 0) {
          err_open = false;
        } else {
          append_stderr(buffer, static_cast<size_t>(n));
        }
      }
    }
  }

  drain_stop_.store(false);
  drain_ = std::thread(&BridgeChild::drain_loop, this);
  return true;
}

void BridgeChild::drain_loop() {
  bool out_open = out_.valid();
  bool err_open = err_.valid();
  char buffer[4096];
  while (out_open || err_open) {
    pollfd fds[2];
    nfds_t count = 0;
    if (out_open) {
      fds[count++] = pollfd{out_.get(), POLLIN, 0};
    }
    if (err_open) {
      fds[count++] = pollfd{err_.get(), POLLIN, 0};
    }
    const int r = ::poll(fds, count, kPollSliceMs);
    if (r == 0 && drain_stop_.load()) {
      break;  // the child is gone and the pipes are quiet (a grandchild may hold them)
    }
    if (r <= 0) {
      continue;
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        continue;
      }
      const bool is_out = fds[i].fd == out_.get();
      if (n <= 0) {
        (is_out ? out_open : err_open) = false;
      } else if (is_out) {
        take_stdout(buffer, static_cast<size_t>(n), nullptr, nullptr);
      } else {
        append_stderr(buffer, static_cast<size_t>(n));
      }
    }
  }
}

void BridgeChild::drain_now() {
  // Before `ready` nothing drains the pipes in the background; keep what the child wrote
  // while it was being stopped (a last error message, typically).
  char buffer[4096];
  for (Fd* fd : {&out_, &err_}) {
    for (int rounds = 0; fd->valid() && rounds < 64; ++rounds) {
      const ssize_t n = ::read(fd->get(), buffer, sizeof buffer);
      if (n <= 0) {
        break;
      }
      if (fd == &out_) {
        take_stdout(buffer, static_cast<size_t>(n), nullptr, nullptr);
      } else {
        append_stderr(buffer, static_cast<size_t>(n));
      }
    }
  }
}

std::optional<BridgeExit> BridgeChild::stop(double grace_s) {
  if (pid_ <= 0) {
    return std::nullopt;
  }
  if (!exit_) {
    ::kill(pid_, SIGTERM);
    const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                          std::chrono::duration<double>(grace_s));
    while (!reap(false) && Clock::now() < deadline) {
      ::usleep(10 * 1000);
    }
    if (!exit_) {
      ::kill(-pid_, SIGKILL);  // its process group: helpers it started go too
      ::kill(pid_, SIGKILL);
      reap(true);
      exit_->killed_after_grace = true;
      exit_->grace_s = grace_s;
    }
  }
  drain_stop_.store(true);
  if (drain_.joinable()) {
    drain_.join();
  } else {
    drain_now();
  }
  out_.reset();
  err_.reset();
  return exit_;
}

}  // namespace loopback
