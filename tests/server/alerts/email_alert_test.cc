// The email alert channel: recipient validation, the composed message, the
// retry schedule against a fake transport and clock, and one real SMTP
// transaction through SmtpRelayTransport to the scriptable test server.
#include "server/alerts/email_alert.h"

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/alerts/truncate.h"
#include "server/delivery/smtp_relay_transport.h"
#include "testing/smtp_server.h"
#include "testing_fakes.h"
#include "testing_sample_alert.h"

namespace deliverd::alerts {
namespace {

using ::deliverd::delivery::Envelope;
using ::deliverd::delivery::Outcome;
using ::deliverd::delivery::RecipientOutcome;
using ::deliverd::delivery::TransportResult;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

EmailAlertSettings Settings() {
  EmailAlertSettings settings;
  settings.from = "alerts@deliverd.example.com";
  return settings;
}

RetryPolicy ExactPolicy() {
  RetryPolicy policy;
  policy.max_attempts = 4;
  policy.initial_delay = absl::Seconds(1);
  policy.max_delay = absl::Seconds(30);
  policy.jitter = 0;
  return policy;
}

// The header section of a message, split into unfolded fields.
std::vector<std::pair<std::string, std::string>> Fields(
    const std::string& message) {
  const size_t end = message.find("\r\n\r\n");
  const std::string head = absl::StrReplaceAll(
      message.substr(0, end), {{"\r\n ", " "}, {"\r\n\t", "\t"}});
  std::vector<std::pair<std::string, std::string>> fields;
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) {
      fields.emplace_back(std::string(line), "");
      continue;
    }
    fields.emplace_back(
        std::string(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return fields;
}

std::vector<std::string> FieldValues(const std::string& message,
                                     absl::string_view name) {
  std::vector<std::string> values;
  for (const auto& [field, value] : Fields(message)) {
    if (absl::EqualsIgnoreCase(field, name)) values.push_back(value);
  }
  return values;
}

std::string Body(const std::string& message) {
  const size_t end = message.find("\r\n\r\n");
  return end == std::string::npos ? "" : message.substr(end + 4);
}

// ---------------------------------------------------------------------------
// Recipients.

TEST(ValidateEmailAlertRecipientsTest, AcceptsOneToTenDistinctMailboxes) {
  EXPECT_TRUE(ValidateEmailAlertRecipients({"ops@example.com"}).ok());
  std::vector<std::string> ten;
  for (int i = 0; i < 10; ++i) {
    ten.push_back("ops" + std::to_string(i) + "@example.com");
  }
  EXPECT_TRUE(ValidateEmailAlertRecipients(ten).ok());
}

TEST(ValidateEmailAlertRecipientsTest, RefusesWithTheIndexAndReason) {
  absl::Status empty = ValidateEmailAlertRecipients({});
  EXPECT_TRUE(absl::IsInvalidArgument(empty));
  EXPECT_THAT(std::string(empty.message()), HasSubstr("at least one"));

  std::vector<std::string> eleven;
  for (int i = 0; i < 11; ++i) {
    eleven.push_back("ops" + std::to_string(i) + "@example.com");
  }
  absl::Status many = ValidateEmailAlertRecipients(eleven);
  EXPECT_TRUE(absl::IsInvalidArgument(many));
  EXPECT_THAT(std::string(many.message()), HasSubstr("at most 10"));

  absl::Status bad = ValidateEmailAlertRecipients(
      {"a@example.com", "b@example.com", "no-at-sign", "c@example.com"});
  EXPECT_TRUE(absl::IsInvalidArgument(bad));
  EXPECT_THAT(std::string(bad.message()), StartsWith("email_to[2]: "));
  EXPECT_THAT(std::string(bad.message()), HasSubstr("syntax.missing_at"));

  absl::Status injected =
      ValidateEmailAlertRecipients({"a@example.com\r\nRCPT TO:<x@y.z>"});
  EXPECT_TRUE(absl::IsInvalidArgument(injected));
  EXPECT_THAT(std::string(injected.message()), StartsWith("email_to[0]: "));

  // Domains compare case-insensitively once normalised.
  absl::Status repeated =
      ValidateEmailAlertRecipients({"ops@example.com", "ops@EXAMPLE.com"});
  EXPECT_TRUE(absl::IsInvalidArgument(repeated));
  EXPECT_EQ(repeated.message(),
            "email_to[1]: is the same address as email_to[0]");
}

// ---------------------------------------------------------------------------
// The message.

TEST(ComposeAlertEmailTest, WritesTheHeadersAndTheTextBody) {
  absl::StatusOr<std::string> message =
      ComposeAlertEmail(SampleAlert(), Settings(),
                        {"ops@example.org", "oncall@example.org"}, kStart);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_THAT(FieldValues(*message, "From"),
              ElementsAre(HasSubstr("deliverd alerts")));
  EXPECT_THAT(FieldValues(*message, "From"),
              ElementsAre(HasSubstr("<alerts@deliverd.example.com>")));
  EXPECT_THAT(FieldValues(*message, "To"),
              ElementsAre("ops@example.org, oncall@example.org"));
  EXPECT_THAT(FieldValues(*message, "Subject"),
              ElementsAre("[deliverd] Hard bounce to bob@example.com"));
  EXPECT_THAT(FieldValues(*message, "Date"),
              ElementsAre("Tue, 14 Nov 2023 22:13:20 +0000"));
  EXPECT_THAT(FieldValues(*message, "Message-ID"),
              ElementsAre(MatchesRegex(
                  "<alert_[0-9a-f]{32}@deliverd\\.example\\.com>")));
  EXPECT_THAT(FieldValues(*message, "Auto-Submitted"),
              ElementsAre("auto-generated"));
  EXPECT_THAT(FieldValues(*message, "X-Auto-Response-Suppress"),
              ElementsAre("All"));
  EXPECT_THAT(FieldValues(*message, "Content-Type"),
              ElementsAre(StartsWith("text/plain")));
  EXPECT_EQ(Body(*message),
            absl::StrReplaceAll(kSampleText, {{"\n", "\r\n"}}) + "\r\n");
}

TEST(ComposeAlertEmailTest, EachMessageGetsItsOwnMessageId) {
  const auto first =
      ComposeAlertEmail(SampleAlert(), Settings(), {"ops@example.org"}, kStart);
  const auto second =
      ComposeAlertEmail(SampleAlert(), Settings(), {"ops@example.org"}, kStart);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(FieldValues(*first, "Message-ID"),
            FieldValues(*second, "Message-ID"));
}

TEST(ComposeAlertEmailTest, ATitleWithLineBreaksCannotInjectHeaders) {
  Alert alert = SampleAlert();
  static constexpr char kTitle[] =
      "Oops\r\nBcc: evil@example.net\nX-Injected: yes\r\n\r\nbody?\0end";
  alert.title = std::string(kTitle, sizeof(kTitle) - 1);
  absl::StatusOr<std::string> message =
      ComposeAlertEmail(alert, Settings(), {"ops@example.org"}, kStart);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_THAT(FieldValues(*message, "Bcc"), IsEmpty());
  EXPECT_THAT(FieldValues(*message, "X-Injected"), IsEmpty());
  EXPECT_THAT(
      FieldValues(*message, "Subject"),
      ElementsAre(
          "[deliverd] Oops Bcc: evil@example.net X-Injected: yes body? end"));
  // Every header line is a field or a continuation.
  const std::string head = message->substr(0, message->find("\r\n\r\n"));
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    EXPECT_TRUE(absl::StartsWith(line, " ") || absl::StartsWith(line, "\t") ||
                absl::StrContains(line, ":"))
        << line;
  }
  // The body has no NUL (the composer would refuse it).
  EXPECT_THAT(*message, Not(HasSubstr(std::string(1, '\0'))));
}

TEST(ComposeAlertEmailTest, BoundsALongTitleAndEncodesNonAscii) {
  Alert alert = SampleAlert();
  for (int i = 0; i < 100; ++i) alert.title += "word ";
  absl::StatusOr<std::string> message =
      ComposeAlertEmail(alert, Settings(), {"ops@example.org"}, kStart);
  ASSERT_TRUE(message.ok()) << message.status();
  ASSERT_THAT(FieldValues(*message, "Subject"), SizeIs(1));
  const std::string subject = FieldValues(*message, "Subject")[0];
  EXPECT_THAT(subject, StartsWith("[deliverd] Hard bounce to bob@example.com"
                                  "word word"));
  EXPECT_THAT(subject, EndsWith(std::string(kTruncationMarker)));
  EXPECT_LE(subject.size(), kEmailAlertSubjectPrefix.size() + kMaxTitleBytes);

  alert.title = "Échec de livraison à bob@example.com";
  message = ComposeAlertEmail(alert, Settings(), {"ops@example.org"}, kStart);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_THAT(FieldValues(*message, "Subject"),
              ElementsAre(HasSubstr("=?UTF-8?Q?")));
}

TEST(ComposeAlertEmailTest, RefusesInvalidAddresses) {
  EmailAlertSettings bad_from = Settings();
  bad_from.from = "alerts";
  absl::StatusOr<std::string> message =
      ComposeAlertEmail(SampleAlert(), bad_from, {"ops@example.org"}, kStart);
  EXPECT_TRUE(absl::IsInvalidArgument(message.status()));
  EXPECT_THAT(std::string(message.status().message()), HasSubstr("from"));

  message = ComposeAlertEmail(SampleAlert(), Settings(),
                              {"ops@example.org", "x"}, kStart);
  EXPECT_TRUE(absl::IsInvalidArgument(message.status()));
  EXPECT_THAT(std::string(message.status().message()),
              StartsWith("email_to[1]"));
}

// ---------------------------------------------------------------------------
// Delivery with a fake transport.

// "451 4.3.0 Try later" -> the outcome a transport reports.
RecipientOutcome OutcomeOf(const std::string& address,
                           absl::string_view reply) {
  RecipientOutcome out;
  out.address = address;
  std::vector<absl::string_view> parts =
      absl::StrSplit(reply, absl::MaxSplits(' ', 2));
  int code = 0;
  EXPECT_TRUE(absl::SimpleAtoi(parts[0], &code));
  out.reply.code = code;
  if (parts.size() > 1) out.reply.enhanced_code = std::string(parts[1]);
  if (parts.size() > 2) out.reply.text = std::string(parts[2]);
  out.outcome = code < 400   ? Outcome::kAccepted
                : code < 500 ? Outcome::kTransient
                             : Outcome::kPermanent;
  return out;
}

// Answers each call from a script; records what it was given.
class FakeTransport : public delivery::Transport {
 public:
  // The answer to call `call` (0-based) for one envelope.
  using Script = std::function<absl::StatusOr<TransportResult>(
      int call, const Envelope& envelope)>;

