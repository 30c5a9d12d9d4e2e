// Authentication and tenant isolation.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class AuthTest : public SharedDeliverdTest<AuthTest> {};

// Every implemented RPC, each with a request that would succeed (or at least
// get past validation) with a good key.
std::vector<std::pair<std::string, std::function<grpc::Status(Client&)>>>
AllCalls() {
  using Call = std::function<grpc::Status(Client&)>;
  return {
      {"Send",
       Call([](Client& c) {
         v1::SendResponse r;
         return c.messages().Send(
             c.Context().get(),
             MakeSend("a@example.com", "b@example.org", "S", "B"), &r);
       })},
      {"SendBatch",
       Call([](Client& c) {
         v1::SendBatchRequest req;
         *req.add_messages() = MakeSend("a@example.com", "b@example.org", "S", "B");
         v1::SendBatchResponse r;
         return c.messages().SendBatch(c.Context().get(), req, &r);
       })},
      {"GetMessage",
       Call([](Client& c) {
         v1::GetMessageRequest req;
         req.set_name("messages/m_00000000000000000000000000");
         v1::Message r;
         return c.messages().GetMessage(c.Context().get(), req, &r);
       })},
      {"ListMessages",
       Call([](Client& c) {
         v1::ListMessagesResponse r;
         return c.messages().ListMessages(c.Context().get(),
                                          v1::ListMessagesRequest(), &r);
       })},
      {"Resend",
       Call([](Client& c) {
         v1::ResendRequest req;
         req.add_names("messages/m_00000000000000000000000000");
         v1::ResendResponse r;
         return c.messages().Resend(c.Context().get(), req, &r);
       })},
      {"WatchEvents",
       Call([](Client& c) {
         auto context = c.Context(Seconds(5));
         v1::WatchEventsRequest req;
         req.set_from_beginning(true);
         auto reader = c.messages().WatchEvents(context.get(), req);
         v1::WatchEventsResponse r;
         while (reader->Read(&r)) {
         }
         return reader->Finish();
       })},
      {"ListSuppressions",
       Call([](Client& c) {
         v1::ListSuppressionsResponse r;
         return c.subscriptions().ListSuppressions(
             c.Context().get(), v1::ListSuppressionsRequest(), &r);
       })},
      {"AddSuppression",
       Call([](Client& c) {
         v1::AddSuppressionRequest req;
         req.set_address("x@example.org");
         req.set_reason(v1::SUPPRESSION_REASON_MANUAL);
         v1::Suppression r;
         return c.subscriptions().AddSuppression(c.Context().get(), req, &r);
       })},
      {"RemoveSuppression",
       Call([](Client& c) {
         v1::RemoveSuppressionRequest req;
         req.set_address("x@example.org");
         req.set_reason("test");
         v1::Suppression r;
         return c.subscriptions().RemoveSuppression(c.Context().get(), req, &r);
       })},
      {"CheckSuppression",
       Call([](Client& c) {
         v1::CheckSuppressionRequest req;
         req.add_addresses("x@example.org");
         v1::CheckSuppressionResponse r;
         return c.subscriptions().CheckSuppression(c.Context().get(), req, &r);
       })},
  };
}

TEST_F(AuthTest, MissingMalformedAndUnknownKeysAreUnauthenticatedEverywhere) {
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"no key", ""},
      {"malformed key", "not-a-deliverd-key"},
      {"unknown key", "dk_" + std::string(52, 'a')},
      {"truncated real key", server().api_key().substr(0, 20)},
  };
  for (const auto& [what, key] : keys) {
    Client client = server().NewClient(key);
    for (auto& [rpc, call] : AllCalls()) {
      SCOPED_TRACE(absl::StrCat(what, " / ", rpc));
      grpc::Status status = call(client);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << status.error_code() << ": " << status.error_message();
    }
  }
  // A header that is not a bearer token is refused as well.
  Client plain = server().NewClient("");
  auto context = plain.Context();
  context->AddMetadata("authorization", "Basic " + server().api_key());
  v1::ListMessagesResponse r;
  grpc::Status status = plain.messages().ListMessages(
      context.get(), v1::ListMessagesRequest(), &r);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Nothing the refused calls carried was stored for anyone.
  Client good = server().NewClient();
  ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse list,
                       good.ListMessages(v1::ListMessagesRequest()));
  EXPECT_THAT(list.messages(), IsEmpty());
}

TEST_F(AuthTest, HealthCheckNeedsNoKey) {
  // grpc.health.v1.Health/Check with an empty HealthCheckRequest; the reply
  // is HealthCheckResponse{status: SERVING} = field 1, varint 1.
  RawResult raw = RawUnaryCall(server().NewChannel(),
                               "/grpc.health.v1.Health/Check", "");
  ASSERT_TRUE(raw.status.ok()) << raw.status.error_message();
  ASSERT_THAT(raw.responses, SizeIs(1));
  EXPECT_EQ(raw.responses[0], std::string("\x08\x01", 2));

  CtlOptions no_key;
  no_key.api_key_env = "";
  ProcessResult ctl = server().Deliverctl({"health"}, no_key);
  EXPECT_EQ(ctl.exit_code, 0) << ctl;
  EXPECT_THAT(ctl.out, HasSubstr("SERVING")) << ctl;
}

