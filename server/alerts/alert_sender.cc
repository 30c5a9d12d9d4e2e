#include "server/alerts/alert_sender.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/alerts/retry_after.h"

namespace deliverd::alerts {

absl::Duration BackoffDelay(const RetryPolicy& policy, int attempt,
                            double unit_random) {
  absl::Duration delay = policy.initial_delay;
  for (int i = 1; i < attempt && delay < policy.max_delay; ++i) delay *= 2;
  delay = std::min(delay, policy.max_delay);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double unit = std::clamp(unit_random, 0.0, 1.0);
  return delay * (1.0 - jitter * unit);
}

bool IsRetryableStatus(int status_code) {
  return status_code == 429 || (status_code >= 500 && status_code <= 599);
}

JitterRandom::JitterRandom() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  random_ = [engine] {
    return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
  };
}

double JitterRandom::Next() {
  absl::MutexLock lock(&mu_);
  return random_();
}

void JitterRandom::Set(std::function<double()> random) {
  absl::MutexLock lock(&mu_);
  random_ = std::move(random);
}

bool WaitBeforeRetry(Clock* clock, absl::Duration wait,
                     const absl::Notification* cancel, DeliveryRecord* record) {
  if (clock->Sleep(wait, cancel)) return true;
  absl::StrAppend(&record->error, " (cancelled)");
  return false;
}

AlertSender::AlertSender(HttpClient* client, Clock* clock, RetryPolicy policy)
    : client_(client), clock_(clock), policy_(std::move(policy)) {}

void AlertSender::SetRandomForTesting(std::function<double()> random) {
  random_.Set(std::move(random));
}

DeliveryRecord AlertSender::Deliver(absl::string_view channel,
                                    const HttpRequest& request,
                                    const absl::Notification* cancel) {
  return Deliver(
      channel, [&request](absl::Time) { return request; }, cancel);
}

DeliveryRecord AlertSender::Deliver(absl::string_view channel,
                                    const RequestBuilder& build,
                                    const absl::Notification* cancel) {
  DeliveryRecord record;
  record.channel = std::string(channel);
  const int max_attempts = std::max(1, policy_.max_attempts);
  for (int attempt = 1;; ++attempt) {
    const absl::Time now = clock_->Now();
    const HttpRequest request = build(now);
    if (attempt == 1) {
      record.first_attempt = now;
      record.destination = RedactUrl(request.url);
    }
    record.last_attempt = now;
    record.attempts = attempt;

    const absl::StatusOr<HttpResponse> response = client_->Send(request);
    bool retryable;
    std::optional<absl::Duration> retry_after;
    if (!response.ok()) {
      record.status_code = 0;
      record.error = std::string(response.status().ToString());
      retryable = absl::IsUnavailable(response.status()) ||
                  absl::IsDeadlineExceeded(response.status());
    } else {
      record.status_code = response->status_code;
      if (response->status_code >= 200 && response->status_code <= 299) {
        record.accepted = true;
        record.error.clear();
        return record;
      }
      record.error =
          absl::StrCat("HTTP ", response->status_code,
                       response->body.empty()
                           ? ""
                           : absl::StrCat(": ", response->body.substr(0, 200)));
      retryable = IsRetryableStatus(response->status_code);
      if (response->status_code == 429 || response->status_code == 503) {
        if (auto header = response->Header("retry-after")) {
          retry_after = ParseRetryAfter(*header, clock_->Now());
        }
      }
    }
    if (!retryable || attempt >= max_attempts) return record;

    absl::Duration wait = BackoffDelay(policy_, attempt, random_.Next());
    if (retry_after.has_value()) {
      if (*retry_after > policy_.max_retry_after) {
        absl::StrAppend(&record.error, " (Retry-After ",
                        absl::FormatDuration(*retry_after),
                        " exceeds the limit of ",
                        absl::FormatDuration(policy_.max_retry_after), ")");
        return record;
      }
      wait = *retry_after;
    }
    if (!WaitBeforeRetry(clock_, wait, cancel, &record)) return record;
  }
}

}  // namespace deliverd::alerts