  explicit FakeTransport(Script script) : script_(std::move(script)) {}

  absl::StatusOr<TransportResult> Send(const Envelope& envelope,
                                       absl::string_view data) override {
    int call;
    {
      absl::MutexLock lock(&mu_);
      call = static_cast<int>(envelopes_.size());
      envelopes_.push_back(envelope);
      data_.emplace_back(data);
    }
    return script_(call, envelope);
  }
  std::string name() const override { return "fake"; }

  std::vector<Envelope> envelopes() {
    absl::MutexLock lock(&mu_);
    return envelopes_;
  }
  std::vector<std::string> data() {
    absl::MutexLock lock(&mu_);
    return data_;
  }

 private:
  const Script script_;
  absl::Mutex mu_;
  std::vector<Envelope> envelopes_;
  std::vector<std::string> data_;
};

// Every recipient gets reply(call, address).
FakeTransport::Script ReplyEach(
    std::function<std::string(int call, const std::string& address)> reply) {
  return [reply](int call,
                 const Envelope& envelope) -> absl::StatusOr<TransportResult> {
    TransportResult result;
    for (const std::string& rcpt : envelope.rcpt_to) {
      result.recipients.push_back(OutcomeOf(rcpt, reply(call, rcpt)));
    }
    result.detail = "fake";
    return result;
  };
}

std::vector<std::string> Rcpts(const Envelope& envelope) {
  return envelope.rcpt_to;
}

const std::vector<std::string> kTwo = {"ops@example.org", "oncall@example.org"};

TEST(EmailAlertDeliveryTest, AcceptedAtOnce) {
  FakeClock clock(kStart);
  FakeTransport transport(
      ReplyEach([](int, const std::string&) { return "250 2.0.0 Ok: Q1"; }));
  EmailAlertDelivery delivery(&transport, &clock, ExactPolicy());
  const DeliveryRecord record =
      delivery.Deliver("email:ops", SampleAlert(), Settings(), kTwo);
  EXPECT_TRUE(record.accepted);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.status_code, 250);
  EXPECT_EQ(record.channel, "email:ops");
  EXPECT_EQ(record.destination, "email:ops@example.org, oncall@example.org");
  EXPECT_EQ(record.error, "");
  EXPECT_EQ(record.first_attempt, kStart);
  EXPECT_EQ(record.last_attempt, kStart);
  EXPECT_THAT(clock.sleeps(), IsEmpty());