TEST_F(AuthTest, TenantsSeeNothingOfEachOther) {
  ASSERT_OK_AND_ASSIGN(Client a, NewTenant());
  ASSERT_OK_AND_ASSIGN(Client b, NewTenant());

  // Tenant A: a delivered message and a suppression.
  v1::SendRequest request =
      MakeSend("a@example.com", "private@example.org", "A only", "Secret");
  request.add_tags("shared-tag");
  ASSERT_OK_AND_ASSIGN(v1::Message m, a.Send(request));
  ASSERT_OK_AND_ASSIGN(v1::Message a_before,
                       a.WaitForStatus(m.id(), v1::MESSAGE_STATUS_SENT));
  v1::AddSuppressionRequest suppress;
  suppress.set_address("blocked@example.org");
  suppress.set_reason(v1::SUPPRESSION_REASON_COMPLAINT);
  ASSERT_OK(a.AddSuppression(suppress));

  // GetMessage: NOT_FOUND by name and by bare id.
  EXPECT_EQ(b.GetMessage(m.name()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(b.GetMessage(m.id()).status().code(), absl::StatusCode::kNotFound);

  // ListMessages: empty, with or without filters.
  ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse list,
                       b.ListMessages(v1::ListMessagesRequest()));
  EXPECT_THAT(list.messages(), IsEmpty());
  v1::ListMessagesRequest by_recipient;
  by_recipient.set_recipient("private@example.org");
  ASSERT_OK_AND_ASSIGN(list, b.ListMessages(by_recipient));
  EXPECT_THAT(list.messages(), IsEmpty());
  v1::ListMessagesRequest by_tag;
  by_tag.set_tag("shared-tag");
  ASSERT_OK_AND_ASSIGN(list, b.ListMessages(by_tag));
  EXPECT_THAT(list.messages(), IsEmpty());

  // Resend: refused per item with NOT_FOUND.
  v1::ResendRequest resend;
  resend.add_names(m.name());
  ASSERT_OK_AND_ASSIGN(v1::ResendResponse resent, b.Resend(resend));
  ASSERT_THAT(resent.results(), SizeIs(1));
  ASSERT_TRUE(resent.results(0).has_error()) << resent.DebugString();
  EXPECT_EQ(resent.results(0).error().code(), 5);  // NOT_FOUND

  // WatchEvents from the beginning: B sees only its own events. B's own
  // message is the marker that B has caught up with everything before it.
  ASSERT_OK_AND_ASSIGN(
      v1::Message marker,
      b.Send(MakeSend("b@example.com", "marker@example.org", "B", "B")));
  v1::WatchEventsRequest all;
  all.set_from_beginning(true);
  ASSERT_OK_AND_ASSIGN(
      std::vector<v1::Event> seen,
      b.Watch(all, [&](const std::vector<v1::Event>& events) {
        return events.back().message() == marker.name() &&
               events.back().type() == v1::EVENT_TYPE_SENT;
      }));
  for (const v1::Event& e : seen) EXPECT_EQ(e.message(), marker.name());
  // Asking for A's message by name yields nothing (its events exist, so a
  // leak would arrive at once).
  v1::WatchEventsRequest one;
  one.set_from_beginning(true);
  one.set_message(m.name());
  absl::StatusOr<std::vector<v1::Event>> leaked =
      b.Watch(one, [](const std::vector<v1::Event>&) { return true; },
              Millis(700));
  EXPECT_EQ(leaked.status().code(), absl::StatusCode::kDeadlineExceeded)
      << leaked.status();
  v1::WatchEventsRequest tagged;
  tagged.set_from_beginning(true);
  tagged.set_tag("shared-tag");
  leaked = b.Watch(tagged, [](const std::vector<v1::Event>&) { return true; },
                   Millis(700));
  EXPECT_EQ(leaked.status().code(), absl::StatusCode::kDeadlineExceeded)
      << leaked.status();

  // Suppressions: B neither sees nor removes A's.
  v1::CheckSuppressionRequest check;
  check.add_addresses("blocked@example.org");
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse checked,
                       b.CheckSuppression(check));
  ASSERT_THAT(checked.results(), SizeIs(1));
  EXPECT_FALSE(checked.results(0).suppressed());
  v1::ListSuppressionsRequest every_scope;
  every_scope.set_scope("*");
  ASSERT_OK_AND_ASSIGN(v1::ListSuppressionsResponse listed,
                       b.ListSuppressions(every_scope));
  EXPECT_THAT(listed.suppressions(), IsEmpty());
  v1::RemoveSuppressionRequest remove;
  remove.set_address("blocked@example.org");
  remove.set_reason("tenant B tries");
  EXPECT_EQ(b.RemoveSuppression(remove).status().code(),
            absl::StatusCode::kNotFound);
  // B may send to an address A suppressed: suppressions are per tenant.
  ASSERT_OK_AND_ASSIGN(
      v1::Message b_send,
      b.Send(MakeSend("b@example.com", "blocked@example.org", "B", "B")));
  ASSERT_OK(b.WaitForStatus(b_send.id(), v1::MESSAGE_STATUS_SENT));

  // A's data is unchanged.
  ASSERT_OK_AND_ASSIGN(v1::Message a_after, a.GetMessage(m.id()));
  EXPECT_EQ(a_after.status(), v1::MESSAGE_STATUS_SENT);
  EXPECT_EQ(a_after.events_size(), a_before.events_size());
  EXPECT_THAT(TypesOf(a_after), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                            v1::EVENT_TYPE_ATTEMPT,
                                            v1::EVENT_TYPE_SENT));
  ASSERT_OK_AND_ASSIGN(v1::ListMessagesResponse a_list,
                       a.ListMessages(v1::ListMessagesRequest()));
  ASSERT_THAT(a_list.messages(), SizeIs(1));
  EXPECT_EQ(a_list.messages(0).id(), m.id());
  ASSERT_OK_AND_ASSIGN(checked, a.CheckSuppression(check));
  ASSERT_THAT(checked.results(), SizeIs(1));
  EXPECT_TRUE(checked.results(0).suppressed());
  EXPECT_EQ(checked.results(0).suppression().reason(),
            v1::SUPPRESSION_REASON_COMPLAINT);
}

}  // namespace
}  // namespace deliverd::e2e
