// List messages and List-Unsubscribe (RFC 2369, RFC 8058) on a running
// deliverd (outbox transport): a Send with `list` goes only to one
// subscribed recipient and carries signed List-Unsubscribe (mailto and,
// with --unsubscribe-url, one-click HTTPS) headers; Unsubscribe with the
// token, or a reply to the mailto fed to IngestFeedback, unsubscribes that
// recipient from that list only; forged, tampered and foreign tokens change
// nothing.
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kFrom[] = "news@letters.example";
constexpr char kOneClickUrl[] = "https://lists.example/unsubscribe";

// Servers signing list messages with a one-click HTTPS URL (mailto domain:
// the From domain).
class ListUnsubscribeTest : public SharedDeliverdTest<ListUnsubscribeTest> {
 public:
  static std::vector<std::string> Flags() {
    return {"--unsubscribe-url", kOneClickUrl};
  }
};

// Mailto only (no --unsubscribe-url), with its own mailto domain.
class ListUnsubscribeMailtoOnlyTest
    : public SharedDeliverdTest<ListUnsubscribeMailtoOnlyTest> {
 public:
  static std::vector<std::string> Flags() {
    return {"--unsubscribe-domain", "optout.example"};
  }
};

// --- RPC helpers ------------------------------------------------------------

absl::StatusOr<v1::Subscription> Subscribe(Client& client,
                                           const std::string& address,
                                           const std::string& list,
                                           bool double_opt_in = false) {
  v1::SubscribeRequest request;
  request.set_address(address);
  request.set_list(list);
  request.set_double_opt_in(double_opt_in);
  v1::Subscription response;
  grpc::Status s = client.subscriptions().Subscribe(client.Context().get(),
                                                    request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::Subscription> Unsubscribe(
    Client& client, const v1::UnsubscribeRequest& request) {
  v1::Subscription response;
  grpc::Status s = client.subscriptions().Unsubscribe(client.Context().get(),
                                                      request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::Subscription> UnsubscribeWithToken(
    Client& client, const std::string& token) {
  v1::UnsubscribeRequest request;
  request.set_token(token);
  return Unsubscribe(client, request);
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

absl::StatusOr<v1::IngestFeedbackResponse> IngestRaw(Client& client,
                                                     const std::string& raw) {
  v1::IngestFeedbackRequest request;
  request.set_raw_message(raw);
  v1::IngestFeedbackResponse response;
  grpc::Status s = client.hygiene().IngestFeedback(client.Context().get(),
                                                   request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::CheckSuppressionResponse> Check(Client& client,
                                                   const std::string& address,
                                                   const std::string& stream) {
  v1::CheckSuppressionRequest request;
  request.add_addresses(address);
  request.set_stream(stream);
  return client.CheckSuppression(request);
}

v1::SendRequest ListSend(const std::string& to, const std::string& list) {
  v1::SendRequest request = MakeSend(kFrom, to, "This week's letter",
                                     "Hello subscriber.");
  request.set_list(list);
  return request;
}

// --- .eml helpers -----------------------------------------------------------

// The header section of a message with folded lines joined (RFC 5322
// unfolding: CRLF followed by white space is removed), one field per line
// separated by "\n".
std::string UnfoldedHeaders(const std::string& eml) {
  size_t end = eml.find("\r\n\r\n");
  std::string head = eml.substr(0, end);
  std::string out;
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r' && i + 1 < head.size() && head[i + 1] == '\n') {
      if (i + 2 < head.size() && (head[i + 2] == ' ' || head[i + 2] == '\t')) {
        ++i;  // skip CRLF, keep the white space
        continue;
      }
      out.push_back('\n');
      ++i;
      continue;
    }
    out.push_back(head[i]);
  }
  return out;
}

// Every value of header `name` (case-insensitive) in unfolded headers.
std::vector<std::string> HeaderValues(const std::string& headers,
                                      const std::string& name) {
  std::vector<std::string> values;
  size_t pos = 0;
  while (pos <= headers.size()) {
    size_t nl = headers.find('\n', pos);
    std::string line = headers.substr(
        pos, nl == std::string::npos ? std::string::npos : nl - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos &&
        absl::EqualsIgnoreCase(line.substr(0, colon), name)) {
      values.push_back(std::string(
          absl::StripAsciiWhitespace(line.substr(colon + 1))));
    }
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return values;
}

bool IsLowerHex(const std::string& s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The token in "<mailto:unsub+TOKEN@...": empty when there is none.
std::string TokenIn(const std::string& list_unsubscribe) {
  const std::string start = "<mailto:unsub+";
  size_t at = list_unsubscribe.find(start);
  if (at == std::string::npos) return "";
  at += start.size();
  size_t end = list_unsubscribe.find('@', at);
  if (end == std::string::npos) return "";
  return list_unsubscribe.substr(at, end - at);
}

// A token with its last hex digit changed.
std::string Tampered(std::string token) {
  char& last = token.back();
  last = last == '0' ? '1' : '0';
  return token;
}

// A person's reply to the unsubscribe mailto.
std::string UnsubscribeReply(const std::string& mailbox,
                             const std::string& from,
                             const std::string& message_id) {
  return absl::StrCat(
      "From: ", from, "\r\n"
      "To: ", mailbox, "\r\n"
      "Subject: unsubscribe\r\n"
      "Date: Thu, 26 Nov 2026 11:30:00 +0000\r\n"
      "Message-ID: <", message_id, "@reader.example>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "\r\n"
      "Please take me off this list.\r\n");
}

// Sends a list message to a fresh subscriber, waits until it is in the
// outbox and returns it with the token from its List-Unsubscribe header.
struct SentListMessage {
  v1::Message message;
  std::string headers;  // unfolded
  std::string list_unsubscribe;
  std::string token;
};

absl::StatusOr<SentListMessage> SendToSubscriber(Deliverd& server,
                                                 Client& client,
                                                 const std::string& to,
                                                 const std::string& list) {
  absl::StatusOr<v1::Subscription> sub = Subscribe(client, to, list);
  if (!sub.ok()) return sub.status();
  absl::StatusOr<v1::Message> sent = client.Send(ListSend(to, list));
  if (!sent.ok()) return sent.status();
  absl::StatusOr<v1::Message> done =
      client.WaitForStatus(sent->id(), v1::MESSAGE_STATUS_SENT);
  if (!done.ok()) return done.status();
  std::optional<std::string> eml = ReadFile(server.OutboxFile(sent->id()));
  if (!eml.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no outbox file ", server.OutboxFile(sent->id())));
  }
  SentListMessage out;
  out.message = *done;
  out.headers = UnfoldedHeaders(*eml);
  std::vector<std::string> values =
      HeaderValues(out.headers, "List-Unsubscribe");
  if (values.size() != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        values.size(), " List-Unsubscribe headers in:\n", out.headers));
  }
  out.list_unsubscribe = values[0];
  out.token = TokenIn(values[0]);
  if (out.token.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no mailto token in List-Unsubscribe: ", values[0]));
  }
  return out;
}

bool HasEvent(const v1::Message& m, v1::EventType type) {
  for (const v1::Event& e : m.events()) {
    if (e.type() == type) return true;
  }
  return false;
}

// Everything one unsubscribe of `address` from list "news" must leave
// behind (whichever way it came in).
void ExpectUnsubscribedFromNews(Client& client, const std::string& address,
                                const std::string& message_id) {
  ASSERT_OK_AND_ASSIGN(v1::Subscription sub,
                       GetSubscription(client, address, "news"));
  EXPECT_EQ(sub.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
  EXPECT_EQ(sub.source(), "list-unsubscribe");

  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse news,
                       Check(client, address, "news"));
  ASSERT_EQ(news.results_size(), 1);
  EXPECT_TRUE(news.results(0).suppressed());
  EXPECT_EQ(news.results(0).suppression().reason(),
            v1::SUPPRESSION_REASON_UNSUBSCRIBED);
  EXPECT_EQ(news.results(0).suppression().scope(), "news");
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse any,
                       Check(client, address, ""));
  ASSERT_EQ(any.results_size(), 1);
  EXPECT_FALSE(any.results(0).suppressed());

  ASSERT_OK_AND_ASSIGN(v1::Message history, client.GetMessage(message_id));
  EXPECT_TRUE(HasEvent(history, v1::EVENT_TYPE_UNSUBSCRIBED))
      << history.DebugString();

  // No more list mail to them ...
  absl::Status again = client.Send(ListSend(address, "news")).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(again)) << again;
  EXPECT_THAT(again.message(), HasSubstr("content.to[0]"));
  EXPECT_THAT(again.message(), HasSubstr("unsubscribed"));

  // ... but transactional mail still goes out.
  ASSERT_OK_AND_ASSIGN(
      v1::Message receipt,
      client.Send(MakeSend(kFrom, address, "Your receipt", "Thanks.")));
  ASSERT_OK_AND_ASSIGN(
      v1::Message receipt_sent,
      client.WaitForStatus(receipt.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_EQ(receipt_sent.recipients_size(), 1);
  EXPECT_EQ(receipt_sent.recipients(0).status(), v1::MESSAGE_STATUS_SENT);
}

// --- Sending ---------------------------------------------------------------

TEST_F(ListUnsubscribeTest, ListSendNeedsASubscribedRecipient) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());

  absl::Status never = client.Send(ListSend("stranger@example.org", "news"))
                           .status();
  EXPECT_TRUE(absl::IsFailedPrecondition(never)) << never;
  EXPECT_THAT(never.message(), HasSubstr("content.to[0]"));
  EXPECT_THAT(never.message(), HasSubstr("not subscribed"));

  ASSERT_OK(Subscribe(client, "pending@example.org", "news",
                      /*double_opt_in=*/true));
  absl::Status pending =
      client.Send(ListSend("pending@example.org", "news")).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(pending)) << pending;
  EXPECT_THAT(pending.message(), HasSubstr("content.to[0]"));
  EXPECT_THAT(pending.message(), HasSubstr("pending confirmation"));

  ASSERT_OK(Subscribe(client, "left@example.org", "news"));
  v1::UnsubscribeRequest leave;
  leave.set_address("left@example.org");
  leave.set_list("news");
  leave.set_reason("asked by phone");
  ASSERT_OK(Unsubscribe(client, leave));
  absl::Status left = client.Send(ListSend("left@example.org", "news")).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(left)) << left;
  EXPECT_THAT(left.message(), HasSubstr("content.to[0]"));
  EXPECT_THAT(left.message(), HasSubstr("unsubscribed"));

  // Subscribed to another list only: still not on "news".
  ASSERT_OK(Subscribe(client, "offers-only@example.org", "offers"));
  absl::Status other =
      client.Send(ListSend("offers-only@example.org", "news")).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(other)) << other;
  EXPECT_THAT(other.message(), HasSubstr("not subscribed"));

  ASSERT_OK(Subscribe(client, "reader@example.org", "news"));
  ASSERT_OK_AND_ASSIGN(v1::Message sent,
                       client.Send(ListSend("reader@example.org", "news")));
  ASSERT_OK(client.WaitForStatus(sent.id(), v1::MESSAGE_STATUS_SENT));

  // Nothing was stored for the refused sends.
  v1::ListMessagesRequest all;
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Message> stored,
                       client.ListAllMessages(all));
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].id(), sent.id());
}

