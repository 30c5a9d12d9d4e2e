// Resolver::LookupAll's default (through LookupAsync) keeps at most
// kMaxLookupsInFlight queries outstanding: issuing a list's thousands of
// domains at once overflowed UDP buffers (bench/verify_bench --dns).
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth_checks/dns/resolver.h"
#include "gtest/gtest.h"

namespace deliverd::auth_checks::dns {
namespace {

// Holds every query until no more arrive while some are outstanding (the
// caller is waiting), then answers the oldest: a caller that issues
// everything at once shows all of them outstanding together.
class HoldingResolver : public Resolver {
 public:
  explicit HoldingResolver(size_t expected) : expected_(expected) {
    thread_ = std::thread([this] { Answer(); });
  }
  ~HoldingResolver() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void LookupAsync(std::string_view name, RrType type,
                   Callback done) override {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(done));
    ++received_;
    max_pending_ = std::max(max_pending_, pending_.size());
    cv_.notify_all();
  }

  size_t max_pending() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_pending_;
  }

 private:
  void Answer() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      // Answer only when the caller has issued all it will issue now:
      // either everything, or it is at its limit.
      cv_.wait(lock, [this] {
        return stop_ || (!pending_.empty() &&
                         (received_ == expected_ ||
                          pending_.size() >= kMaxLookupsInFlight));
      });
      if (stop_) return;
      Callback done = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      dns::Answer answer;
      answer.outcome = Outcome::kNoData;
      done(std::move(answer));
      lock.lock();
    }
  }

  const size_t expected_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Callback> pending_;
  size_t received_ = 0;
  size_t max_pending_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

TEST(ResolverLookupAllTest, KeepsAtMostTheLimitOutstanding) {
  constexpr size_t kQueries = 1000;
  HoldingResolver resolver(kQueries);
  std::vector<Query> queries;
  for (size_t i = 0; i < kQueries; ++i) {
    queries.push_back(Query{"d" + std::to_string(i) + ".example", RrType::kMx});
  }
  std::vector<Answer> answers = resolver.LookupAll(queries);
  ASSERT_EQ(answers.size(), kQueries);
  for (const Answer& a : answers) EXPECT_EQ(a.outcome, Outcome::kNoData);
  EXPECT_LE(resolver.max_pending(), kMaxLookupsInFlight);
  EXPECT_EQ(resolver.max_pending(), kMaxLookupsInFlight);
}

TEST(ResolverLookupAllTest, FewerQueriesThanTheLimit) {
  HoldingResolver resolver(3);
  std::vector<Answer> answers = resolver.LookupAll(
      {Query{"a.example", RrType::kA}, Query{"b.example", RrType::kA},
       Query{"c.example", RrType::kA}});
  EXPECT_EQ(answers.size(), 3u);
  EXPECT_TRUE(resolver.LookupAll({}).empty());
}

}  // namespace
}  // namespace deliverd::auth_checks::dns
