// The bounce mailbox intake (--feedback-maildir) on a running deliverd
// (outbox transport): deliverd creates the Maildir's folders; a DSN for a
// sent message delivered into new/ (or cur/) bounces the message and moves
// the file to done/; mail that is not feedback, or feedback about no
// message of ours, moves to failed/; a reply to a list message's
// unsubscribe mailto unsubscribes the recipient from the list.
//
// Files are delivered the Maildir way: written to tmp/, then renamed into
// new/. Every wait is bounded polling (GetMessage, GetSubscription, the
// folder's listing) against a deadline.
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr Millis kWait = Seconds(15);
constexpr Millis kPoll(20);

// A folder of our own (the server's folder is made by Deliverd::Start,
// after the flags are fixed) holding the Maildir.
const std::string& MaildirRoot() {
  static const std::string* root = [] {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(
        base != nullptr && *base != '\0' ? base : "/tmp",
        "/deliverd-maildir-e2e.XXXXXX");
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    const char* made = mkdtemp(buffer.data());
    return new std::string(made != nullptr ? made : "");
  }();
  return *root;
}

// Not created by the test: deliverd makes it and its folders.
std::string Maildir() { return MaildirRoot() + "/bounces"; }

class FeedbackMaildirTest : public SharedDeliverdTest<FeedbackMaildirTest> {
 public:
  static std::vector<std::string> Flags() {
    return {"--feedback-maildir", Maildir(), "--feedback-maildir-poll",
            "200ms", "--unsubscribe-url", "https://lists.example/unsubscribe"};
  }
  static void TearDownTestSuite() {
    SharedDeliverdTest<FeedbackMaildirTest>::TearDownTestSuite();
    if (getenv("DELIVERD_E2E_KEEP") == nullptr && !MaildirRoot().empty()) {
      std::error_code ec;
      fs::remove_all(MaildirRoot(), ec);
    }
  }
};

// --- Maildir delivery --------------------------------------------------------

std::atomic<int> g_delivery{0};

// A unique Maildir file name ("<time>.<unique>.<host>").
std::string NewFileName() {
  return absl::StrCat(time(nullptr), ".M", g_delivery.fetch_add(1), "P",
                      getpid(), ".e2e-host");
}