TEST_F(ListUnsubscribeTest, BadListShapesNameTheField) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK(Subscribe(client, "reader@example.org", "news"));
  ASSERT_OK(Subscribe(client, "second@example.org", "news"));

  auto expect_invalid = [&](const v1::SendRequest& request,
                            const std::string& field) {
    absl::Status s = client.Send(request).status();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << field << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr(field + ":")) << s;
  };

  v1::SendRequest two = ListSend("reader@example.org", "news");
  two.mutable_content()->add_to()->set_address("second@example.org");
  expect_invalid(two, "content.to");

  v1::SendRequest cc = ListSend("reader@example.org", "news");
  cc.mutable_content()->add_cc()->set_address("second@example.org");
  expect_invalid(cc, "content.to");

  v1::SendRequest bcc = ListSend("reader@example.org", "news");
  bcc.mutable_content()->add_bcc()->set_address("second@example.org");
  expect_invalid(bcc, "content.to");

  v1::SendRequest header = ListSend("reader@example.org", "news");
  v1::Header* keep = header.mutable_content()->add_headers();
  keep->set_name("X-Campaign");
  keep->set_value("autumn");
  v1::Header* own = header.mutable_content()->add_headers();
  own->set_name("List-Unsubscribe");
  own->set_value("<https://evil.example/u>");
  expect_invalid(header, "content.headers[1].name");

  v1::SendRequest post = ListSend("reader@example.org", "news");
  v1::Header* own_post = post.mutable_content()->add_headers();
  own_post->set_name("list-unsubscribe-post");
  own_post->set_value("List-Unsubscribe=One-Click");
  expect_invalid(post, "content.headers[0].name");

  v1::SendRequest stream = ListSend("reader@example.org", "news");
  stream.set_stream("transactional");
  expect_invalid(stream, "stream");

  v1::SendRequest label = ListSend("reader@example.org", "news letter!");
  expect_invalid(label, "list");
  v1::SendRequest too_long =
      ListSend("reader@example.org", std::string(65, 'n'));
  expect_invalid(too_long, "list");

  // The stream may repeat the list.
  v1::SendRequest same = ListSend("reader@example.org", "news");
  same.set_stream("news");
  ASSERT_OK_AND_ASSIGN(v1::Message sent, client.Send(same));
  EXPECT_EQ(sent.stream(), "news");

  // A transactional message may carry its own List-Unsubscribe.
  v1::SendRequest transactional =
      MakeSend(kFrom, "reader@example.org", "Receipt", "x");
  v1::Header* allowed = transactional.mutable_content()->add_headers();
  allowed->set_name("List-Unsubscribe");
  allowed->set_value("<mailto:stop@letters.example>");
  EXPECT_OK(client.Send(transactional));
}

