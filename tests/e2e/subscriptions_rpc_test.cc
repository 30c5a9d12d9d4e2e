// Subscriptions RPCs (Subscribe, Unsubscribe, GetSubscription,
// ListSubscriptions) and `deliverctl subscriptions ...` against a real
// deliverd: state per list, the list-scoped UNSUBSCRIBED suppression and
// event, resubscription, double opt-in, validation, tenant isolation and
// request-id replay.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "testing_deliverd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::e2e {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

class SubscriptionsRpcTest : public SharedDeliverdTest<SubscriptionsRpcTest> {};

constexpr char kReader[] = "reader@example.org";

absl::StatusOr<v1::Subscription>
Subscribe(Client &client, const v1::SubscribeRequest &request) {
  v1::Subscription response;
  grpc::Status s = client.subscriptions().Subscribe(client.Context().get(),
                                                    request, &response);
  if (!s.ok())
    return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::Subscription>
Subscribe(Client &client, const std::string &address, const std::string &list) {
  v1::SubscribeRequest request;
  request.set_address(address);
  request.set_list(list);
  return Subscribe(client, request);
}

absl::StatusOr<v1::Subscription>
Unsubscribe(Client &client, const v1::UnsubscribeRequest &request) {
  v1::Subscription response;
  grpc::Status s = client.subscriptions().Unsubscribe(client.Context().get(),
                                                      request, &response);
  if (!s.ok())
    return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::Subscription> Unsubscribe(Client &client,
                                             const std::string &address,
                                             const std::string &list,
                                             const std::string &reason) {
  v1::UnsubscribeRequest request;
  request.set_address(address);
  request.set_list(list);
  request.set_reason(reason);
  return Unsubscribe(client, request);
}

absl::StatusOr<v1::Subscription> Get(Client &client, const std::string &address,
                                     const std::string &list) {
  v1::GetSubscriptionRequest request;
  request.set_address(address);
  request.set_list(list);
  v1::Subscription response;
  grpc::Status s = client.subscriptions().GetSubscription(
      client.Context().get(), request, &response);
  if (!s.ok())
    return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::ListSubscriptionsResponse> List(Client &client,
                                                   const std::string &address) {
  v1::ListSubscriptionsRequest request;
  request.set_address(address);
  v1::ListSubscriptionsResponse response;
  grpc::Status s = client.subscriptions().ListSubscriptions(
      client.Context().get(), request, &response);
  if (!s.ok())
    return FromGrpc(s);
  return response;
}

// The suppression check of one address for `stream`.
v1::SuppressionCheck CheckOne(Client &client, const std::string &address,
                              const std::string &stream) {
  v1::CheckSuppressionRequest request;
  request.add_addresses(address);
  request.set_stream(stream);
  absl::StatusOr<v1::CheckSuppressionResponse> response =
      client.CheckSuppression(request);
  EXPECT_TRUE(response.ok()) << response.status();
  if (!response.ok() || response->results_size() != 1) {
    return v1::SuppressionCheck();
  }
  return response->results(0);
}

// Every UNSUBSCRIBED event of the tenant so far, waiting until there are
// `count` of them.
absl::StatusOr<std::vector<v1::Event>> UnsubscribedEvents(Client &client,
                                                          size_t count) {
  v1::WatchEventsRequest request;
  request.set_from_beginning(true);
  request.add_types(v1::EVENT_TYPE_UNSUBSCRIBED);
  return client.Watch(request, [count](const std::vector<v1::Event> &events) {
    return events.size() >= count;
  });
}

std::vector<std::string> ListsOf(const v1::ListSubscriptionsResponse &r) {
  std::vector<std::string> lists;
  for (const v1::Subscription &s : r.subscriptions())
    lists.push_back(s.list());
  return lists;
}

TEST_F(SubscriptionsRpcTest, SubscribeGetListAndUnsubscribeOneList) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SubscribeRequest news;
  news.set_address("Reader@Example.ORG");
  news.set_list("news");
  (*news.mutable_metadata())["plan"] = "pro";
  ASSERT_OK_AND_ASSIGN(v1::Subscription subscribed, Subscribe(client, news));
  EXPECT_EQ(subscribed.address(), kReader);
  EXPECT_EQ(subscribed.list(), "news");
  EXPECT_EQ(subscribed.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  EXPECT_EQ(subscribed.source(), "api");
  EXPECT_EQ(subscribed.metadata().at("plan"), "pro");
  EXPECT_GT(subscribed.create_time().seconds(), 0);
  ASSERT_OK(Subscribe(client, kReader, "offers"));

  ASSERT_OK_AND_ASSIGN(v1::Subscription got,
                       Get(client, "READER@example.org", "news"));
  EXPECT_EQ(got.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  EXPECT_EQ(got.metadata().at("plan"), "pro");
  ASSERT_OK_AND_ASSIGN(v1::ListSubscriptionsResponse listed,
                       List(client, kReader));
  EXPECT_THAT(ListsOf(listed), ElementsAre("news", "offers"));

  ASSERT_OK_AND_ASSIGN(
      v1::Subscription left,
      Unsubscribe(client, kReader, "news", "clicked the footer link"));
  EXPECT_EQ(left.list(), "news");
  EXPECT_EQ(left.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
  EXPECT_EQ(left.source(), "api");
  // Metadata and create_time survive the unsubscribe.
  EXPECT_EQ(left.metadata().at("plan"), "pro");
  EXPECT_EQ(left.create_time().seconds(), subscribed.create_time().seconds());
  ASSERT_OK_AND_ASSIGN(got, Get(client, kReader, "offers"));
  EXPECT_EQ(got.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);

  // Suppressed for the list only: not tenant-wide, not other lists.
  v1::SuppressionCheck for_news = CheckOne(client, kReader, "news");
  EXPECT_TRUE(for_news.suppressed());
  EXPECT_EQ(for_news.suppression().reason(),
            v1::SUPPRESSION_REASON_UNSUBSCRIBED);
  EXPECT_EQ(for_news.suppression().scope(), "news");
  EXPECT_EQ(for_news.suppression().evidence(), "clicked the footer link");
  EXPECT_FALSE(CheckOne(client, kReader, "").suppressed());
  EXPECT_FALSE(CheckOne(client, kReader, "offers").suppressed());

  // One UNSUBSCRIBED event about no message.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> events,
                       UnsubscribedEvents(client, 1));
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].message(), "");
  EXPECT_EQ(events[0].recipient(), kReader);
  EXPECT_EQ(events[0].source(), "api");
  EXPECT_EQ(events[0].detail(), "list news: clicked the footer link");

  // Transactional mail still goes out; list mail is stopped.
  v1::SendRequest receipt = MakeSend("a@example.com", kReader, "Receipt", "r");
  receipt.set_stream("transactional");
  ASSERT_OK_AND_ASSIGN(v1::Message accepted, client.Send(receipt));
  ASSERT_OK(client.WaitForStatus(accepted.id(), v1::MESSAGE_STATUS_SENT));
  v1::SendRequest letter = MakeSend("a@example.com", kReader, "News", "n");
  letter.set_stream("news");
  ASSERT_OK_AND_ASSIGN(v1::Message stopped, client.Send(letter));
  EXPECT_EQ(stopped.status(), v1::MESSAGE_STATUS_SUPPRESSED);

  // Unsubscribing again changes nothing (no second event).
  ASSERT_OK_AND_ASSIGN(left, Unsubscribe(client, kReader, "news", "again"));
  EXPECT_EQ(left.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
  EXPECT_EQ(CheckOne(client, kReader, "news").suppression().evidence(),
            "clicked the footer link");
}

TEST_F(SubscriptionsRpcTest, ResubscribeLiftsOnlyTheUnsubscribeSuppression) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK(Subscribe(client, kReader, "news"));
  ASSERT_OK(Unsubscribe(client, kReader, "news", "too many mails"));
  ASSERT_TRUE(CheckOne(client, kReader, "news").suppressed());
  ASSERT_OK_AND_ASSIGN(v1::Subscription back,
                       Subscribe(client, kReader, "news"));
  EXPECT_EQ(back.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  EXPECT_FALSE(CheckOne(client, kReader, "news").suppressed());

  // A manual suppression in the list's scope stays through unsubscribe and
  // subscribe.
  const std::string manual = "manual@example.org";
  ASSERT_OK(Subscribe(client, manual, "news"));
  v1::AddSuppressionRequest add;
  add.set_address(manual);
  add.set_reason(v1::SUPPRESSION_REASON_MANUAL);
  add.set_scope("news");
  add.set_note("legal hold");
  ASSERT_OK(client.AddSuppression(add));
  ASSERT_OK(Unsubscribe(client, manual, "news", "bye"));
  EXPECT_EQ(CheckOne(client, manual, "news").suppression().reason(),
            v1::SUPPRESSION_REASON_MANUAL);
  ASSERT_OK_AND_ASSIGN(back, Subscribe(client, manual, "news"));
  EXPECT_EQ(back.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  v1::SuppressionCheck still = CheckOne(client, manual, "news");
  EXPECT_TRUE(still.suppressed());
  EXPECT_EQ(still.suppression().reason(), v1::SUPPRESSION_REASON_MANUAL);
  EXPECT_EQ(still.suppression().evidence(), "legal hold");

  // A tenant-wide hard bounce stays too.
  const std::string bounced = "bounced@example.org";
  v1::AddSuppressionRequest hard;
  hard.set_address(bounced);
  hard.set_reason(v1::SUPPRESSION_REASON_HARD_BOUNCE);
  ASSERT_OK(client.AddSuppression(hard));
  ASSERT_OK(Subscribe(client, bounced, "news"));
  EXPECT_EQ(CheckOne(client, bounced, "").suppression().reason(),
            v1::SUPPRESSION_REASON_HARD_BOUNCE);
  EXPECT_TRUE(CheckOne(client, bounced, "news").suppressed());
}

TEST_F(SubscriptionsRpcTest, UnsubscribeFromEveryList) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK(Subscribe(client, kReader, "news"));
  ASSERT_OK(Subscribe(client, kReader, "offers"));
  v1::SubscribeRequest pending;
  pending.set_address(kReader);
  pending.set_list("digest");
  pending.set_double_opt_in(true);
  ASSERT_OK(Subscribe(client, pending));

  EXPECT_EQ(Unsubscribe(client, "nobody@example.org", "", "x").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<v1::Subscription> other =
      Unsubscribe(client, kReader, "other", "x");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(other.status().message()), StartsWith("list"));

  ASSERT_OK_AND_ASSIGN(v1::Subscription first,
                       Unsubscribe(client, kReader, "", "account closed"));
  EXPECT_EQ(first.list(), "digest");
  EXPECT_EQ(first.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
  ASSERT_OK_AND_ASSIGN(v1::ListSubscriptionsResponse listed,
                       List(client, kReader));
  ASSERT_THAT(listed.subscriptions(), SizeIs(3));
  for (const v1::Subscription &s : listed.subscriptions()) {
    EXPECT_EQ(s.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED) << s.list();
    EXPECT_EQ(s.source(), "api");
    v1::SuppressionCheck check = CheckOne(client, kReader, s.list());
    EXPECT_TRUE(check.suppressed()) << s.list();
    EXPECT_EQ(check.suppression().scope(), s.list());
  }
  EXPECT_FALSE(CheckOne(client, kReader, "").suppressed());
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> events,
                       UnsubscribedEvents(client, 3));
  std::vector<std::string> details;
  for (const v1::Event &e : events)
    details.push_back(e.detail());
  EXPECT_THAT(details, ElementsAre("list digest: account closed",
                                   "list news: account closed",
                                   "list offers: account closed"));
}

TEST_F(SubscriptionsRpcTest, DoubleOptInIsPendingUntilConfirmed) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SubscribeRequest request;
  request.set_address(kReader);
  request.set_list("news");
  request.set_double_opt_in(true);
  ASSERT_OK_AND_ASSIGN(v1::Subscription pending, Subscribe(client, request));
  EXPECT_EQ(pending.state(), v1::SUBSCRIPTION_STATE_PENDING);

  v1::SubscribeRequest confirm;
  confirm.set_address(kReader);
  confirm.set_list("news");
  confirm.set_confirm(true);
  ASSERT_OK_AND_ASSIGN(v1::Subscription confirmed, Subscribe(client, confirm));
  EXPECT_EQ(confirmed.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  // Confirming twice is harmless; double opt-in never demotes.
  ASSERT_OK_AND_ASSIGN(confirmed, Subscribe(client, confirm));
  EXPECT_EQ(confirmed.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  ASSERT_OK_AND_ASSIGN(confirmed, Subscribe(client, request));
  EXPECT_EQ(confirmed.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);

  v1::SubscribeRequest nothing = confirm;
  nothing.set_address("stranger@example.org");
  absl::StatusOr<v1::Subscription> refused = Subscribe(client, nothing);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
      << refused.status();

  // After an unsubscribe, a double opt-in keeps the suppression until the
  // address confirms.
  ASSERT_OK(Unsubscribe(client, kReader, "news", "bye"));
  refused = Subscribe(client, confirm);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(pending, Subscribe(client, request));
  EXPECT_EQ(pending.state(), v1::SUBSCRIPTION_STATE_PENDING);
  EXPECT_TRUE(CheckOne(client, kReader, "news").suppressed());
  ASSERT_OK_AND_ASSIGN(confirmed, Subscribe(client, confirm));
  EXPECT_EQ(confirmed.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  EXPECT_FALSE(CheckOne(client, kReader, "news").suppressed());
}

TEST_F(SubscriptionsRpcTest, BadInputNamesTheField) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  struct Case {
    std::string what;
    v1::SubscribeRequest request;
    std::string field;
  };
  std::vector<Case> cases;
  auto base = [] {
    v1::SubscribeRequest r;
    r.set_address(kReader);
    r.set_list("news");
    return r;
  };
  {
    Case c{"no address", base(), "address: "};
    c.request.clear_address();
    cases.push_back(c);
  }
  {
    Case c{"bad address", base(), "address: "};
    c.request.set_address("not an address");
    cases.push_back(c);
  }
  {
    Case c{"no list", base(), "list: "};
    c.request.clear_list();
    cases.push_back(c);
  }
  {
    Case c{"bad list", base(), "list: "};
    c.request.set_list("my list");
    cases.push_back(c);
  }
  {
    Case c{"long list", base(), "list: "};
    c.request.set_list(std::string(65, 'l'));
    cases.push_back(c);
  }
  {
    Case c{"too much metadata", base(), "metadata: "};
    for (int i = 0; i < 21; ++i) {
      (*c.request.mutable_metadata())[absl::StrCat("k", i)] = "v";
    }
    cases.push_back(c);
  }
  {
    Case c{"bad metadata key", base(), "metadata[bad key]: "};
    (*c.request.mutable_metadata())["bad key"] = "v";
    cases.push_back(c);
  }
  {
    Case c{"long metadata value", base(), "metadata[k]: "};
    (*c.request.mutable_metadata())["k"] = std::string(1025, 'v');
    cases.push_back(c);
  }
  {
    Case c{"bad request id", base(), "request_id: "};
    c.request.set_request_id("has space");
    cases.push_back(c);
  }
  {
    Case c{"confirm with double opt-in", base(), "confirm: "};
    c.request.set_confirm(true);
    c.request.set_double_opt_in(true);
    cases.push_back(c);
  }
  for (const Case &c : cases) {
    absl::StatusOr<v1::Subscription> r = Subscribe(client, c.request);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << c.what << ": " << r.status();
    EXPECT_THAT(std::string(r.status().message()), StartsWith(c.field))
        << c.what;
  }

  auto invalid = [](const absl::Status &s, const std::string &field) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), StartsWith(field)) << s;
  };
  invalid(Unsubscribe(client, kReader, "news", "").status(), "reason: ");
  invalid(Unsubscribe(client, "", "news", "r").status(), "address: ");
  invalid(Unsubscribe(client, kReader, "bad list", "r").status(), "list: ");
  invalid(Get(client, kReader, "").status(), "list: ");
  invalid(Get(client, "@", "news").status(), "address: ");
  invalid(List(client, "").status(), "address: ");

  // Nothing was created by the refused calls.
  ASSERT_OK_AND_ASSIGN(v1::ListSubscriptionsResponse listed,
                       List(client, kReader));
  EXPECT_THAT(listed.subscriptions(), IsEmpty());
  absl::StatusOr<v1::Subscription> absent = Get(client, kReader, "news");
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(absent.status().message()), StartsWith("address: "));
}