// Writes `contents` to tmp/<name>, then renames it into `folder` ("new" or
// "cur", where a read message's name carries ":2,<flags>").
absl::Status Deliver(const std::string& name, const std::string& contents,
                     const std::string& folder = "new") {
  std::string tmp = absl::StrCat(Maildir(), "/tmp/", name);
  {
    std::ofstream out(tmp, std::ios::binary);
    out << contents;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  std::string target = absl::StrCat(Maildir(), "/", folder, "/", name);
  if (rename(tmp.c_str(), target.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename into ", target));
  }
  return absl::OkStatus();
}

// Waits (bounded) until `folder`/`name` exists and is no longer in new/
// or cur/; an error naming where the file is otherwise.
absl::Status WaitForFileIn(const std::string& folder, const std::string& name,
                           Millis timeout = kWait) {
  std::string path = absl::StrCat(Maildir(), "/", folder, "/", name);
  Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (fs::exists(path)) return absl::OkStatus();
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  std::string where = "nowhere";
  for (const char* sub : {"new", "cur", "tmp", "done", "failed"}) {
    if (fs::exists(absl::StrCat(Maildir(), "/", sub, "/", name))) where = sub;
  }
  return absl::DeadlineExceededError(absl::StrCat(
      name, " not in ", folder, "/ after ", timeout.count(), " ms; it is in ",
      where));
}

// Polls GetMessage until the status is `want` (through any other status,
// SENT included: the feedback arrives after the message was sent).
absl::StatusOr<v1::Message> WaitForMessageStatus(Client& client,
                                                 const std::string& id,
                                                 v1::MessageStatus want,
                                                 Millis timeout = kWait) {
  Clock::time_point deadline = Clock::now() + timeout;
  v1::MessageStatus last = v1::MESSAGE_STATUS_UNSPECIFIED;
  while (true) {
    absl::StatusOr<v1::Message> m = client.GetMessage(id);
    if (!m.ok()) return m.status();
    last = m->status();
    if (last == want) return m;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  return absl::DeadlineExceededError(
      absl::StrCat(id, " still ", StatusName(last), ", expected ",
                   StatusName(want)));
}

absl::StatusOr<v1::Subscription> GetSubscription(Client& client,
                                                 const std::string& address,
                                                 const std::string& list) {
  v1::GetSubscriptionRequest request;
  request.set_address(address);
  request.set_list(list);
  v1::Subscription response;
  grpc::Status s = client.subscriptions().GetSubscription(
      client.Context().get(), request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::Subscription> WaitForSubscriptionState(
    Client& client, const std::string& address, const std::string& list,
    v1::SubscriptionState want, Millis timeout = kWait) {
  Clock::time_point deadline = Clock::now() + timeout;
  v1::SubscriptionState last = v1::SUBSCRIPTION_STATE_UNSPECIFIED;
  while (true) {
    absl::StatusOr<v1::Subscription> sub =
        GetSubscription(client, address, list);
    if (!sub.ok()) return sub.status();
    last = sub->state();
    if (last == want) return sub;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  return absl::DeadlineExceededError(
      absl::StrCat(address, " on ", list, " still in state ",
                   v1::SubscriptionState_Name(last)));
}

absl::StatusOr<v1::CheckSuppressionResponse> Check(Client& client,
                                                   const std::string& address,
                                                   const std::string& stream) {
  v1::CheckSuppressionRequest request;
  request.add_addresses(address);
  request.set_stream(stream);
  return client.CheckSuppression(request);
}

// --- Mail ---------------------------------------------------------------------

// An Exim-flavoured DSN returned to the VERP address of message `id` (sent
// from mail.shop.test), failing `recipient`.
std::string Dsn(const std::string& id, const std::string& recipient,
                const std::string& status, const std::string& diagnostic) {
  return absl::StrCat(
      "Return-Path: <>\r\n"
      "Delivered-To: bounce+", id, "@mail.shop.test\r\n"
      "From: Mail Delivery System <Mailer-Daemon@relay.mail.shop.test>\r\n"
      "To: bounce+", id, "@mail.shop.test\r\n"
      "Subject: Mail delivery failed: returning message to sender\r\n"
      "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
      "Message-ID: <bounce-", id, "@relay.mail.shop.test>\r\n"
      "Auto-Submitted: auto-replied\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status;\r\n"
      " boundary=\"=_report_7d2\"\r\n"
      "\r\n"
      "--=_report_7d2\r\n"
      "Content-Type: text/plain; charset=us-ascii\r\n"
      "\r\n"
      "A message that you sent could not be delivered to one or more of\r\n"
      "its recipients. This is a permanent error.\r\n"
      "--=_report_7d2\r\n"
      "Content-Type: message/delivery-status\r\n"
      "\r\n"
      "Reporting-MTA: dns; relay.mail.shop.test\r\n"
      "Arrival-Date: Thu, 26 Nov 2026 11:59:58 +0000\r\n"
      "\r\n"
      "Original-Recipient: rfc822;", recipient, "\r\n"
      "Final-Recipient: rfc822;", recipient, "\r\n"
      "Action: failed\r\n"
      "Status: ", status, "\r\n"
      "Remote-MTA: dns; mx1.example.net\r\n"
      "Diagnostic-Code: smtp; ", diagnostic, "\r\n"
      "\r\n"
      "--=_report_7d2\r\n"
      "Content-Type: text/rfc822-headers\r\n"
      "\r\n"
      "From: orders@mail.shop.test\r\n"
      "To: ", recipient, "\r\n"
      "Subject: Your order has shipped\r\n"
      "Message-ID: <", id, "@mail.shop.test>\r\n"
      "X-Deliverd-Id: ", id, "\r\n"
      "--=_report_7d2--\r\n");
}

std::string PersonalMail() {
  return "From: Alex Doe <alex@example.net>\r\n"
         "To: orders@mail.shop.test\r\n"
         "Subject: where is my parcel?\r\n"
         "Date: Thu, 26 Nov 2026 12:05:00 +0000\r\n"
         "Message-ID: <question-19@example.net>\r\n"
         "\r\n"
         "Hello, my parcel has not arrived yet. Regards, Alex\r\n";
}

std::string UnsubscribeReply(const std::string& mailbox,
                             const std::string& tag) {
  return absl::StrCat(
      "Delivered-To: ", mailbox, "\r\n"
      "From: reader@example.org\r\n"
      "To: ", mailbox, "\r\n"
      "Subject: unsubscribe\r\n"
      "Date: Thu, 26 Nov 2026 12:10:00 +0000\r\n"
      "Message-ID: <unsub-reply-", tag, "@example.org>\r\n"
      "\r\n"
      "unsubscribe\r\n");
}

// The token of the mailto in an .eml's List-Unsubscribe header.
std::string MailtoToken(const std::string& eml) {
  const std::string start = "<mailto:unsub+";
  size_t at = eml.find(start);
  if (at == std::string::npos) return "";
  at += start.size();
  size_t end = eml.find('@', at);
  return end == std::string::npos ? "" : eml.substr(at, end - at);
}

// --- Tests --------------------------------------------------------------------

TEST_F(FeedbackMaildirTest, CreatesTheMaildirFolders) {
  for (const char* sub : {"new", "cur", "tmp", "done", "failed"}) {
    EXPECT_TRUE(fs::is_directory(absl::StrCat(Maildir(), "/", sub))) << sub;
  }
}

TEST_F(FeedbackMaildirTest, DsnInNewBouncesTheMessageAndMovesToDone) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Message sent,
      client.Send(MakeSend("orders@mail.shop.test", "nobody@example.net",
                           "Your order has shipped", "Tracking: 1Z999")));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));

  std::string name = NewFileName();
  ASSERT_OK(Deliver(name, Dsn(sent.id(), "nobody@example.net", "5.1.1",
                              "550 5.1.1 <nobody@example.net>: Recipient "
                              "address rejected: User unknown")));
  ASSERT_OK_AND_ASSIGN(
      v1::Message bounced,
      WaitForMessageStatus(client, sent.id(), v1::MESSAGE_STATUS_BOUNCED));
  ASSERT_EQ(bounced.recipients_size(), 1);
  EXPECT_EQ(bounced.recipients(0).status(), v1::MESSAGE_STATUS_BOUNCED);
  EXPECT_EQ(bounced.recipients(0).last_reply().enhanced_code(), "5.1.1");
  ASSERT_FALSE(bounced.events().empty());
  EXPECT_EQ(bounced.events(bounced.events_size() - 1).type(),
            v1::EVENT_TYPE_BOUNCED);

  ASSERT_OK(WaitForFileIn("done", name));
  EXPECT_FALSE(fs::exists(absl::StrCat(Maildir(), "/new/", name)));
  EXPECT_FALSE(fs::exists(absl::StrCat(Maildir(), "/failed/", name)));

  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse check,
                       Check(client, "nobody@example.net", ""));
  EXPECT_TRUE(check.results(0).suppressed());
  EXPECT_EQ(check.results(0).suppression().reason(),
            v1::SUPPRESSION_REASON_HARD_BOUNCE);
  EXPECT_EQ(check.results(0).suppression().source_message(), sent.name());

  // The same DSN delivered again (a second copy) is a no-op: done/, and
  // the message's history does not grow.
  int events_before = bounced.events_size();
  std::string copy = NewFileName();
  ASSERT_OK(Deliver(copy, Dsn(sent.id(), "nobody@example.net", "5.1.1",
                              "550 5.1.1 <nobody@example.net>: Recipient "
                              "address rejected: User unknown")));
  ASSERT_OK(WaitForFileIn("done", copy));
  ASSERT_OK_AND_ASSIGN(v1::Message again, client.GetMessage(sent.id()));
  EXPECT_EQ(again.status(), v1::MESSAGE_STATUS_BOUNCED);
  EXPECT_EQ(again.events_size(), events_before);
}

TEST_F(FeedbackMaildirTest, DsnInCurIsReadToo) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Message sent,
      client.Send(MakeSend("orders@mail.shop.test", "closed@example.net",
                           "Invoice", "Attached.")));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));

  // A mail client already looked at it: cur/ with the info suffix.
  std::string name = NewFileName() + ":2,S";
  ASSERT_OK(Deliver(name,
                    Dsn(sent.id(), "closed@example.net", "5.1.2",
                        "550 5.1.2 mailbox closed permanently"),
                    "cur"));
  ASSERT_OK(WaitForMessageStatus(client, sent.id(),
                                 v1::MESSAGE_STATUS_BOUNCED));
  ASSERT_OK(WaitForFileIn("done", name));
  EXPECT_FALSE(fs::exists(absl::StrCat(Maildir(), "/cur/", name)));
}

