#include "server/feedback/maildir_intake.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/feedback/bounce_feedback.h"

namespace deliverd::feedback {
namespace {

namespace fs = std::filesystem;

// Moves `path` into `folder` under its own name (plus a counter when the
// name is taken); rename() keeps it atomic within the Maildir.
absl::Status MoveInto(const std::string& path, const std::string& folder) {
  std::string name = fs::path(path).filename().string();
  std::string target = absl::StrCat(folder, "/", name);
  for (int i = 1; fs::exists(target) && i < 1000; ++i) {
    target = absl::StrCat(folder, "/", name, ".", i);
  }
  if (rename(path.c_str(), target.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot move ", path, " to ", folder, ": ",
                     strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MaildirIntake::Prepare() {
  if (options_.dir.empty()) {
    return absl::InvalidArgumentError("feedback-maildir: empty path");
  }
  for (const char* sub : {"new", "cur", "tmp", "done", "failed"}) {
    std::error_code ec;
    fs::create_directories(absl::StrCat(options_.dir, "/", sub), ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("feedback-maildir: cannot create ", options_.dir, "/",
                       sub, ": ", ec.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status MaildirIntake::Start() {
  if (absl::Status s = Prepare(); !s.ok()) return s;
  thread_ = std::thread([this] {
    // A first pass at once, then one per interval until Stop().
    while (true) {
      absl::StatusOr<IntakePass> pass = RunOnce();
      if (!pass.ok()) {
        std::cerr << "deliverd: feedback mailbox: " << pass.status() << "\n";
      }
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, absl::ToChronoNanoseconds(options_.poll_interval),
                     [this] { return stopping_; });
      if (stopping_) return;
    }
  });
  return absl::OkStatus();
}

void MaildirIntake::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<IntakePass> MaildirIntake::RunOnce() {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  std::vector<std::string> files;
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    fs::directory_iterator it(absl::StrCat(options_.dir, "/", sub), ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat(
          "cannot read ", options_.dir, "/", sub, ": ", ec.message()));
    }
    for (const fs::directory_entry& entry : it) {
      std::error_code type_ec;
      if (entry.is_regular_file(type_ec)) files.push_back(entry.path());
    }
  }
  // Oldest names first: Maildir names start with the delivery time.
  std::sort(files.begin(), files.end(), [](const std::string& a,
                                           const std::string& b) {
    return fs::path(a).filename() < fs::path(b).filename();
  });
  IntakePass pass;
  for (const std::string& file : files) {
    std::string why;
    FileOutcome outcome = Process(file, &why);
    absl::Status moved;
    switch (outcome) {
      case FileOutcome::kDone:
        moved = MoveInto(file, absl::StrCat(options_.dir, "/done"));
        ++pass.done;
        break;
      case FileOutcome::kFailed:
        std::cerr << "deliverd: feedback mailbox: " << file << ": " << why
                  << "; moved to failed/\n";
        moved = MoveInto(file, absl::StrCat(options_.dir, "/failed"));
        ++pass.failed;
        break;
      case FileOutcome::kRetry:
        std::cerr << "deliverd: feedback mailbox: " << file << ": " << why
                  << "; will retry\n";
        ++pass.retry;
        break;
    }
    if (!moved.ok()) return moved;
  }
  return pass;
}

MaildirIntake::FileOutcome MaildirIntake::Process(const std::string& path,
                                                  std::string* why) {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    *why = ec.message();
    return FileOutcome::kRetry;
  }
  if (size > static_cast<uintmax_t>(options_.max_file_bytes)) {
    *why = absl::StrCat("larger than ", options_.max_file_bytes, " bytes");
    return FileOutcome::kFailed;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) {
    *why = "cannot read it";
    return FileOutcome::kRetry;
  }
  absl::StatusOr<RawFeedback> raw = ReadRawFeedback(buffer.str(), options_.list_unsubscribe);
  if (!raw.ok()) {
    *why = std::string(raw.status().message());
    return FileOutcome::kFailed;
  }
  if (raw->items.empty()) {
    *why = "not a bounce, delivery report or feedback report";
    return FileOutcome::kFailed;
  }
  // The tenant is the owner of the message the feedback names.
  int64_t tenant_id = 0;
  for (const FeedbackItem& item : raw->items) {
    for (const std::string& id : CandidateMessageIds(item.ref)) {
      absl::StatusOr<int64_t> owner = store_->FindMessageTenant(id);
      if (owner.ok()) {
        tenant_id = *owner;
        break;
      }
      if (!absl::IsNotFound(owner.status())) {
        *why = std::string(owner.status().message());
        return FileOutcome::kRetry;
      }
    }
    if (tenant_id != 0) break;
  }
  if (tenant_id == 0) {
    *why = "names no message of ours";
    return FileOutcome::kFailed;
  }
  absl::StatusOr<IngestResult> result =
      ingester_->Ingest(tenant_id, raw->items, raw->source, absl::Now());
  if (!result.ok()) {
    *why = std::string(result.status().message());
    return FileOutcome::kRetry;
  }
  for (ItemOutcome outcome : result->outcomes) {
    if (outcome == ItemOutcome::kUnmatched) {
      *why = "names no message of ours";
      return FileOutcome::kFailed;
    }
  }
  return FileOutcome::kDone;
}

}  // namespace deliverd::feedback