TEST_F(ListUnsubscribeTest, SendBatchRefusesOnlyTheItemsNotSubscribed) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK(Subscribe(client, "one@example.org", "news"));
  ASSERT_OK(Subscribe(client, "three@example.org", "news"));

  v1::SendBatchRequest batch;
  *batch.add_messages() = ListSend("one@example.org", "news");
  *batch.add_messages() = ListSend("two@example.org", "news");
  *batch.add_messages() = ListSend("three@example.org", "news");
  *batch.add_messages() = MakeSend(kFrom, "two@example.org", "Receipt", "x");
  ASSERT_OK_AND_ASSIGN(v1::SendBatchResponse response, client.SendBatch(batch));
  ASSERT_EQ(response.results_size(), 4);
  EXPECT_EQ(response.accepted_count(), 3);
  EXPECT_EQ(response.rejected_count(), 1);

  EXPECT_TRUE(response.results(0).has_message());
  ASSERT_TRUE(response.results(1).has_error()) << response.DebugString();
  EXPECT_EQ(response.results(1).error().code(),
            static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_THAT(response.results(1).error().message(),
              HasSubstr("messages[1].content.to[0]"));
  EXPECT_THAT(response.results(1).error().message(),
              HasSubstr("not subscribed"));
  EXPECT_TRUE(response.results(2).has_message());
  EXPECT_TRUE(response.results(3).has_message());

  for (int i : {0, 2, 3}) {
    ASSERT_OK(client.WaitForStatus(response.results(i).message().id(),
                                   v1::MESSAGE_STATUS_SENT));
  }
  // The list messages carry List-Unsubscribe, the transactional one not.
  for (int i : {0, 2}) {
    std::optional<std::string> eml =
        ReadFile(server().OutboxFile(response.results(i).message().id()));
    ASSERT_TRUE(eml.has_value());
    EXPECT_THAT(HeaderValues(UnfoldedHeaders(*eml), "List-Unsubscribe"),
                Not(IsEmpty()));
  }
  std::optional<std::string> receipt =
      ReadFile(server().OutboxFile(response.results(3).message().id()));
  ASSERT_TRUE(receipt.has_value());
  EXPECT_THAT(HeaderValues(UnfoldedHeaders(*receipt), "List-Unsubscribe"),
              IsEmpty());
  EXPECT_THAT(HeaderValues(UnfoldedHeaders(*receipt), "List-Unsubscribe-Post"),
              IsEmpty());
}

