// MaildirIntake over a real SqliteStore and a Maildir in a temporary folder.
#include "server/feedback/maildir_intake.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "testing_feedback_store.h"

namespace deliverd::feedback {
namespace {

namespace fs = std::filesystem;

constexpr char kOurs[] = "m_01hyyyyyyyyyyyyyyyyyyyyyy1";
constexpr char kTheirs[] = "m_01hyyyyyyyyyyyyyyyyyyyyyy2";

std::string Dsn(const std::string& id, const std::string& recipient) {
  return absl::StrCat(
      "From: MAILER-DAEMON@mx.example\r\n"
      "To: bounce+", id, "@sender.example\r\n"
      "Subject: Delivery Status Notification (Failure)\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; "
      "boundary=\"x\"\r\n\r\n"
      "--x\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n"
      "--x\r\nContent-Type: message/delivery-status\r\n\r\n"
      "Reporting-MTA: dns; mx.example\r\n\r\n"
      "Final-Recipient: rfc822; ", recipient, "\r\n"
      "Action: failed\r\nStatus: 5.1.1\r\n"
      "Diagnostic-Code: smtp; 550 5.1.1 no such mailbox\r\n"
      "--x--\r\n");
}

class MaildirIntakeTest : public testing::FeedbackStoreTest {
 protected:
  void SetUp() override {
    FeedbackStoreTest::SetUp();
    if (HasFatalFailure()) return;
    Insert(tenant_, kOurs, {"gone@example.org"});
    Insert(other_, kTheirs, {"left@example.org"});
    ingester_ = std::make_unique<FeedbackIngester>(store_.get(),
                                                   hygiene::SoftBouncePolicy{});
    MaildirIntakeOptions options;
    options.dir = dir_ + "/bounces";
    intake_ = std::make_unique<MaildirIntake>(store_.get(), ingester_.get(),
                                              options);
    ASSERT_TRUE(intake_->Prepare().ok());
  }
  void TearDown() override {
    intake_.reset();
    ingester_.reset();
    FeedbackStoreTest::TearDown();
  }

  void Deliver(const std::string& sub, const std::string& name,
               const std::string& content) {
    std::ofstream(absl::StrCat(dir_, "/bounces/", sub, "/", name),
                  std::ios::binary)
        << content;
  }
  bool In(const std::string& sub, const std::string& name) {
    return fs::exists(absl::StrCat(dir_, "/bounces/", sub, "/", name));
  }
  store::MessageStatus StatusOf(int64_t tenant, const std::string& id) {
    auto m = store_->GetMessage(tenant, id, false);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? m->status : store::MessageStatus::kUnspecified;
  }

  std::unique_ptr<FeedbackIngester> ingester_;
  std::unique_ptr<MaildirIntake> intake_;
};

TEST_F(MaildirIntakeTest, AppliesEachTenantsBouncesAndFilesThem) {
  Deliver("new", "1800000001.a.host", Dsn(kOurs, "gone@example.org"));
  Deliver("cur", "1800000002.b.host:2,S", Dsn(kTheirs, "left@example.org"));
  Deliver("new", "1800000003.c.host",
          "From: friend@example.net\r\nSubject: lunch?\r\n\r\nAre you free?\r\n");
  Deliver("new", "1800000004.d.host",
          Dsn("m_01hyyyyyyyyyyyyyyyyyyyyyy9", "who@example.org"));
  absl::StatusOr<IntakePass> pass = intake_->RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->done, 2);
  EXPECT_EQ(pass->failed, 2);
  EXPECT_EQ(pass->retry, 0);
  EXPECT_TRUE(In("done", "1800000001.a.host"));
  EXPECT_TRUE(In("done", "1800000002.b.host:2,S"));
  EXPECT_TRUE(In("failed", "1800000003.c.host"));
  EXPECT_TRUE(In("failed", "1800000004.d.host"));
  EXPECT_FALSE(In("new", "1800000001.a.host"));
  // Each bounce was applied to its own tenant's message.
  EXPECT_EQ(StatusOf(tenant_, kOurs), store::MessageStatus::kBounced);
  EXPECT_EQ(StatusOf(other_, kTheirs), store::MessageStatus::kBounced);
  // Nothing left to do.
  pass = intake_->RunOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->done + pass->failed + pass->retry, 0);
}

TEST_F(MaildirIntakeTest, ASecondCopyIsADuplicateAndKeepsItsName) {
  Deliver("new", "one", Dsn(kOurs, "gone@example.org"));
  ASSERT_TRUE(intake_->RunOnce().ok());
  auto events = store_->MessageEvents(tenant_, kOurs);
  ASSERT_TRUE(events.ok());
  size_t count = events->size();
  // The same bounce again under the same name (a crash before the move
  // looks like this): filed, nothing applied twice, the first copy kept.
  Deliver("new", "one", Dsn(kOurs, "gone@example.org"));
  absl::StatusOr<IntakePass> pass = intake_->RunOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->done, 1);
  EXPECT_TRUE(In("done", "one"));
  EXPECT_TRUE(In("done", "one.1"));
  events = store_->MessageEvents(tenant_, kOurs);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), count);
}

TEST_F(MaildirIntakeTest, OversizedFilesFailUnread) {
  MaildirIntakeOptions options;
  options.dir = dir_ + "/bounces";
  options.max_file_bytes = 100;
  MaildirIntake small(store_.get(), ingester_.get(), options);
  Deliver("new", "big", Dsn(kOurs, "gone@example.org"));
  absl::StatusOr<IntakePass> pass = small.RunOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->failed, 1);
  EXPECT_TRUE(In("failed", "big"));
  EXPECT_EQ(StatusOf(tenant_, kOurs), store::MessageStatus::kSent);
}

TEST_F(MaildirIntakeTest, AnUnusableFolderIsAnError) {
  std::ofstream(dir_ + "/plain-file") << "x";
  MaildirIntakeOptions options;
  options.dir = dir_ + "/plain-file";
  MaildirIntake bad(store_.get(), ingester_.get(), options);
  EXPECT_FALSE(bad.Prepare().ok());
  options.dir = "";
  MaildirIntake empty(store_.get(), ingester_.get(), options);
  EXPECT_FALSE(empty.Prepare().ok());
}

TEST_F(MaildirIntakeTest, StartAndStopRunPassesOnAThread) {
  Deliver("new", "threaded", Dsn(kOurs, "gone@example.org"));
  ASSERT_TRUE(intake_->Start().ok());
  // Stop() waits for the pass that Start() begins at once.
  intake_->Stop();
  EXPECT_TRUE(In("done", "threaded"));
}

}  // namespace
}  // namespace deliverd::feedback
