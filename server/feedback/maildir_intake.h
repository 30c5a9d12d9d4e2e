// The bounce mailbox intake: deliverd is pointed at a Maildir folder that a
// mail server delivers bounces, feedback reports and replies into (the
// mailbox behind the VERP return-path domain). Each new message is read as
// feedback, matched to the message it is about (any tenant: our message ids
// are unique, and the VERP address or returned headers name it) and
// applied (so is a reply to a list message's unsubscribe mailto); the file
// then moves to <dir>/done/ (applied, duplicate or
// nothing to do) or <dir>/failed/ (not feedback, no message of ours, or
// unreadable), for a person to look at.
//
// No message is lost on a crash: a file leaves new/ or cur/ only by rename,
// after its feedback was committed; a crash in between means it is read
// again next time, and ingestion's fingerprints make that a no-op. A store
// error leaves the file where it is for the next pass.
//
// Thread-safe: RunOnce() may be called from any thread (passes are
// serialised); Start() runs passes on a thread of its own every
// `poll_interval` until Stop().
#ifndef DELIVERD_SERVER_FEEDBACK_MAILDIR_INTAKE_H_
#define DELIVERD_SERVER_FEEDBACK_MAILDIR_INTAKE_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/feedback/ingester.h"
#include "server/feedback/unsubscribe_token.h"
#include "server/store/store.h"

namespace deliverd::feedback {

struct MaildirIntakeOptions {
  std::string dir;
  absl::Duration poll_interval = absl::Seconds(10);
  // Files larger than this go to failed/ unread.
  int64_t max_file_bytes = 25 * 1024 * 1024;
  // Recognises replies to list messages' unsubscribe mailto (not owned;
  // null: not recognised).
  const ListUnsubscribeConfig* list_unsubscribe = nullptr;
};

struct IntakePass {
  int done = 0;
  int failed = 0;
  int retry = 0;  // left in place after a store error
};

class MaildirIntake {
 public:
  MaildirIntake(store::Store* store, FeedbackIngester* ingester,
                MaildirIntakeOptions options)
      : store_(store), ingester_(ingester), options_(std::move(options)) {}
  ~MaildirIntake() { Stop(); }

  // Creates the Maildir's folders (new, cur, tmp, done, failed) when
  // missing; an error when `dir` cannot be used.
  absl::Status Prepare();
  // Prepare(), then passes on a thread until Stop().
  absl::Status Start();
  void Stop();

  // Reads every file in new/ and cur/ once.
  absl::StatusOr<IntakePass> RunOnce();

 private:
  enum class FileOutcome { kDone, kFailed, kRetry };
  FileOutcome Process(const std::string& path, std::string* why);

  store::Store* store_;
  FeedbackIngester* ingester_;
  MaildirIntakeOptions options_;
  std::mutex pass_mu_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace deliverd::feedback

#endif  // DELIVERD_SERVER_FEEDBACK_MAILDIR_INTAKE_H_
