#include "serial_queue.hpp"

#include <cstring>

namespace transport {
namespace {
// The process-wide pick (serial_queue.hpp). Set once, before rings are attached.
QueueIndexing g_indexing = QueueIndexing::masked;
}  // namespace

const char* to_string(QueueIndexing indexing) {
  return indexing == QueueIndexing::masked ? "masked" : "free-running";
}

bool parse_queue_indexing(const char* text, QueueIndexing& out) {
  if (text == nullptr) {
    return false;
  }
  if (std::strcmp(text, "masked") == 0) {
    out = QueueIndexing::masked;
    return true;
  }
  if (std::strcmp(text, "free-running") == 0) {
    out = QueueIndexing::free_running;
    return true;
  }
  return false;
}

QueueIndexing serial_queue_indexing() {
  return g_indexing;
}

void set_serial_queue_indexing(QueueIndexing indexing) {
  g_indexing = indexing;
}

}  // namespace transport