TEST_F(ListUnsubscribeTest, ListMessageCarriesMailtoAndOneClickHeaders) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      SentListMessage sent,
      SendToSubscriber(server(), client, "reader@example.org", "news"));
  EXPECT_EQ(sent.message.stream(), "news");

  // "<message id>.<24 hex digits>".
  const std::string prefix = sent.message.id() + ".";
  ASSERT_TRUE(absl::StartsWith(sent.token, prefix)) << sent.token;
  std::string mac = sent.token.substr(prefix.size());
  EXPECT_EQ(mac.size(), 24u) << sent.token;
  EXPECT_TRUE(IsLowerHex(mac)) << sent.token;

  EXPECT_EQ(sent.list_unsubscribe,
            absl::StrCat("<mailto:unsub+", sent.token,
                         "@letters.example?subject=unsubscribe>, <",
                         kOneClickUrl, "?token=", sent.token, ">"));
  EXPECT_THAT(HeaderValues(sent.headers, "List-Unsubscribe-Post"),
              ::testing::ElementsAre("List-Unsubscribe=One-Click"));

  // Each message has its own token.
  ASSERT_OK_AND_ASSIGN(
      SentListMessage other,
      SendToSubscriber(server(), client, "other@example.org", "news"));
  EXPECT_NE(other.token, sent.token);
}

