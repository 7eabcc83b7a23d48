#include "port_registry.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/json_writer.hpp"

namespace tty::registry {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRecordDir = ".ports";

fs::path record_path(const fs::path& dir, const std::string& name) {
  return dir / kRecordDir / (name + ".json");
}

// True when `target` is a path of the form /proc/<digits>/fd/<digits>: the
// only kind of target our links have.
bool is_proc_fd_target(const std::string& target) {
  const std::string prefix = "/proc/";
  if (target.rfind(prefix, 0) != 0) {
    return false;
  }
  size_t i = prefix.size();
  const size_t pid_start = i;
  while (i < target.size() && target[i] >= '0' && target[i] <= '9') {
    ++i;
  }
  if (i == pid_start || target.compare(i, 4, "/fd/") != 0) {
    return false;
  }
  i += 4;
  const size_t fd_start = i;
  while (i < target.size() && target[i] >= '0' && target[i] <= '9') {
    ++i;
  }
  return i > fd_start && i == target.size();
}

bool read_link(const fs::path& link, std::string& target) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(link, ec))) {
    return false;
  }
  target = fs::read_symlink(link, ec).string();
  return !ec;
}

// A link of ours is stale when its /proc/<pid>/fd/<n> target no longer resolves.
bool dangling_proc_link(const fs::path& link) {
  std::string target;
  if (!read_link(link, target) || !is_proc_fd_target(target)) {
    return false;
  }
  struct stat st {};
  return ::stat(link.c_str(), &st) != 0;
}

// Takes the record's lock if nobody holds it: the record is then stale.
// Returns the locked descriptor, or -1 (live, or no such file).
int lock_if_stale(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  // The file may have been replaced between open and flock: only the one still
  // at `path` counts.
  struct stat held {
  }, now{};
  if (::fstat(fd, &held) != 0 || ::lstat(path.c_str(), &now) != 0 || held.st_ino != now.st_ino ||
      held.st_dev != now.st_dev) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void remove_port_links(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  for (const char* prefix : {"cu.", "tty."}) {
    const fs::path link = dir / (prefix + name);
    if (fs::is_symlink(fs::symlink_status(link, ec))) {
      fs::remove(link, ec);
    }
    const fs::path dev_link = fs::path("/dev") / (prefix + name);
    if (dangling_proc_link(dev_link)) {
      fs::remove(dev_link, ec);
    }
  }
}

}  // namespace

fs::path default_run_dir() {
  if (const char* dir = std::getenv("USBSERIAL_RUN_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "usbserial-bridge";
  }
  return fs::path("/tmp") / ("usbserial-bridge-" + std::to_string(::getuid()));
}

bool prepare_run_dir(const fs::path& dir, std::string& error) {
  for (const fs::path& path : {dir, dir / kRecordDir}) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      error = "cannot create " + path.string() + ": " + std::strerror(errno);
      return false;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      error = "cannot inspect " + path.string() + ": " + std::strerror(errno);
      return false;
    }
    if (!S_ISDIR(st.st_mode)) {
      error = path.string() + " is not a directory (a symlink or a file is in the way)";
      return false;
    }
    if (st.st_uid != ::geteuid()) {
      error = path.string() + " belongs to uid " + std::to_string(st.st_uid) +
              ", not to this user; give another --run-dir";
      return false;
    }
  }
  return true;
}

std::unique_ptr<Claim> Claim::take(const fs::path& dir, const std::string& name,
                                   std::string& error) {
  const fs::path path = record_path(dir, name);
  if (const int stale = lock_if_stale(path); stale >= 0) {
    remove_port_links(dir, name);
    std::error_code ec;
    fs::remove(path, ec);
    ::close(stale);
  }
  // Written under a temporary name and locked before it appears, so nobody ever
  // sees an unlocked record of a live port.
  const fs::path temporary = path.string() + "." + std::to_string(::getpid()) + ".new";
  const int fd =
      ::open(temporary.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    error = "cannot create " + temporary.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  ::flock(fd, LOCK_EX);
  if (::link(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    ::close(fd);
    if (saved == EEXIST) {
      std::ifstream in(path);
      std::stringstream text;
      text << in.rdbuf();
      error = "port " + name + " is already published in " + dir.string() +
              " by a running bridge: " + text.str();
    } else {
      error = "cannot create " + path.string() + ": " + std::strerror(saved);
    }
    return nullptr;
  }
  ::unlink(temporary.c_str());
  return std::unique_ptr<Claim>(new Claim(path, fd));
}

Claim::~Claim() {
  struct stat held {
  }, now{};
  if (::fstat(fd_, &held) == 0 && ::lstat(path_.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
      held.st_dev == now.st_dev) {
    ::unlink(path_.c_str());
  }
  ::close(fd_);
}

bool Claim::write(const PortRecord& record, std::string& error) {
  hostutil::JsonWriter json;
  json.begin_object();
  json.field("name", record.name);
  json.field("callout", record.callout);
  json.field("dialin", record.dialin);
  json.field("pts", record.pts);
  json.key("links").begin_array();
  for (const std::string& link : record.links) {
    json.value(link);
  }
  json.end_array();
  json.field("chip", record.chip);
  json.field("vid", static_cast<unsigned>(record.vendor_id));
  json.field("pid", static_cast<unsigned>(record.product_id));
  json.field("serial_number", record.serial_number);
  json.field("interface", record.interface_number);
  json.field("bridge_pid", static_cast<int64_t>(record.bridge_pid));
  json.end_object();
  const std::string text = json.str() + "\n";
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    error = "cannot write " + path_.string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::vector<std::string> remove_stale(const fs::path& dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / kRecordDir, ec)) {
    const fs::path path = entry.path();
    if (path.extension() != ".json") {
      continue;
    }
    const int stale = lock_if_stale(path);
    if (stale < 0) {
      continue;
    }
    const std::string name = path.stem().string();
    remove_port_links(dir, name);
    fs::remove(path, ec);
    ::close(stale);
    removed.push_back(name);
  }
  // Links whose record is gone (a bridge killed between making them and
  // writing the record, or a record removed by hand).
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    const bool ours = file.rfind("cu.", 0) == 0 || file.rfind("tty.", 0) == 0;
    std::string target;
    if (!ours || !read_link(entry.path(), target)) {
      continue;
    }
    // Ours, and dangling; or straight to a device node, as bridges before the
    // records made them (such a link cannot be told from a reused pty number).
    if (!is_proc_fd_target(target) || dangling_proc_link(entry.path())) {
      fs::remove(entry.path(), ec);
    }
  }
  return removed;
}

std::string proc_fd_path(int fd) {
  return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd);
}

bool make_link(const fs::path& link, const std::string& target, std::string& error) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(link, ec);
  if (fs::exists(status)) {
    if (!fs::is_symlink(status)) {
      error = link.string() + " exists and is not a link";
      return false;
    }
    std::string old_target;
    struct stat st {};
    if (!read_link(link, old_target) || !is_proc_fd_target(old_target)) {
      error = link.string() + " exists and was not made by a bridge";
      return false;
    }
    if (::stat(link.c_str(), &st) == 0) {
      error = link.string() + " already leads to " + old_target + ", which is live";
      return false;
    }
    fs::remove(link, ec);
  }
  fs::create_symlink(target, link, ec);
  if (ec) {
    error = "cannot create " + link.string() + ": " + ec.message();
    return false;
  }
  return true;
}

void remove_link(const fs::path& link, const std::string& target) {
  std::string current;
  if (read_link(link, current) && current == target) {
    std::error_code ec;
    fs::remove(link, ec);
  }
}

}  // namespace tty::registry