  ASSERT_THAT(transport.envelopes(), SizeIs(1));
  const Envelope envelope = transport.envelopes()[0];
  EXPECT_EQ(envelope.mail_from, "alerts@deliverd.example.com");
  EXPECT_THAT(envelope.rcpt_to, ElementsAre(kTwo[0], kTwo[1]));
  EXPECT_THAT(envelope.message_id, MatchesRegex("alert_[0-9a-f]{32}"));
  EXPECT_FALSE(envelope.smtputf8);
  const std::string data = transport.data()[0];
  EXPECT_THAT(FieldValues(data, "Subject"),
              ElementsAre("[deliverd] Hard bounce to bob@example.com"));
  EXPECT_THAT(FieldValues(data, "X-Deliverd-Id"),
              ElementsAre(envelope.message_id));
  EXPECT_THAT(Body(data), HasSubstr("Evidence: 550 5.1.1"));
}

TEST(EmailAlertDeliveryTest, UsesTheEnvelopeSenderWhenSet) {
  FakeClock clock(kStart);
  FakeTransport transport(
      ReplyEach([](int, const std::string&) { return "250 2.0.0 Ok"; }));
  EmailAlertDelivery delivery(&transport, &clock, ExactPolicy());
  EmailAlertSettings settings = Settings();
  settings.envelope_from = "bounces@deliverd.example.com";
  EXPECT_TRUE(
      delivery
          .Deliver("email:ops", SampleAlert(), settings, {"ops@example.org"})
          .accepted);
  ASSERT_THAT(transport.envelopes(), SizeIs(1));
  EXPECT_EQ(transport.envelopes()[0].mail_from, "bounces@deliverd.example.com");
  EXPECT_THAT(FieldValues(transport.data()[0], "From"),
              ElementsAre(HasSubstr("<alerts@deliverd.example.com>")));
}

TEST(EmailAlertDeliveryTest, RetriesOnlyTheDeferredRecipients) {
  FakeClock clock(kStart);
  FakeTransport transport(ReplyEach([](int call, const std::string& rcpt) {
    if (rcpt == "oncall@example.org" && call < 2) {
      return "451 4.3.0 Try again later";
    }
    return "250 2.0.0 Ok";
  }));
  EmailAlertDelivery delivery(&transport, &clock, ExactPolicy());
  const DeliveryRecord record =
      delivery.Deliver("email:ops", SampleAlert(), Settings(), kTwo);
  EXPECT_TRUE(record.accepted);
  EXPECT_EQ(record.attempts, 3);
  EXPECT_EQ(record.status_code, 250);
  EXPECT_EQ(record.error, "");
  EXPECT_THAT(clock.sleeps(), ElementsAre(absl::Seconds(1), absl::Seconds(2)));
  EXPECT_EQ(record.first_attempt, kStart);
  EXPECT_EQ(record.last_attempt, kStart + absl::Seconds(3));

  const std::vector<Envelope> envelopes = transport.envelopes();
  ASSERT_THAT(envelopes, SizeIs(3));
  EXPECT_THAT(Rcpts(envelopes[0]), ElementsAre(kTwo[0], kTwo[1]));
  EXPECT_THAT(Rcpts(envelopes[1]), ElementsAre("oncall@example.org"));
  EXPECT_THAT(Rcpts(envelopes[2]), ElementsAre("oncall@example.org"));
  // The same message (Message-ID included) every time.
  const std::vector<std::string> data = transport.data();
  EXPECT_EQ(data[0], data[1]);
  EXPECT_EQ(data[1], data[2]);
}

TEST(EmailAlertDeliveryTest, JitterShortensTheWait) {
  FakeClock clock(kStart);
  FakeTransport transport(ReplyEach([](int call, const std::string&) {
    return call == 0 ? "421 4.7.0 Slow down" : "250 2.0.0 Ok";
  }));
  RetryPolicy policy = ExactPolicy();
  policy.initial_delay = absl::Seconds(10);
  policy.jitter = 0.5;
  EmailAlertDelivery delivery(&transport, &clock, policy);
  delivery.SetRandomForTesting([] { return 1.0; });
  EXPECT_TRUE(
      delivery
          .Deliver("email:ops", SampleAlert(), Settings(), {"ops@example.org"})
          .accepted);
  EXPECT_THAT(clock.sleeps(), ElementsAre(absl::Seconds(5)));
}

TEST(EmailAlertDeliveryTest, APermanentRefusalIsFinal) {
  FakeClock clock(kStart);
  FakeTransport transport(ReplyEach([](int, const std::string& rcpt) {
    return rcpt == "oncall@example.org" ? "550 5.1.1 No such user"
                                        : "250 2.0.0 Ok";
  }));
  EmailAlertDelivery delivery(&transport, &clock, ExactPolicy());
  const DeliveryRecord record =
      delivery.Deliver("email:ops", SampleAlert(), Settings(), kTwo);
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.status_code, 550);
  EXPECT_EQ(record.error,
            "refused: oncall@example.org (550 5.1.1 No such user)");
  EXPECT_THAT(clock.sleeps(), IsEmpty());
}

