// Suppressions and Resend: the suppression list stops sends and resends,
// an override needs a reason, and removal lets mail through again.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

class SuppressionsTest : public SharedDeliverdTest<SuppressionsTest> {};

constexpr char kBlocked[] = "blocked@example.org";

v1::CheckSuppressionResponse Check(Client& client,
                                   const std::vector<std::string>& addresses,
                                   const std::string& stream = "") {
  v1::CheckSuppressionRequest request;
  for (const std::string& a : addresses) request.add_addresses(a);
  request.set_stream(stream);
  absl::StatusOr<v1::CheckSuppressionResponse> response =
      client.CheckSuppression(request);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.value_or(v1::CheckSuppressionResponse());
}

TEST_F(SuppressionsTest, SuppressionStopsSendsAndResendsUntilRemoved) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());

  // An earlier message to the address, delivered before it was suppressed.
  ASSERT_OK_AND_ASSIGN(
      v1::Message original,
      client.Send(MakeSend("a@example.com", kBlocked, "Before", "Hello")));
  ASSERT_OK(client.WaitForStatus(original.id(), v1::MESSAGE_STATUS_SENT));

  v1::AddSuppressionRequest add;
  add.set_address("Blocked@Example.org");
  add.set_reason(v1::SUPPRESSION_REASON_MANUAL);
  add.set_note("asked us to stop");
  ASSERT_OK_AND_ASSIGN(v1::Suppression added, client.AddSuppression(add));
  EXPECT_EQ(added.address(), kBlocked);
  EXPECT_EQ(added.reason(), v1::SUPPRESSION_REASON_MANUAL);
  EXPECT_EQ(added.scope(), "");

  // Check and List.
  v1::CheckSuppressionResponse checked =
      Check(client, {"BLOCKED@example.org", "free@example.org"});
  ASSERT_THAT(checked.results(), SizeIs(2));
  EXPECT_TRUE(checked.results(0).suppressed());
  EXPECT_EQ(checked.results(0).suppression().reason(),
            v1::SUPPRESSION_REASON_MANUAL);
  EXPECT_FALSE(checked.results(1).suppressed());
  // A tenant-wide suppression applies to every stream.
  checked = Check(client, {kBlocked}, "newsletter");
  ASSERT_THAT(checked.results(), SizeIs(1));
  EXPECT_TRUE(checked.results(0).suppressed());
  ASSERT_OK_AND_ASSIGN(v1::ListSuppressionsResponse listed,
                       client.ListSuppressions(v1::ListSuppressionsRequest()));
  ASSERT_THAT(listed.suppressions(), SizeIs(1));
  EXPECT_EQ(listed.suppressions(0).address(), kBlocked);

  // A new send to it is stored as SUPPRESSED and never written out.
  ASSERT_OK_AND_ASSIGN(
      v1::Message suppressed,
      client.Send(MakeSend("a@example.com", kBlocked, "After", "Hello again")));
  EXPECT_EQ(suppressed.status(), v1::MESSAGE_STATUS_SUPPRESSED);
  ASSERT_THAT(suppressed.recipients(), SizeIs(1));
  EXPECT_EQ(suppressed.recipients(0).status(), v1::MESSAGE_STATUS_SUPPRESSED);
  EXPECT_THAT(suppressed.recipients(0).detail(), HasSubstr("suppressed"));
  // A later message that is delivered shows the dispatcher has run past it.
  ASSERT_OK_AND_ASSIGN(
      v1::Message later,
      client.Send(MakeSend("a@example.com", "free@example.org", "Free", "ok")));
  ASSERT_OK(client.WaitForStatus(later.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_OK_AND_ASSIGN(v1::Message still, client.GetMessage(suppressed.id()));
  EXPECT_EQ(still.status(), v1::MESSAGE_STATUS_SUPPRESSED);
  EXPECT_EQ(still.attempt_count(), 0);
  EXPECT_THAT(TypesOf(still), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                          v1::EVENT_TYPE_SUPPRESSED));
  EXPECT_FALSE(ReadFile(server().OutboxFile(suppressed.id())).has_value());

  // Resend of the earlier message: refused for the suppressed recipient.
  v1::ResendRequest resend;
  resend.add_names(original.name());
  ASSERT_OK_AND_ASSIGN(v1::ResendResponse refused, client.Resend(resend));
  ASSERT_THAT(refused.results(), SizeIs(1));
  EXPECT_EQ(refused.results(0).original(), original.name());
  ASSERT_TRUE(refused.results(0).has_error()) << refused.DebugString();
  EXPECT_EQ(refused.results(0).error().code(), 9);  // FAILED_PRECONDITION
  EXPECT_THAT(refused.results(0).error().message(), HasSubstr(kBlocked));

  // Override without a reason: the whole call is INVALID_ARGUMENT.
  resend.set_override_suppression(true);
  absl::StatusOr<v1::ResendResponse> no_reason = client.Resend(resend);
  EXPECT_EQ(no_reason.status().code(), absl::StatusCode::kInvalidArgument)
      << no_reason.status();
  EXPECT_THAT(std::string(no_reason.status().message()),
              StartsWith("override_reason"));

  // Nothing new so far: the original, the suppressed one, the free one.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Message> all,
                       client.ListAllMessages(v1::ListMessagesRequest()));
  EXPECT_THAT(all, SizeIs(3));

  // Override with a reason: a new message linked to the original, sent.
  resend.set_override_reason("customer re-confirmed by phone");
  ASSERT_OK_AND_ASSIGN(v1::ResendResponse resent, client.Resend(resend));
  ASSERT_THAT(resent.results(), SizeIs(1));
  ASSERT_TRUE(resent.results(0).has_message()) << resent.DebugString();
  const v1::Message& copy = resent.results(0).message();
  EXPECT_NE(copy.id(), original.id());
  EXPECT_EQ(copy.resend_of(), original.name());
  EXPECT_EQ(copy.subject(), "Before");
  // Not fatal: the rest of the flow is checked even when this fails.
  ASSERT_OK_AND_ASSIGN(v1::Message copy_sent, client.WaitUntilSettled(copy.id()));
  EXPECT_EQ(copy_sent.status(), v1::MESSAGE_STATUS_SENT)
      << "the suppression override was not honoured: "
      << copy_sent.DebugString();
  EXPECT_EQ(copy_sent.resend_of(), original.name());
  ASSERT_GE(copy_sent.events_size(), 1);
  EXPECT_THAT(copy_sent.events(0).detail(),
              HasSubstr("customer re-confirmed by phone"));
  std::optional<std::string> eml = ReadFile(server().OutboxFile(copy.id()));
  EXPECT_TRUE(eml.has_value()) << "the override resend was not written out";
  if (eml.has_value()) {
    EXPECT_THAT(*eml, HasSubstr("Subject: Before"));
    EXPECT_THAT(*eml, HasSubstr("Hello"));
  }

  ASSERT_OK_AND_ASSIGN(v1::Message original_now,
                       client.GetMessage(original.id()));
  EXPECT_THAT(TypesOf(original_now), ElementsAre(v1::EVENT_TYPE_QUEUED,
                                                 v1::EVENT_TYPE_ATTEMPT,
                                                 v1::EVENT_TYPE_SENT,
                                                 v1::EVENT_TYPE_RESENT));
  EXPECT_THAT(original_now.events(3).detail(), HasSubstr(copy.name()));
  EXPECT_EQ(original_now.status(), v1::MESSAGE_STATUS_SENT);

  // RemoveSuppression needs a reason, then lets mail through again.
  v1::RemoveSuppressionRequest remove;
  remove.set_address(kBlocked);
  absl::StatusOr<v1::Suppression> no_remove_reason =
      client.RemoveSuppression(remove);
  EXPECT_EQ(no_remove_reason.status().code(),
            absl::StatusCode::kInvalidArgument);
  remove.set_reason("re-confirmed opt-in");
  ASSERT_OK_AND_ASSIGN(v1::Suppression removed, client.RemoveSuppression(remove));
  EXPECT_EQ(removed.address(), kBlocked);
  checked = Check(client, {kBlocked});
  ASSERT_THAT(checked.results(), SizeIs(1));
  EXPECT_FALSE(checked.results(0).suppressed());
  ASSERT_OK_AND_ASSIGN(listed,
                       client.ListSuppressions(v1::ListSuppressionsRequest()));
  EXPECT_THAT(listed.suppressions(), IsEmpty());
  EXPECT_EQ(client.RemoveSuppression(remove).status().code(),
            absl::StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(
      v1::Message through,
      client.Send(MakeSend("a@example.com", kBlocked, "Welcome back", "Hi")));
  ASSERT_OK(client.WaitForStatus(through.id(), v1::MESSAGE_STATUS_SENT));
  EXPECT_TRUE(ReadFile(server().OutboxFile(through.id())).has_value());
  // And a plain resend now goes through without an override.
  v1::ResendRequest plain;
  plain.add_names(original.name());
  ASSERT_OK_AND_ASSIGN(v1::ResendResponse plain_resent, client.Resend(plain));
  ASSERT_THAT(plain_resent.results(), SizeIs(1));
  ASSERT_TRUE(plain_resent.results(0).has_message())
      << plain_resent.DebugString();
  ASSERT_OK(client.WaitForStatus(plain_resent.results(0).message().id(),
                                 v1::MESSAGE_STATUS_SENT));
}

