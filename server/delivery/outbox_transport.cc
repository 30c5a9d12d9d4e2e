#include "server/delivery/outbox_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/store/file_util.h"

namespace deliverd::delivery {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", strerror(errno)));
}

absl::Status WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<OutboxTransport>> OutboxTransport::Create(
    const std::string& directory) {
  if (directory.empty()) {
    return absl::InvalidArgumentError("outbox directory is empty");
  }
  if (absl::Status s = store::MakeDirectories(directory, 0755); !s.ok()) {
    return s;
  }
  return std::unique_ptr<OutboxTransport>(new OutboxTransport(directory));
}

absl::StatusOr<TransportResult> OutboxTransport::Send(const Envelope& envelope,
                                                      absl::string_view data) {
  std::string final_path = absl::StrCat(directory_, "/", envelope.message_id,
                                        ".eml");
  std::string temp_path = absl::StrCat(directory_, "/.", envelope.message_id,
                                       ".tmp");
  int fd = open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                0644);
  if (fd < 0) return Errno(absl::StrCat("open ", temp_path));
  std::string head =
      absl::StrCat("Return-Path: <", envelope.mail_from, ">\r\n",
                   "X-Deliverd-Rcpt-To: ", absl::StrJoin(envelope.rcpt_to, ", "),
                   "\r\n");
  absl::Status status = WriteAll(fd, head);
  if (status.ok()) status = WriteAll(fd, data);
  if (status.ok() && fsync(fd) != 0) status = Errno("fsync");
  if (close(fd) != 0 && status.ok()) status = Errno("close");
  if (status.ok() && rename(temp_path.c_str(), final_path.c_str()) != 0) {
    status = Errno("rename");
  }
  if (!status.ok()) {
    unlink(temp_path.c_str());
    return status;
  }
  // The rename is durable only once the folder itself is synced.
  int dir = open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  TransportResult result;
  result.detail = absl::StrCat("written to ", final_path);
  for (const std::string& rcpt : envelope.rcpt_to) {
    RecipientOutcome r;
    r.address = rcpt;
    r.outcome = Outcome::kAccepted;
    r.reply.code = 250;
    r.reply.text = result.detail;
    r.reply.remote_host = "outbox";
    result.recipients.push_back(std::move(r));
  }
  return result;
}

}  // namespace deliverd::delivery