TEST_F(ListUnsubscribeMailtoOnlyTest, WithoutUrlOnlyMailtoOnConfiguredDomain) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      SentListMessage sent,
      SendToSubscriber(server(), client, "reader@example.org", "news"));
  EXPECT_TRUE(absl::StartsWith(sent.token, sent.message.id() + "."))
      << sent.token;
  EXPECT_EQ(sent.list_unsubscribe,
            absl::StrCat("<mailto:unsub+", sent.token,
                         "@optout.example?subject=unsubscribe>"));
  EXPECT_THAT(HeaderValues(sent.headers, "List-Unsubscribe-Post"), IsEmpty());

  // The token works here too, and a reply to the mailto is recognised.
  ASSERT_OK_AND_ASSIGN(v1::Subscription after,
                       UnsubscribeWithToken(client, sent.token));
  EXPECT_EQ(after.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
  EXPECT_EQ(after.address(), "reader@example.org");
  EXPECT_EQ(after.list(), "news");
}

// A server with neither flag: mailto only, on the From domain.
TEST(ListUnsubscribeDefaultsTest, MailtoOnlyOnTheFromDomain) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Deliverd> server, Deliverd::Start());
  Client client = server->NewClient();
  ASSERT_OK_AND_ASSIGN(
      SentListMessage sent,
      SendToSubscriber(*server, client, "reader@example.org", "news"));
  EXPECT_EQ(sent.list_unsubscribe,
            absl::StrCat("<mailto:unsub+", sent.token,
                         "@letters.example?subject=unsubscribe>"));
  EXPECT_THAT(HeaderValues(sent.headers, "List-Unsubscribe-Post"), IsEmpty());
}

// --- Unsubscribing with the token ------------------------------------------