TEST_F(SuppressionsTest, ScopedSuppressionAppliesOnlyToItsStream) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::AddSuppressionRequest add;
  add.set_address("reader@example.org");
  add.set_reason(v1::SUPPRESSION_REASON_UNSUBSCRIBED);
  add.set_scope("newsletter");
  ASSERT_OK(client.AddSuppression(add));

  v1::SendRequest news =
      MakeSend("a@example.com", "reader@example.org", "News", "n");
  news.set_stream("newsletter");
  ASSERT_OK_AND_ASSIGN(v1::Message stopped, client.Send(news));
  EXPECT_EQ(stopped.status(), v1::MESSAGE_STATUS_SUPPRESSED);

  v1::SendRequest receipt =
      MakeSend("a@example.com", "reader@example.org", "Receipt", "r");
  receipt.set_stream("transactional");
  ASSERT_OK_AND_ASSIGN(v1::Message allowed, client.Send(receipt));
  ASSERT_OK(client.WaitForStatus(allowed.id(), v1::MESSAGE_STATUS_SENT));

  // Listing: tenant-wide only by default, the scope by name or "*".
  ASSERT_OK_AND_ASSIGN(v1::ListSuppressionsResponse tenant_wide,
                       client.ListSuppressions(v1::ListSuppressionsRequest()));
  EXPECT_THAT(tenant_wide.suppressions(), IsEmpty());
  v1::ListSuppressionsRequest every;
  every.set_scope("*");
  ASSERT_OK_AND_ASSIGN(v1::ListSuppressionsResponse all,
                       client.ListSuppressions(every));
  ASSERT_THAT(all.suppressions(), SizeIs(1));
  EXPECT_EQ(all.suppressions(0).scope(), "newsletter");
}

