#include "server/store/intake_log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace deliverd::store {
namespace {

constexpr char kMagic[8] = {'D', 'L', 'V', 'I', 'N', 'T', 'K', '1'};
constexpr int64_t kFileHeaderBytes = 16;  // magic, epoch
constexpr int64_t kRecordHeaderBytes = 16;  // length, zero, checksum

void PutWord(uint64_t value, char* out) { memcpy(out, &value, 8); }
uint64_t GetWord(const char* in) {
  uint64_t value;
  memcpy(&value, in, 8);
  return value;
}

uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// Detects torn and stale records, not tampering: a word at a time, since it
// runs on every Send.
uint64_t Checksum(uint64_t epoch, absl::string_view bytes) {
  // Seeded so that no (epoch, length) gives zero: a run of zero bytes, as
  // a freshly allocated file holds, is never a valid record.
  uint64_t h = Mix(epoch * 0x9e3779b97f4a7c15ull +
                   static_cast<uint64_t>(bytes.size()) * 0xc2b2ae3d27d4eb4full +
                   0x165667b19e3779f9ull);
  const char* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    h = (h ^ GetWord(p)) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  memcpy(&tail, p, n);
  return Mix(h ^ tail ^ (0x27d4eb2f165667c5ull + n));
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat("intake log ", path, ": ", what, ": ", strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<IntakeLog>> IntakeLog::Open(
    const std::string& path, int64_t capacity) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open", path);
  auto fail = [fd, &path](absl::string_view what) {
    absl::Status status = Errno(what, path);
    ::close(fd);
    return status;
  };
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return fail("flock");
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("intake log ", path, " is in use by another process"));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail("fstat");
  const bool fresh = st.st_size < kFileHeaderBytes;
  int64_t size = std::max<int64_t>(st.st_size, kFileHeaderBytes + capacity);
  // Allocated now so that no later store into the mapping can meet a full
  // disk (which would kill the process with SIGBUS).
  if (int rc = ::posix_fallocate(fd, 0, size); rc != 0) {
    errno = rc;
    return fail("allocating its space");
  }
  void* map = ::mmap(nullptr, static_cast<size_t>(size),
                     PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return fail("mmap");
  std::unique_ptr<IntakeLog> log(new IntakeLog(
      path, fd, static_cast<char*>(map), size - kFileHeaderBytes));
  if (fresh || memcmp(log->map_, kMagic, 8) != 0) {
    memcpy(log->map_, kMagic, 8);
    log->epoch_ = 1;
    PutWord(log->epoch_, log->map_ + 8);
    // The end of the (empty) log, where there is room for it.
    if (log->capacity_ >= 8) PutWord(0, log->map_ + kFileHeaderBytes);
  } else {
    log->epoch_ = GetWord(log->map_ + 8);
    // Positioned after the records ReadAll would return.
    log->size_ = log->Walk(nullptr);
  }
  return log;
}

IntakeLog::~IntakeLog() {
  ::munmap(map_, static_cast<size_t>(capacity_ + kFileHeaderBytes));
  ::close(fd_);
}

int64_t IntakeLog::Walk(std::vector<std::string>* records) const {
  const char* base = map_ + kFileHeaderBytes;
  int64_t at = 0;
  while (capacity_ - at >= kRecordHeaderBytes) {
    uint64_t length = GetWord(base + at);
    if (length == 0 ||
        length > static_cast<uint64_t>(capacity_ - at - kRecordHeaderBytes)) {
      break;
    }
    absl::string_view record(base + at + kRecordHeaderBytes, length);
    if (Checksum(epoch_, record) != GetWord(base + at + 8)) break;
    if (records != nullptr) records->emplace_back(record);
    at += kRecordHeaderBytes + static_cast<int64_t>(length);
  }
  return at;
}

std::vector<std::string> IntakeLog::ReadAll() const {
  std::vector<std::string> records;
  Walk(&records);
  return records;
}

absl::Status IntakeLog::Append(absl::string_view record) {
  if (record.empty()) {
    return absl::InvalidArgumentError("intake log records are never empty");
  }
  const int64_t need = kRecordHeaderBytes + static_cast<int64_t>(record.size());
  if (need > capacity_ - size_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "intake log ", path_, " is full (", size_, " of ", capacity_,
        " bytes)"));
  }
  char* at = map_ + kFileHeaderBytes + size_;
  // A zero length after the record ends ReadAll there, whatever older
  // bytes follow. The record's own length goes in last: until then its
  // slot still reads as the end (the previous append's terminator).
  if (capacity_ - size_ - need >= 8) PutWord(0, at + need);
  memcpy(at + kRecordHeaderBytes, record.data(), record.size());
  PutWord(Checksum(epoch_, record), at + 8);
  PutWord(record.size(), at);
  size_ += need;
  return absl::OkStatus();
}

void IntakeLog::Clear() {
  ++epoch_;
  PutWord(epoch_, map_ + 8);
  size_ = 0;
}

}  // namespace deliverd::store