TEST_F(ListUnsubscribeTest, TokenUnsubscribesThatRecipientFromThatListOnly) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK(Subscribe(client, "reader@example.org", "offers"));
  ASSERT_OK(Subscribe(client, "neighbour@example.org", "news"));
  ASSERT_OK_AND_ASSIGN(
      SentListMessage sent,
      SendToSubscriber(server(), client, "reader@example.org", "news"));

  ASSERT_OK_AND_ASSIGN(v1::Subscription after,
                       UnsubscribeWithToken(client, sent.token));
  EXPECT_EQ(after.address(), "reader@example.org");
  EXPECT_EQ(after.list(), "news");
  EXPECT_EQ(after.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
  EXPECT_EQ(after.source(), "list-unsubscribe");

  ExpectUnsubscribedFromNews(client, "reader@example.org", sent.message.id());

  // Other lists of the reader and other readers of the list are untouched.
  ASSERT_OK_AND_ASSIGN(v1::Subscription offers,
                       GetSubscription(client, "reader@example.org", "offers"));
  EXPECT_EQ(offers.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  ASSERT_OK_AND_ASSIGN(
      v1::Subscription neighbour,
      GetSubscription(client, "neighbour@example.org", "news"));
  EXPECT_EQ(neighbour.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);

  // The same token again (a second click) changes nothing.
  ASSERT_OK_AND_ASSIGN(v1::Message before, client.GetMessage(sent.message.id()));
  ASSERT_OK_AND_ASSIGN(v1::Subscription twice,
                       UnsubscribeWithToken(client, sent.token));
  EXPECT_EQ(twice.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
  ASSERT_OK_AND_ASSIGN(v1::Message again, client.GetMessage(sent.message.id()));
  EXPECT_EQ(again.events_size(), before.events_size());
}

TEST_F(ListUnsubscribeTest, TokenIsCaseInsensitive) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      SentListMessage sent,
      SendToSubscriber(server(), client, "reader@example.org", "news"));
  ASSERT_OK_AND_ASSIGN(
      v1::Subscription after,
      UnsubscribeWithToken(client, absl::AsciiStrToUpper(sent.token)));
  EXPECT_EQ(after.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
}

TEST_F(ListUnsubscribeTest, TamperedMisusedAndForeignTokensChangeNothing) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      SentListMessage sent,
      SendToSubscriber(server(), client, "reader@example.org", "news"));

  absl::Status tampered =
      UnsubscribeWithToken(client, Tampered(sent.token)).status();
  EXPECT_TRUE(absl::IsInvalidArgument(tampered)) << tampered;
  EXPECT_THAT(tampered.message(), HasSubstr("token"));

  absl::Status garbage = UnsubscribeWithToken(client, "not-a-token").status();
  EXPECT_TRUE(absl::IsInvalidArgument(garbage)) << garbage;
  EXPECT_THAT(garbage.message(), HasSubstr("token"));

  v1::UnsubscribeRequest with_address;
  with_address.set_token(sent.token);
  with_address.set_address("reader@example.org");
  absl::Status both = Unsubscribe(client, with_address).status();
  EXPECT_TRUE(absl::IsInvalidArgument(both)) << both;

  v1::UnsubscribeRequest with_list;
  with_list.set_token(sent.token);
  with_list.set_list("news");
  absl::Status list_too = Unsubscribe(client, with_list).status();
  EXPECT_TRUE(absl::IsInvalidArgument(list_too)) << list_too;

  ASSERT_OK_AND_ASSIGN(Client stranger,
                       server().NewTenantClient("list-unsub-stranger"));
  absl::Status foreign = UnsubscribeWithToken(stranger, sent.token).status();
  EXPECT_TRUE(absl::IsNotFound(foreign)) << foreign;

  // Still subscribed, not suppressed, no UNSUBSCRIBED event.
  ASSERT_OK_AND_ASSIGN(v1::Subscription sub,
                       GetSubscription(client, "reader@example.org", "news"));
  EXPECT_EQ(sub.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse check,
                       Check(client, "reader@example.org", "news"));
  EXPECT_FALSE(check.results(0).suppressed());
  ASSERT_OK_AND_ASSIGN(v1::Message m, client.GetMessage(sent.message.id()));
  EXPECT_FALSE(HasEvent(m, v1::EVENT_TYPE_UNSUBSCRIBED)) << m.DebugString();
  EXPECT_OK(client.Send(ListSend("reader@example.org", "news")));
}

// --- Unsubscribing by mail --------------------------------------------------

