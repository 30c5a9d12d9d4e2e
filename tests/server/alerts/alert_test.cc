#include "server/alerts/alert.h"

#include <string>

#include "gtest/gtest.h"
#include "server/alerts/truncate.h"
#include "testing_sample_alert.h"

namespace deliverd::alerts {
namespace {

TEST(AlertTest, Names) {
  EXPECT_EQ(AlertKindName(AlertKind::kMessageFailed), "message_failed");
  EXPECT_EQ(AlertKindName(AlertKind::kHardBounce), "hard_bounce");
  EXPECT_EQ(AlertKindName(AlertKind::kComplaint), "complaint");
  EXPECT_EQ(AlertKindName(AlertKind::kBounceRate), "bounce_rate");
  EXPECT_EQ(AlertKindName(AlertKind::kComplaintRate), "complaint_rate");
  EXPECT_EQ(AlertKindName(AlertKind::kQueueAge), "queue_age");
  EXPECT_EQ(AlertKindName(AlertKind::kDomainAuthRegressed),
            "domain_auth_regressed");
  EXPECT_EQ(AlertKindName(AlertKind::kTest), "test");
  EXPECT_EQ(AlertSeverityName(AlertSeverity::kWarning), "warning");
  EXPECT_EQ(AlertSeverityName(AlertSeverity::kCritical), "critical");
}

TEST(AlertTest, RendersPlainText) {
  EXPECT_EQ(RenderAlertText(SampleAlert()), kSampleText);
}

TEST(AlertTest, LeavesOutEmptyParts) {
  Alert alert;
  alert.title = "Test alert";
  alert.time = absl::FromUnixSeconds(0);
  EXPECT_EQ(RenderAlertText(alert),
            "[WARNING] Test alert\nTime: 1970-01-01T00:00:00Z");
}

TEST(AlertTest, AggregatedMessagesAreListedThenCounted) {
  Alert alert = SampleAlert();
  alert.message_ids.clear();
  for (int i = 0; i < 12; ++i)
    alert.message_ids.push_back("m" + std::to_string(i));
  EXPECT_EQ(RenderMessageIds(alert),
            "m0, m1, m2, m3, m4, m5, m6, m7, m8, m9 and 2 more");
  alert.count = 1200;
  EXPECT_EQ(AlertMessageCount(alert), 1200);
  EXPECT_EQ(RenderMessageIds(alert),
            "m0, m1, m2, m3, m4, m5, m6, m7, m8, m9 and 1190 more");
  alert.message_ids.clear();
  EXPECT_EQ(RenderMessageIds(alert), "1200 messages");
}

TEST(AlertTest, LongEvidenceIsTruncatedWithMarker) {
  Alert alert = SampleAlert();
  alert.evidence = std::string(5000, 'e');
  const std::string text = RenderAlertText(alert);
  EXPECT_NE(text.find(std::string(kTruncationMarker)), std::string::npos);
  EXPECT_LT(text.size(), 1500u);
}

}  // namespace
}  // namespace deliverd::alerts