TEST_F(FeedbackMaildirTest, MailThatIsNotFeedbackMovesToFailed) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Message sent,
      client.Send(MakeSend("orders@mail.shop.test", "alex@example.net",
                           "Your order has shipped", "Tracking: 1Z998")));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));

  std::string name = NewFileName();
  ASSERT_OK(Deliver(name, PersonalMail()));
  ASSERT_OK(WaitForFileIn("failed", name));
  EXPECT_FALSE(fs::exists(absl::StrCat(Maildir(), "/new/", name)));
  EXPECT_FALSE(fs::exists(absl::StrCat(Maildir(), "/done/", name)));
  // Its contents are kept for a person to read.
  std::optional<std::string> kept =
      ReadFile(absl::StrCat(Maildir(), "/failed/", name));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(*kept, PersonalMail());

  ASSERT_OK_AND_ASSIGN(v1::Message m, client.GetMessage(sent.id()));
  EXPECT_EQ(m.status(), v1::MESSAGE_STATUS_SENT);
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse check,
                       Check(client, "alex@example.net", ""));
  EXPECT_FALSE(check.results(0).suppressed());
}

TEST_F(FeedbackMaildirTest, DsnAboutNoMessageOfOursMovesToFailed) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      v1::Message sent,
      client.Send(MakeSend("orders@mail.shop.test", "kept@example.net",
                           "Hello", "x")));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));
  // An id of the same shape that was never issued.
  std::string unknown = sent.id();
  unknown.back() = unknown.back() == 'z' ? 'y' : 'z';

  std::string name = NewFileName();
  ASSERT_OK(Deliver(name, Dsn(unknown, "kept@example.net", "5.1.1",
                              "550 5.1.1 User unknown")));
  ASSERT_OK(WaitForFileIn("failed", name));
  ASSERT_OK_AND_ASSIGN(v1::Message m, client.GetMessage(sent.id()));
  EXPECT_EQ(m.status(), v1::MESSAGE_STATUS_SENT);
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse check,
                       Check(client, "kept@example.net", ""));
  EXPECT_FALSE(check.results(0).suppressed());
}

