#include "server/alerts/alert_queue.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_fakes.h"

namespace deliverd::alerts {
namespace {

using ::testing::HasSubstr;

// Blocks every Send() until released.
class GatedClient : public HttpClient {
 public:
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    {
      absl::MutexLock lock(&mu_);
      ++entered_;
    }
    release_.WaitForNotification();
    HttpResponse ok;
    ok.status_code = 200;
    return ok;
  }
  void WaitEntered(int n) {
    absl::MutexLock lock(&mu_);
    const auto entered = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return entered_ >= n;
    };
    mu_.Await(absl::Condition(&entered));
  }
  absl::Notification release_;

 private:
  absl::Mutex mu_;
  int entered_ ABSL_GUARDED_BY(mu_) = 0;
};

class Records {
 public:
  void Add(const DeliveryRecord& record) {
    absl::MutexLock lock(&mu_);
    records_.push_back(record);
  }
  std::vector<DeliveryRecord> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    const auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return records_.size() >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return records_;
  }

 private:
  absl::Mutex mu_;
  std::vector<DeliveryRecord> records_ ABSL_GUARDED_BY(mu_);
};

AlertJob Job(const std::string& channel) {
  AlertJob job;
  job.channel = channel;
  job.destination = "https://hooks.example";
  job.build = [](absl::Time) {
    HttpRequest request;
    request.url = "https://hooks.example/x";
    return request;
  };
  return job;
}

TEST(AlertQueueTest, DeliversAndReportsEachJob) {
  FakeClock clock(absl::FromUnixSeconds(1700000000));
  FakeHttpClient client({Status(500)});
  RetryPolicy policy;
  policy.jitter = 0;
  AlertSender sender(&client, &clock, policy);
  Records records;
  AlertQueue queue(&sender, 10,
                   [&](const DeliveryRecord& r) { records.Add(r); });
  EXPECT_TRUE(queue.Enqueue(Job("a")));
  EXPECT_TRUE(queue.Enqueue(Job("b")));
  const std::vector<DeliveryRecord> got = records.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].channel, "a");
  EXPECT_TRUE(got[0].accepted);
  EXPECT_EQ(got[0].attempts, 2);
  EXPECT_EQ(got[1].channel, "b");
  EXPECT_TRUE(got[1].accepted);
  EXPECT_EQ(queue.dropped(), 0);
  queue.Shutdown();
  EXPECT_EQ(queue.delivered(), 2);
}

TEST(AlertQueueTest, FullQueueDropsWithoutBlockingAndCounts) {
  GatedClient client;
  AlertSender sender(&client, RealClock(), RetryPolicy());
  Records records;
  AlertQueue queue(&sender, 2,
                   [&](const DeliveryRecord& r) { records.Add(r); });
  ASSERT_TRUE(queue.Enqueue(Job("in-flight")));
  client.WaitEntered(1);  // the worker holds it; the queue is empty again
  EXPECT_TRUE(queue.Enqueue(Job("q1")));
  EXPECT_TRUE(queue.Enqueue(Job("q2")));
  const absl::Time before = absl::Now();
  EXPECT_FALSE(queue.Enqueue(Job("over")));
  // The in-flight job is held until release_ below, so any wait for it
  // would never end; the bound only has to be finite on a loaded machine.
  EXPECT_LT(absl::Now() - before, absl::Seconds(5));
  EXPECT_EQ(queue.dropped(), 1);
  client.release_.Notify();
  const std::vector<DeliveryRecord> got = records.WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].channel, "in-flight");
  EXPECT_EQ(got[1].channel, "q1");
  EXPECT_EQ(got[2].channel, "q2");
  for (const DeliveryRecord& record : got) EXPECT_TRUE(record.accepted);
  queue.Shutdown();
  EXPECT_EQ(queue.delivered(), 3);
  EXPECT_EQ(records.WaitFor(3).size(), 3u);  // no record for the drop
}

TEST(AlertQueueTest, ShutdownInterruptsBackoffAndDropsTheRest) {
  // A receiver that always fails, with a long real backoff: Shutdown must
  // not wait for it.
  FakeHttpClient client({Status(500), Status(500), Status(500)});
  RetryPolicy policy;
  policy.initial_delay = absl::Minutes(10);
  policy.jitter = 0;
  AlertSender sender(&client, RealClock(), policy);
  Records records;
  auto queue = std::make_unique<AlertQueue>(
      &sender, 10, [&](const DeliveryRecord& r) { records.Add(r); });
  ASSERT_TRUE(queue->Enqueue(Job("first")));
  ASSERT_TRUE(queue->Enqueue(Job("second")));
  while (client.requests().empty()) absl::SleepFor(absl::Milliseconds(1));
  const absl::Time before = absl::Now();
  queue->Shutdown();
  EXPECT_LT(absl::Now() - before, absl::Seconds(30));  // the backoff is 10 min
  EXPECT_FALSE(queue->Enqueue(Job("late")));
  const std::vector<DeliveryRecord> got = records.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].channel, "first");
  EXPECT_FALSE(got[0].accepted);
  EXPECT_EQ(got[0].attempts, 1);
  EXPECT_THAT(got[0].error, HasSubstr("cancelled"));
  EXPECT_EQ(got[1].channel, "second");
  EXPECT_EQ(got[1].attempts, 0);
  EXPECT_EQ(got[1].destination, "https://hooks.example");
  EXPECT_EQ(got[1].error, "dropped: shutdown");
  EXPECT_EQ(queue->dropped(), 2);  // "second" and "late"
  EXPECT_EQ(queue->delivered(), 1);
}

}  // namespace
}  // namespace deliverd::alerts
