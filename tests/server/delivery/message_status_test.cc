#include "server/delivery/message_status.h"

#include "gtest/gtest.h"

namespace deliverd::delivery {
namespace {

using store::MessageStatus;

std::vector<store::Recipient> With(std::vector<MessageStatus> statuses) {
  std::vector<store::Recipient> out;
  for (MessageStatus s : statuses) {
    store::Recipient r;
    r.status = s;
    out.push_back(r);
  }
  return out;
}

TEST(DeriveMessageStatus, InProgressBeatsDeliveredBeatsRefused) {
  EXPECT_EQ(DeriveMessageStatus(With({MessageStatus::kSent,
                                      MessageStatus::kWaiting})),
            MessageStatus::kWaiting);
  EXPECT_EQ(DeriveMessageStatus(With({MessageStatus::kBounced,
                                      MessageStatus::kSent})),
            MessageStatus::kSent);
  EXPECT_EQ(DeriveMessageStatus(With({MessageStatus::kQueued,
                                      MessageStatus::kSuppressed})),
            MessageStatus::kQueued);
  EXPECT_EQ(DeriveMessageStatus(With({MessageStatus::kConfirmed,
                                      MessageStatus::kSent})),
            MessageStatus::kSent);
}

TEST(DeriveMessageStatus, OrdersRefusals) {
  EXPECT_EQ(DeriveMessageStatus(With({MessageStatus::kBlocked,
                                      MessageStatus::kBounced})),
            MessageStatus::kBounced);
  EXPECT_EQ(DeriveMessageStatus(With({MessageStatus::kSuppressed,
                                      MessageStatus::kFailed})),
            MessageStatus::kFailed);
  EXPECT_EQ(DeriveMessageStatus(With({MessageStatus::kSuppressed})),
            MessageStatus::kSuppressed);
  EXPECT_EQ(DeriveMessageStatus({}), MessageStatus::kFailed);
}

TEST(IsPending, OnlyQueuedAndWaiting) {
  EXPECT_TRUE(IsPending(MessageStatus::kQueued));
  EXPECT_TRUE(IsPending(MessageStatus::kWaiting));
  EXPECT_FALSE(IsPending(MessageStatus::kSent));
  EXPECT_FALSE(IsPending(MessageStatus::kSuppressed));
}

}  // namespace
}  // namespace deliverd::delivery
