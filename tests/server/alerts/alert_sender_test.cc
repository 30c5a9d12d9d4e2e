// The retry schedule of AlertSender, with a fake client and clock (no
// sleeping).
#include "server/alerts/alert_sender.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_fakes.h"

namespace deliverd::alerts {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

RetryPolicy ExactPolicy() {
  RetryPolicy policy;
  policy.max_attempts = 5;
  policy.initial_delay = absl::Seconds(1);
  policy.max_delay = absl::Seconds(6);
  policy.jitter = 0;
  policy.max_retry_after = absl::Minutes(2);
  return policy;
}

HttpRequest Request() {
  HttpRequest request;
  request.url = "https://hooks.example/secret/path";
  request.body = "{}";
  return request;
}

TEST(BackoffDelayTest, DoublesUpToMaxWithJitterBelow) {
  const RetryPolicy policy = ExactPolicy();
  EXPECT_EQ(BackoffDelay(policy, 1, 0.5), absl::Seconds(1));
  EXPECT_EQ(BackoffDelay(policy, 2, 0.5), absl::Seconds(2));
  EXPECT_EQ(BackoffDelay(policy, 3, 0.5), absl::Seconds(4));
  EXPECT_EQ(BackoffDelay(policy, 4, 0.5), absl::Seconds(6));
  EXPECT_EQ(BackoffDelay(policy, 60, 0.5), absl::Seconds(6));
  RetryPolicy jittered = policy;
  jittered.jitter = 0.5;
  EXPECT_EQ(BackoffDelay(jittered, 3, 0.0), absl::Seconds(4));
  EXPECT_EQ(BackoffDelay(jittered, 3, 0.5), absl::Seconds(3));
  EXPECT_EQ(BackoffDelay(jittered, 3, 1.0), absl::Seconds(2));
}

TEST(AlertSenderTest, AcceptedAtOnce) {
  FakeClock clock(kStart);
  FakeHttpClient client;
  AlertSender sender(&client, &clock, ExactPolicy());
  const DeliveryRecord record = sender.Deliver("slack", Request());
  EXPECT_TRUE(record.accepted);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.status_code, 200);
  EXPECT_EQ(record.channel, "slack");
  EXPECT_EQ(record.destination, "https://hooks.example");
  EXPECT_EQ(record.error, "");
  EXPECT_EQ(record.first_attempt, kStart);
  EXPECT_EQ(record.last_attempt, kStart);
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(AlertSenderTest, RetriesTransportErrorsAnd5xxWithBackoff) {
  FakeClock clock(kStart);
  FakeHttpClient client({absl::UnavailableError("refused"), Status(500),
                         absl::DeadlineExceededError("slow"), Status(502),
                         Status(204)});
  AlertSender sender(&client, &clock, ExactPolicy());
  const DeliveryRecord record = sender.Deliver("webhook", Request());
  EXPECT_TRUE(record.accepted);
  EXPECT_EQ(record.attempts, 5);
  EXPECT_EQ(record.status_code, 204);
  EXPECT_THAT(clock.sleeps(), ElementsAre(absl::Seconds(1), absl::Seconds(2),
                                          absl::Seconds(4), absl::Seconds(6)));
  EXPECT_EQ(record.first_attempt, kStart);
  EXPECT_EQ(record.last_attempt, kStart + absl::Seconds(13));
}

TEST(AlertSenderTest, GivesUpAfterMaxAttempts) {
  FakeClock clock(kStart);
  FakeHttpClient client({absl::UnavailableError("connection refused"),
                         absl::UnavailableError("connection refused"),
                         absl::UnavailableError("connection refused")});
  RetryPolicy policy = ExactPolicy();
  policy.max_attempts = 3;
  AlertSender sender(&client, &clock, policy);
  const DeliveryRecord record = sender.Deliver("webhook", Request());
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 3);
  EXPECT_EQ(record.status_code, 0);
  EXPECT_THAT(record.error, HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(client.requests().size(), 3u);
}

TEST(AlertSenderTest, DoesNotRetryOther4xxOrPermanentErrors) {
  for (const auto& answer : std::vector<absl::StatusOr<HttpResponse>>{
           Status(400), Status(404), Status(301),
           absl::InvalidArgumentError("bad url"),
           absl::FailedPreconditionError("certificate")}) {
    FakeClock clock(kStart);
    FakeHttpClient client({answer});
    AlertSender sender(&client, &clock, ExactPolicy());
    const DeliveryRecord record = sender.Deliver("slack", Request());
    EXPECT_FALSE(record.accepted);
    EXPECT_EQ(record.attempts, 1);
    EXPECT_TRUE(clock.sleeps().empty());
  }
}

TEST(AlertSenderTest, HonoursRetryAfterOn429And503) {
  FakeClock clock(kStart);
  FakeHttpClient client(
      {Status(429, {{"retry-after", "17"}}),
       Status(503, {{"retry-after", "Tue, 14 Nov 2023 22:14:00 GMT"}}),
       Status(500, {{"retry-after", "99"}}),  // ignored on 500
       Status(200)});
  AlertSender sender(&client, &clock, ExactPolicy());
  const DeliveryRecord record = sender.Deliver("discord", Request());
  EXPECT_TRUE(record.accepted);
  EXPECT_EQ(record.attempts, 4);
  // 22:13:20 + 17 s = 22:13:37; the date is 23 s later; then backoff(3) = 4 s.
  EXPECT_THAT(clock.sleeps(), ElementsAre(absl::Seconds(17), absl::Seconds(23),
                                          absl::Seconds(4)));
}

TEST(AlertSenderTest, RetryAfterBeyondLimitStops) {
  FakeClock clock(kStart);
  FakeHttpClient client({Status(429, {{"retry-after", "3600"}})});
  AlertSender sender(&client, &clock, ExactPolicy());
  const DeliveryRecord record = sender.Deliver("slack", Request());
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_EQ(record.status_code, 429);
  EXPECT_THAT(record.error, HasSubstr("Retry-After"));
}

TEST(AlertSenderTest, JitterShortensTheWait) {
  FakeClock clock(kStart);
  FakeHttpClient client({Status(500), Status(500)});
  RetryPolicy policy = ExactPolicy();
  policy.jitter = 0.5;
  AlertSender sender(&client, &clock, policy);
  sender.SetRandomForTesting([] { return 0.5; });
  sender.Deliver("slack", Request());
  EXPECT_THAT(clock.sleeps(),
              ElementsAre(absl::Milliseconds(750), absl::Milliseconds(1500)));
}

TEST(AlertSenderTest, RebuildsTheRequestForEachAttempt) {
  FakeClock clock(kStart);
  FakeHttpClient client({Status(500)});
  AlertSender sender(&client, &clock, ExactPolicy());
  std::vector<absl::Time> built_at;
  sender.Deliver("webhook", [&](absl::Time now) {
    built_at.push_back(now);
    return Request();
  });
  EXPECT_THAT(built_at, ElementsAre(kStart, kStart + absl::Seconds(1)));
}

TEST(AlertSenderTest, CancelStopsTheWait) {
  FakeClock clock(kStart);
  FakeHttpClient client({Status(500)});
  AlertSender sender(&client, &clock, ExactPolicy());
  absl::Notification cancel;
  cancel.Notify();
  const DeliveryRecord record = sender.Deliver("slack", Request(), &cancel);
  EXPECT_FALSE(record.accepted);
  EXPECT_EQ(record.attempts, 1);
  EXPECT_THAT(record.error, HasSubstr("cancelled"));
}

}  // namespace
}  // namespace deliverd::alerts