TEST_F(SubscriptionsRpcTest, TenantsDoNotSeeEachOthersSubscriptions) {
  ASSERT_OK_AND_ASSIGN(Client a, server().NewTenantClient("subs-a"));
  ASSERT_OK_AND_ASSIGN(Client b, server().NewTenantClient("subs-b"));
  ASSERT_OK(Subscribe(a, kReader, "news"));
  EXPECT_EQ(Get(b, kReader, "news").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(v1::ListSubscriptionsResponse listed, List(b, kReader));
  EXPECT_THAT(listed.subscriptions(), IsEmpty());
  EXPECT_EQ(Unsubscribe(b, kReader, "news", "x").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_OK(Unsubscribe(a, kReader, "news", "bye"));
  EXPECT_TRUE(CheckOne(a, kReader, "news").suppressed());
  EXPECT_FALSE(CheckOne(b, kReader, "news").suppressed());
  ASSERT_OK_AND_ASSIGN(v1::Subscription still, Get(a, kReader, "news"));
  EXPECT_EQ(still.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
}

TEST_F(SubscriptionsRpcTest, ReplayedRequestIdChangesNothing) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::SubscribeRequest subscribe;
  subscribe.set_address(kReader);
  subscribe.set_list("news");
  subscribe.set_request_id("sub-1");
  ASSERT_OK_AND_ASSIGN(v1::Subscription first, Subscribe(client, subscribe));
  EXPECT_EQ(first.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  ASSERT_OK(Unsubscribe(client, kReader, "news", "bye"));
  // The replay answers the current state instead of subscribing again.
  ASSERT_OK_AND_ASSIGN(v1::Subscription replayed, Subscribe(client, subscribe));
  EXPECT_EQ(replayed.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
  EXPECT_TRUE(CheckOne(client, kReader, "news").suppressed());

  ASSERT_OK(Subscribe(client, kReader, "news")); // no request id: applied
  v1::UnsubscribeRequest unsubscribe;
  unsubscribe.set_address(kReader);
  unsubscribe.set_list("news");
  unsubscribe.set_reason("bye again");
  unsubscribe.set_request_id("unsub-1");
  ASSERT_OK_AND_ASSIGN(v1::Subscription left, Unsubscribe(client, unsubscribe));
  EXPECT_EQ(left.state(), v1::SUBSCRIPTION_STATE_UNSUBSCRIBED);
  ASSERT_OK(Subscribe(client, kReader, "news"));
  ASSERT_OK_AND_ASSIGN(left, Unsubscribe(client, unsubscribe));
  EXPECT_EQ(left.state(), v1::SUBSCRIPTION_STATE_SUBSCRIBED);
  EXPECT_FALSE(CheckOne(client, kReader, "news").suppressed());
  // Two unsubscribes were applied: two events.
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> events,
                       UnsubscribedEvents(client, 2));
  EXPECT_THAT(events, SizeIs(2));
}

TEST_F(SubscriptionsRpcTest, DeliverctlSubscriptionsCommands) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  CtlOptions as_tenant;
  as_tenant.api_key_env = client.api_key();

  ProcessResult r = server().Deliverctl(
      {"subscriptions", "subscribe", "--address", "CLI@example.org", "--list",
       "news", "--meta", "plan=pro"},
      as_tenant);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("LIST"));
  EXPECT_THAT(r.out, HasSubstr("news"));
  EXPECT_THAT(r.out, HasSubstr("subscribed"));
  EXPECT_THAT(r.out, HasSubstr("api"));

  r = server().Deliverctl({"subscriptions", "subscribe", "--address",
                           "cli@example.org", "--list", "digest",
                           "--double-opt-in"},
                          as_tenant);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("pending"));
  r = server().Deliverctl({"subscriptions", "subscribe", "--address",
                           "cli@example.org", "--list", "digest", "--confirm"},
                          as_tenant);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("subscribed"));
  EXPECT_THAT(r.out, Not(HasSubstr("pending")));

  r = server().Deliverctl({"subscriptions", "get", "--address",
                           "cli@example.org", "--list", "news", "--json"},
                          as_tenant);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("\"SUBSCRIPTION_STATE_SUBSCRIBED\""));
  EXPECT_THAT(r.out, HasSubstr("\"plan\":\"pro\""));

  r = server().Deliverctl({"subscriptions", "unsubscribe", "--address",
                           "cli@example.org", "--list", "news", "--reason",
                           "asked by phone"},
                          as_tenant);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("unsubscribed"));

  r = server().Deliverctl(
      {"subscriptions", "get", "--address", "cli@example.org"}, as_tenant);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("STATE"));
  EXPECT_THAT(r.out, HasSubstr("digest"));
  EXPECT_THAT(r.out, HasSubstr("unsubscribed"));

  // Usage errors never reach the server; server errors exit 1.
  r = server().Deliverctl(
      {"subscriptions", "unsubscribe", "--address", "cli@example.org"},
      as_tenant);
  EXPECT_EQ(r.exit_code, 2) << r;
  r = server().Deliverctl({"subscriptions", "get", "--address",
                           "cli@example.org", "--list", "absent"},
                          as_tenant);
  EXPECT_EQ(r.exit_code, 1) << r;
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
}

} // namespace
} // namespace deliverd::e2e
