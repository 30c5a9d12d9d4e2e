// An append-only file of records, the embedded store's intake log: with
// synchronous=NORMAL, a Send is acknowledged once its message is appended
// here, and the store's writer copies accepted messages into SQLite
// afterwards, many per transaction (see SqliteStore).
//
// The file is mapped into memory (MAP_SHARED) and its whole capacity is
// allocated on disk when it is opened, so an append is a copy into the page
// cache with no system call: the bytes then belong to the operating system
// and survive the process being killed (not the machine losing power,
// which synchronous=NORMAL does not promise either), and a full disk can
// only fail Open, never an append.
//
// Layout: a 16-byte header (magic, then the epoch), then records, each its
// length (4 bytes, then 4 zero bytes) and a 64-bit checksum of the epoch,
// the length and the bytes; a zero length marks the end. Clear starts a
// new epoch instead of erasing: records of older epochs fail their
// checksum. ReadAll returns the records up to the end or the first that
// fails: only an append cut short by a crash leaves one, and a record whose
// append had not returned was never acknowledged.
//
// Open takes an exclusive flock on the file and fails with
// FAILED_PRECONDITION while another process holds it, so a second process
// opening the same database never reads or clears a live log.
//
// Not thread-safe: the owner serialises calls. Errors are absl::Status
// naming the file and what failed.
#ifndef DELIVERD_SERVER_STORE_INTAKE_LOG_H_
#define DELIVERD_SERVER_STORE_INTAKE_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace deliverd::store {

class IntakeLog {
 public:
  // Opens (creating, mode 0600) the log at `path`, locks it, and makes it
  // hold at least `capacity` bytes (an existing larger file keeps its size).
  static absl::StatusOr<std::unique_ptr<IntakeLog>> Open(
      const std::string& path, int64_t capacity);
  ~IntakeLog();

  IntakeLog(const IntakeLog&) = delete;
  IntakeLog& operator=(const IntakeLog&) = delete;

  // Every whole record of the current epoch, in order.
  std::vector<std::string> ReadAll() const;

  // Appends one record. RESOURCE_EXHAUSTED when it does not fit in what
  // is left of the capacity (nothing is written then).
  absl::Status Append(absl::string_view record);

  // Empties the log (a new epoch).
  void Clear();

  // Bytes of records (with their framing) in the current epoch.
  int64_t size() const { return size_; }
  int64_t capacity() const { return capacity_; }
  const std::string& path() const { return path_; }

 private:
  IntakeLog(std::string path, int fd, char* map, int64_t capacity)
      : path_(std::move(path)), fd_(fd), map_(map), capacity_(capacity) {}
  // Reads the records of the current epoch from the start, adding them to
  // `records` when it is not null; returns the offset after the last.
  int64_t Walk(std::vector<std::string>* records) const;

  std::string path_;
  int fd_;
  char* map_;
  int64_t capacity_;
  uint64_t epoch_ = 0;
  int64_t size_ = 0;  // of records, after the file header
};

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_INTAKE_LOG_H_