TEST_F(FeedbackMaildirTest, UnsubscribeReplyUnsubscribesFromTheList) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SubscribeRequest subscribe;
  subscribe.set_address("reader@example.org");
  subscribe.set_list("news");
  v1::Subscription subscribed;
  ASSERT_TRUE(client.subscriptions()
                  .Subscribe(client.Context().get(), subscribe, &subscribed)
                  .ok());
  v1::SendRequest request = MakeSend("news@mail.shop.test",
                                     "reader@example.org", "Weekly news",
                                     "This week in the shop.");
  request.set_list("news");
  ASSERT_OK_AND_ASSIGN(v1::Message sent, client.Send(request));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));
  std::optional<std::string> eml = ReadFile(server().OutboxFile(sent.id()));
  ASSERT_TRUE(eml.has_value()) << server().OutboxFile(sent.id());
  std::string token = MailtoToken(*eml);
  ASSERT_TRUE(absl::StartsWith(token, sent.id() + ".")) << *eml;

  // First a forged token: not feedback, nothing changes.
  std::string forged = token;
  forged.back() = forged.back() == '0' ? '1' : '0';
  std::string forged_name = NewFileName();
  ASSERT_OK(Deliver(forged_name, UnsubscribeReply(absl::StrCat(
                                     "unsub+", forged, "@mail.shop.test"),
                                                   "forged")));
  ASSERT_OK(WaitForFileIn("failed", forged_name));
  ASSERT_OK_AND_ASSIGN(v1::Subscription still,
                       GetSubscription(client, "reader@example.org", "news"));
  EXPECT_EQ(still.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);

  std::string name = NewFileName();
  ASSERT_OK(Deliver(name, UnsubscribeReply(absl::StrCat(
                              "unsub+", token, "@mail.shop.test"),
                                            "genuine")));
  ASSERT_OK_AND_ASSIGN(
      v1::Subscription after,
      WaitForSubscriptionState(client, "reader@example.org", "news",
                               v1::SUBSCRIPTION_STATE_UNSUBSCRIBED));
  EXPECT_EQ(after.source(), "list-unsubscribe");
  ASSERT_OK(WaitForFileIn("done", name));

  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse news,
                       Check(client, "reader@example.org", "news"));
  EXPECT_TRUE(news.results(0).suppressed());
  EXPECT_EQ(news.results(0).suppression().reason(),
            v1::SUPPRESSION_REASON_UNSUBSCRIBED);
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse any,
                       Check(client, "reader@example.org", ""));
  EXPECT_FALSE(any.results(0).suppressed());

  ASSERT_OK_AND_ASSIGN(v1::Message history, client.GetMessage(sent.id()));
  bool unsubscribed_event = false;
  for (const v1::Event& e : history.events()) {
    if (e.type() == v1::EVENT_TYPE_UNSUBSCRIBED) unsubscribed_event = true;
  }
  EXPECT_TRUE(unsubscribed_event) << history.DebugString();

  absl::Status list_again = client.Send(request).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(list_again)) << list_again;
  EXPECT_THAT(list_again.message(), HasSubstr("unsubscribed"));
  ASSERT_OK_AND_ASSIGN(
      v1::Message receipt,
      client.Send(MakeSend("orders@mail.shop.test", "reader@example.org",
                           "Receipt", "Thanks.")));
  EXPECT_OK(client.WaitForStatus(receipt.id(), v1::MESSAGE_STATUS_SENT));
}

}  // namespace
}  // namespace deliverd::e2e
