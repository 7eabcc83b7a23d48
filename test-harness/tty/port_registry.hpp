// Where published ports live and how anyone can tell a live one from a stale one.
//
// Run directory (one per user, documented in docs/ports-and-clients.md):
//   --run-dir DIR, else $USBSERIAL_RUN_DIR, else $XDG_RUNTIME_DIR/usbserial-bridge,
//   else /tmp/usbserial-bridge-<uid>.
// In it, per port NAME:
//   cu.NAME, tty.NAME   links to /proc/<bridge pid>/fd/<n>, an O_PATH descriptor of
//                       the port's pty held by the bridge. The link resolves only
//                       while that bridge lives: after a SIGKILL it dangles instead of
//                       leading to whatever pty the kernel hands out next.
//   .ports/NAME.json    the port's record, kept locked (flock LOCK_EX) by the bridge.
//                       A record nobody holds locked is stale: its owner is gone.
// Anyone who lists the ports (usbserial-ports, the Python module, a starting
// bridge) removes what a stale record names.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tty::registry {

// The run-directory rule above, without --run-dir.
std::filesystem::path default_run_dir();

// Creates `dir` (mode 0700) when missing. Refuses a path that is a symlink, not a
// directory, or owned by another user (a shared /tmp must not let one user's
// ports land in another user's directory).
bool prepare_run_dir(const std::filesystem::path& dir, std::string& error);

struct PortRecord {
  std::string name;                // "usbserial-SIM1"
  std::string callout;             // <run-dir>/cu.<name>
  std::string dialin;              // <run-dir>/tty.<name>
  std::string pts;                 // /dev/pts/N
  std::vector<std::string> links;  // every link made for the port (run dir and /dev)
  std::string chip;                // "ft232r"
  uint16_t vendor_id = 0, product_id = 0;
  std::string serial_number;  // the USB serial string, may be empty
  int interface_number = 0;
  pid_t bridge_pid = 0;
};

// The record of one published port, held locked for as long as it lives.
class Claim {
 public:
  // Takes the name in `dir`. Fails (with `error`) when a live bridge holds it;
  // a stale record of the same name is cleaned up first.
  static std::unique_ptr<Claim> take(const std::filesystem::path& dir, const std::string& name,
                                     std::string& error);
  ~Claim();  // removes the record (if it is still this one) and lets go of the lock
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;

  // Replaces the record's content.
  bool write(const PortRecord& record, std::string& error);

 private:
  Claim(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
};

// Removes the links and records of every stale port in `dir`, and dangling
// /dev/cu.* and /dev/tty.* links that point into /proc as ours do. Returns the
// names removed. Never follows a link: targets are only read, and only
// symlinks are deleted.
std::vector<std::string> remove_stale(const std::filesystem::path& dir);

// The link target for a descriptor this process holds: /proc/<pid>/fd/<fd>.
std::string proc_fd_path(int fd);

// Creates `link` -> `target`, replacing a stale link of ours. Fails if `link`
// exists and is not a symlink, or still resolves (someone live owns it).
bool make_link(const std::filesystem::path& link, const std::string& target, std::string& error);

// Removes `link` if it is a symlink that still points at `target`.
void remove_link(const std::filesystem::path& link, const std::string& target);

}  // namespace tty::registry