TEST_F(ListUnsubscribeTest, ReplyToTheMailtoUnsubscribes) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      SentListMessage sent,
      SendToSubscriber(server(), client, "reader@example.org", "news"));
  std::string mailbox =
      absl::StrCat("unsub+", sent.token, "@letters.example");
  std::string reply =
      UnsubscribeReply(mailbox, "reader@example.org", "reply-4c1e");

  ASSERT_OK_AND_ASSIGN(v1::IngestFeedbackResponse first,
                       IngestRaw(client, reply));
  ASSERT_EQ(first.items_size(), 1) << first.DebugString();
  EXPECT_EQ(first.items(0).kind(), "unsubscribe");
  EXPECT_EQ(first.items(0).outcome(), "applied");
  EXPECT_EQ(first.items(0).message(), sent.message.name());
  EXPECT_THAT(first.matched_messages(), Contains(sent.message.name()));

  ExpectUnsubscribedFromNews(client, "reader@example.org", sent.message.id());

  // The same mail again: nothing changes.
  ASSERT_OK_AND_ASSIGN(v1::Message before, client.GetMessage(sent.message.id()));
  ASSERT_OK_AND_ASSIGN(v1::IngestFeedbackResponse second,
                       IngestRaw(client, reply));
  ASSERT_EQ(second.items_size(), 1) << second.DebugString();
  EXPECT_EQ(second.items(0).kind(), "unsubscribe");
  EXPECT_EQ(second.items(0).outcome(), "duplicate");
  ASSERT_OK_AND_ASSIGN(v1::Message after, client.GetMessage(sent.message.id()));
  EXPECT_EQ(after.events_size(), before.events_size());
}

TEST_F(ListUnsubscribeTest, ReplyToAForgedMailtoChangesNothing) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(
      SentListMessage sent,
      SendToSubscriber(server(), client, "reader@example.org", "news"));

  for (const std::string& token :
       {Tampered(sent.token), sent.message.id() + ".000000000000000000000000",
        std::string("0123456789abcdef01234567")}) {
    std::string reply = UnsubscribeReply(
        absl::StrCat("unsub+", token, "@letters.example"),
        "prankster@example.net", "forged-" + token.substr(token.size() - 4));
    ASSERT_OK_AND_ASSIGN(v1::IngestFeedbackResponse r, IngestRaw(client, reply));
    EXPECT_EQ(r.items_size(), 0) << token << ": " << r.DebugString();
    EXPECT_THAT(r.suppressed(), IsEmpty());
  }

  ASSERT_OK_AND_ASSIGN(v1::Subscription sub,
                       GetSubscription(client, "reader@example.org", "news"));
  EXPECT_EQ(sub.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse check,
                       Check(client, "reader@example.org", "news"));
  EXPECT_FALSE(check.results(0).suppressed());
  ASSERT_OK_AND_ASSIGN(v1::Message m, client.GetMessage(sent.message.id()));
  EXPECT_FALSE(HasEvent(m, v1::EVENT_TYPE_UNSUBSCRIBED)) << m.DebugString();
}

TEST_F(ListUnsubscribeTest, AnotherTenantsReplyMatchesNothing) {
  ASSERT_OK_AND_ASSIGN(Client owner, NewTenant());
  ASSERT_OK_AND_ASSIGN(Client stranger,
                       server().NewTenantClient("list-reply-stranger"));
  ASSERT_OK_AND_ASSIGN(
      SentListMessage sent,
      SendToSubscriber(server(), owner, "reader@example.org", "news"));
  ASSERT_OK_AND_ASSIGN(
      v1::IngestFeedbackResponse r,
      IngestRaw(stranger,
                UnsubscribeReply(
                    absl::StrCat("unsub+", sent.token, "@letters.example"),
                    "reader@example.org", "elsewhere-1")));
  for (const v1::IngestedFeedback& item : r.items()) {
    EXPECT_NE(item.outcome(), "applied") << r.DebugString();
  }
  ASSERT_OK_AND_ASSIGN(v1::Subscription sub,
                       GetSubscription(owner, "reader@example.org", "news"));
  EXPECT_EQ(sub.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
}

}  // namespace
}  // namespace deliverd::e2e