TEST_F(SuppressionsTest, PartlySuppressedMessageSendsToTheOthers) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::AddSuppressionRequest add;
  add.set_address("gone@example.org");
  add.set_reason(v1::SUPPRESSION_REASON_HARD_BOUNCE);
  ASSERT_OK(client.AddSuppression(add));
  v1::SendRequest request =
      MakeSend("a@example.com", "here@example.org", "Two", "t");
  request.mutable_content()->add_to()->set_address("gone@example.org");
  ASSERT_OK_AND_ASSIGN(v1::Message accepted, client.Send(request));
  ASSERT_OK_AND_ASSIGN(
      v1::Message sent,
      client.WaitForStatus(accepted.id(), v1::MESSAGE_STATUS_SENT));
  ASSERT_THAT(sent.recipients(), SizeIs(2));
  EXPECT_EQ(sent.recipients(0).status(), v1::MESSAGE_STATUS_SENT);
  EXPECT_EQ(sent.recipients(1).status(), v1::MESSAGE_STATUS_SUPPRESSED);
  std::optional<std::string> eml = ReadFile(server().OutboxFile(sent.id()));
  ASSERT_TRUE(eml.has_value());
  EXPECT_THAT(*eml, HasSubstr("X-Deliverd-Rcpt-To: here@example.org\r\n"));
}

}  // namespace
}  // namespace deliverd::e2e
