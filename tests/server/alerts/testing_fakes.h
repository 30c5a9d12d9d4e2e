// Fakes for the alert sender tests: a scripted HttpClient and a clock whose
// Sleep() advances time instead of waiting.
#ifndef DELIVERD_TESTS_SERVER_ALERTS_TESTING_FAKES_H_
#define DELIVERD_TESTS_SERVER_ALERTS_TESTING_FAKES_H_

#include <deque>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/alerts/clock.h"
#include "server/alerts/http_client.h"

namespace deliverd::alerts {

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  bool Sleep(absl::Duration duration,
             const absl::Notification* cancel) override {
    if (cancel != nullptr && cancel->HasBeenNotified()) return false;
    absl::MutexLock lock(&mu_);
    sleeps_.push_back(duration);
    if (duration > absl::ZeroDuration()) now_ += duration;
    return true;
  }
  std::vector<absl::Duration> sleeps() {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_;
  std::vector<absl::Duration> sleeps_;
};

// Answers from a script (then 200); records the requests.
class FakeHttpClient : public HttpClient {
 public:
  explicit FakeHttpClient(std::deque<absl::StatusOr<HttpResponse>> script = {})
      : script_(std::move(script)) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    if (script_.empty()) {
      HttpResponse ok;
      ok.status_code = 200;
      return ok;
    }
    absl::StatusOr<HttpResponse> next = std::move(script_.front());
    script_.pop_front();
    return next;
  }
  std::vector<HttpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::deque<absl::StatusOr<HttpResponse>> script_;
  std::vector<HttpRequest> requests_;
};

inline HttpResponse Status(
    int code, std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse response;
  response.status_code = code;
  response.headers = std::move(headers);
  return response;
}

}  // namespace deliverd::alerts

#endif  // DELIVERD_TESTS_SERVER_ALERTS_TESTING_FAKES_H_