TEST(EmailAlertDeliveryTest, RefusedAndDeferredTogether) {
  FakeClock clock(kStart);
  FakeTransport transport(ReplyEach([](int, const std::string& rcpt) {
    return rcpt == "ops@example.org" ? "554 5.7.1 Rejected"
                                     : "452 4.2.2 Mailbox full";
  }));
  RetryPolicy policy = ExactPolicy();
  policy.max_attempts = 2;
  EmailAlertDelivery delivery(&transport, &clock, policy);
  const DeliveryRecord record =
      delivery.Deliver("email:ops", SampleAlert(), Settings(), kTwo);
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 2);
  EXPECT_EQ(record.status_code, 452);
  EXPECT_EQ(record.error,
            "refused: ops@example.org (554 5.7.1 Rejected); deferred: "
            "oncall@example.org (452 4.2.2 Mailbox full)");
  const std::vector<Envelope> envelopes = transport.envelopes();
  ASSERT_THAT(envelopes, SizeIs(2));
  EXPECT_THAT(Rcpts(envelopes[1]), ElementsAre("oncall@example.org"));
}

TEST(EmailAlertDeliveryTest, UnavailableUntilAttemptsRunOut) {
  FakeClock clock(kStart);
  FakeTransport transport(
      [](int, const Envelope&) -> absl::StatusOr<TransportResult> {
        return absl::UnavailableError("connect 127.0.0.1:25: refused");
      });
  RetryPolicy policy = ExactPolicy();
  policy.max_attempts = 3;
  EmailAlertDelivery delivery(&transport, &clock, policy);
  const DeliveryRecord record =
      delivery.Deliver("email:ops", SampleAlert(), Settings(), kTwo);
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 3);
  EXPECT_EQ(record.status_code, 0);
  EXPECT_THAT(record.error,
              StartsWith("not sent to ops@example.org, oncall@example.org: "
                         "UNAVAILABLE: connect"));
  EXPECT_THAT(clock.sleeps(), ElementsAre(absl::Seconds(1), absl::Seconds(2)));
  EXPECT_EQ(record.last_attempt, kStart + absl::Seconds(3));
}

