// A fixed alert shared by the alert tests, and its plain-text rendering.
#ifndef DELIVERD_TESTS_SERVER_ALERTS_TESTING_SAMPLE_ALERT_H_
#define DELIVERD_TESTS_SERVER_ALERTS_TESTING_SAMPLE_ALERT_H_

#include "absl/time/time.h"
#include "server/alerts/alert.h"

namespace deliverd::alerts {

inline Alert SampleAlert() {
  Alert alert;
  alert.kind = AlertKind::kHardBounce;
  alert.severity = AlertSeverity::kCritical;
  alert.tenant = "acme";
  alert.title = "Hard bounce to bob@example.com";
  alert.what_happened =
      "The receiving server rejected the message permanently.";
  alert.message_ids = {"m-1"};
  alert.evidence = "550 5.1.1 <bob@example.com>: user \"unknown\"";
  alert.what_to_do = "Remove the address from the list; it is suppressed.";
  alert.time = absl::FromUnixSeconds(1700000000);  // 2023-11-14T22:13:20Z
  return alert;
}

// RenderAlertText(SampleAlert()).
inline constexpr char kSampleText[] =
    "[CRITICAL] Hard bounce to bob@example.com\n"
    "Tenant: acme\n"
    "What happened: The receiving server rejected the message permanently.\n"
    "Messages (1): m-1\n"
    "Evidence: 550 5.1.1 <bob@example.com>: user \"unknown\"\n"
    "What to do: Remove the address from the list; it is suppressed.\n"
    "Time: 2023-11-14T22:13:20Z";

}  // namespace deliverd::alerts

#endif  // DELIVERD_TESTS_SERVER_ALERTS_TESTING_SAMPLE_ALERT_H_
