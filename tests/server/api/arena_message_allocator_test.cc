// ArenaMessageAllocator: a call's request and response share one arena that
// lives exactly as long as the holder gRPC releases.
#include "server/api/arena_message_allocator.h"

#include <string>

#include "deliverd/v1/messages.pb.h"
#include "gtest/gtest.h"

namespace deliverd::api {
namespace {

using Allocator = ArenaMessageAllocator<v1::SendBatchRequest,
                                        v1::SendBatchResponse>;

TEST(ArenaMessageAllocator, RequestAndResponseShareTheHoldersArena) {
  Allocator allocator;
  auto* holder = allocator.AllocateMessages();
  ASSERT_NE(holder->request(), nullptr);
  ASSERT_NE(holder->response(), nullptr);
  EXPECT_NE(holder->request()->GetArena(), nullptr);
  EXPECT_EQ(holder->request()->GetArena(), holder->response()->GetArena());
  holder->Release();
}

TEST(ArenaMessageAllocator, HoldsRequestsLargerThanItsFirstBlock) {
  v1::SendBatchRequest sent;
  for (int i = 0; i < 200; ++i) {
    v1::SendRequest* item = sent.add_messages();
    item->mutable_content()->mutable_from()->set_address("a@example.com");
    item->mutable_content()->add_to()->set_address(
        "user" + std::to_string(i) + "@example.org");
    item->mutable_content()->set_text_body(std::string(500, 'x'));
    (*item->mutable_metadata())["key"] = std::to_string(i);
  }
  std::string bytes = sent.SerializeAsString();
  ASSERT_GT(bytes.size(), 100000u);

  Allocator allocator;
  auto* holder = allocator.AllocateMessages();
  ASSERT_TRUE(holder->request()->ParseFromString(bytes));
  EXPECT_EQ(holder->request()->SerializeAsString(), bytes);
  // Filled on another part of the call, as a handler does.
  holder->response()->set_accepted_count(200);
  holder->response()->add_results()->mutable_message()->set_id("m_1");
  EXPECT_EQ(holder->response()->results(0).message().id(), "m_1");
  // A heap copy stays valid after the holder is gone.
  v1::SendRequest kept = holder->request()->messages(199);
  holder->Release();
  EXPECT_EQ(kept.content().to(0).address(), "user199@example.org");
  EXPECT_EQ(kept.metadata().at("key"), "199");
}

TEST(ArenaMessageAllocator, HoldersAreIndependent) {
  Allocator allocator;
  auto* first = allocator.AllocateMessages();
  auto* second = allocator.AllocateMessages();
  EXPECT_NE(first->request()->GetArena(), second->request()->GetArena());
  first->request()->set_request_id("one");
  second->request()->set_request_id("two");
  first->Release();
  EXPECT_EQ(second->request()->request_id(), "two");
  second->Release();
}

}  // namespace
}  // namespace deliverd::api