TEST(EmailAlertDeliveryTest, KeepsTheLastReplyAcrossATransportError) {
  FakeClock clock(kStart);
  FakeTransport transport([](int call, const Envelope& envelope)
                              -> absl::StatusOr<TransportResult> {
    if (call == 1) return absl::UnavailableError("connection dropped");
    TransportResult result;
    for (const std::string& rcpt : envelope.rcpt_to) {
      result.recipients.push_back(OutcomeOf(
          rcpt, call == 0 && rcpt == "oncall@example.org" ? "451 4.3.0 Later"
                                                          : "250 2.0.0 Ok"));
    }
    return result;
  });
  RetryPolicy policy = ExactPolicy();
  policy.max_attempts = 2;
  EmailAlertDelivery delivery(&transport, &clock, policy);
  const DeliveryRecord record =
      delivery.Deliver("email:ops", SampleAlert(), Settings(), kTwo);
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 2);
  EXPECT_EQ(record.status_code, 451);
  EXPECT_EQ(record.error,
            "not sent to oncall@example.org: UNAVAILABLE: connection dropped");
}

TEST(EmailAlertDeliveryTest, OtherTransportErrorsAreFinal) {
  FakeClock clock(kStart);
  FakeTransport transport(
      [](int, const Envelope&) -> absl::StatusOr<TransportResult> {
        return absl::PermissionDeniedError("535 5.7.8 Authentication failed");
      });
  EmailAlertDelivery delivery(&transport, &clock, ExactPolicy());
  const DeliveryRecord record = delivery.Deliver(
      "email:ops", SampleAlert(), Settings(), {"ops@example.org"});
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_THAT(record.error, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(clock.sleeps(), IsEmpty());
}

TEST(EmailAlertDeliveryTest, CancellationStopsTheRetries) {
  FakeClock clock(kStart);
  FakeTransport transport(ReplyEach(
      [](int, const std::string&) { return "421 4.3.2 Shutting down"; }));
  EmailAlertDelivery delivery(&transport, &clock, ExactPolicy());
  absl::Notification cancel;
  cancel.Notify();
  const DeliveryRecord record = delivery.Deliver(
      "email:ops", SampleAlert(), Settings(), {"ops@example.org"}, &cancel);
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.status_code, 421);
  EXPECT_EQ(record.error,
            "deferred: ops@example.org (421 4.3.2 Shutting down) (cancelled)");
  EXPECT_THAT(transport.envelopes(), SizeIs(1));
}

TEST(EmailAlertDeliveryTest, AMessageThatCannotBeComposedIsNotSent) {
  FakeClock clock(kStart);
  FakeTransport transport(
      ReplyEach([](int, const std::string&) { return "250 2.0.0 Ok"; }));
  EmailAlertDelivery delivery(&transport, &clock, ExactPolicy());
  const DeliveryRecord record = delivery.Deliver(
      "email:ops", SampleAlert(), Settings(), {"ops@example.org", "nope"});
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 0);
  EXPECT_THAT(record.error, StartsWith("not sent: INVALID_ARGUMENT: "));
  EXPECT_THAT(record.error, HasSubstr("email_to[1]"));
  EXPECT_EQ(record.destination, "email:ops@example.org, nope");
  EXPECT_THAT(transport.envelopes(), IsEmpty());
}

// ---------------------------------------------------------------------------
// A real SMTP transaction.

using ::deliverd::testing::SmtpServer;
using ::deliverd::testing::SmtpServerOptions;

delivery::SmtpRelayOptions RelayTo(const SmtpServer& server) {
  delivery::SmtpRelayOptions options;
  options.session.host = "127.0.0.1";
  options.session.port = server.port();
  options.session.tls = delivery::TlsMode::kNone;
  options.session.timeouts.CapAt(absl::Seconds(10));
  return options;
}

TEST(EmailAlertSmtpTest, DeliversThroughTheRelayTransport) {
  SmtpServerOptions options;
  options.rcpt_reply = [](const std::string& rcpt) -> std::string {
    return rcpt == "gone@example.org" ? "550 5.1.1 No such user"
                                      : "250 2.1.5 Ok";
  };
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  auto transport = delivery::SmtpRelayTransport::Create(RelayTo(server));
  ASSERT_TRUE(transport.ok()) << transport.status();
  FakeClock clock(kStart);
  EmailAlertDelivery delivery(transport->get(), &clock, ExactPolicy());

  const DeliveryRecord record = delivery.Deliver(
      "email:ops", SampleAlert(), Settings(), {"ops@example.org"});
  EXPECT_TRUE(record.accepted) << record.error;
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.status_code, 250);
  ASSERT_TRUE(server.WaitForMessages(1, absl::Seconds(10)));
  const deliverd::testing::ReceivedMessage received = server.messages()[0];
  EXPECT_EQ(received.mail_from, "alerts@deliverd.example.com");
  ASSERT_THAT(received.rcpts, SizeIs(1));
  EXPECT_EQ(received.rcpts[0].address, "ops@example.org");
  EXPECT_THAT(FieldValues(received.data, "Subject"),
              ElementsAre("[deliverd] Hard bounce to bob@example.com"));
  EXPECT_THAT(FieldValues(received.data, "Auto-Submitted"),
              ElementsAre("auto-generated"));
  EXPECT_THAT(Body(received.data),
              HasSubstr("Evidence: 550 5.1.1 <bob@example.com>: user "
                        "\"unknown\"\r\n"));
}

TEST(EmailAlertSmtpTest, ReportsARecipientTheServerRefuses) {
  SmtpServerOptions options;
  options.rcpt_reply = [](const std::string& rcpt) -> std::string {
    return rcpt == "gone@example.org" ? "550 5.1.1 No such user"
                                      : "250 2.1.5 Ok";
  };
  SmtpServer server(options);
  ASSERT_TRUE(server.Start().ok());
  auto transport = delivery::SmtpRelayTransport::Create(RelayTo(server));
  ASSERT_TRUE(transport.ok()) << transport.status();
  FakeClock clock(kStart);
  EmailAlertDelivery delivery(transport->get(), &clock, ExactPolicy());

  const DeliveryRecord record =
      delivery.Deliver("email:ops", SampleAlert(), Settings(),
                       {"ops@example.org", "gone@example.org"});
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.status_code, 550);
  EXPECT_EQ(record.error, "refused: gone@example.org (550 5.1.1 No such user)");
  EXPECT_THAT(clock.sleeps(), IsEmpty());
  // The other recipient got it.
  ASSERT_TRUE(server.WaitForMessages(1, absl::Seconds(10)));
  const deliverd::testing::ReceivedMessage received = server.messages()[0];
  ASSERT_THAT(received.rcpts, SizeIs(1));
  EXPECT_EQ(received.rcpts[0].address, "ops@example.org");
  EXPECT_THAT(received.data, HasSubstr("Subject: [deliverd] Hard bounce"));
}

}  // namespace
}  // namespace deliverd::alerts
