// Protocol surface: an RPC the server does not know answers UNIMPLEMENTED,
// and server reflection (called raw: Debian ships no reflection.proto).
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

class ProtocolTest : public SharedDeliverdTest<ProtocolTest> {};

constexpr char kReflection[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

TEST_F(ProtocolTest, UnknownRpcAnswersUnimplemented) {
  // Every RPC of the contract is implemented now (the cleaning jobs were the
  // last); an RPC the server does not know at all is still UNIMPLEMENTED.
  RawResult unknown = RawUnaryCall(server().NewChannel(),
                                   "/deliverd.v1.Messages/NoSuchMethod", "");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(ProtocolTest, ReflectionListsTheServices) {
  // ServerReflectionRequest{list_services: ""}: field 7, length 0.
  RawResult raw = RawBidiCall(server().NewChannel(), kReflection,
                              {std::string("\x3a\x00", 2)});
  ASSERT_TRUE(raw.status.ok()) << raw.status.error_code() << ": "
                               << raw.status.error_message();
  ASSERT_THAT(raw.responses, SizeIs(1));
  const std::string& bytes = raw.responses[0];
  EXPECT_THAT(bytes, HasSubstr("deliverd.v1.Messages"));
  EXPECT_THAT(bytes, HasSubstr("deliverd.v1.Subscriptions"));
  EXPECT_THAT(bytes, HasSubstr("deliverd.v1.Hygiene"));
  EXPECT_THAT(bytes, HasSubstr("grpc.reflection.v1alpha.ServerReflection"));
}

TEST_F(ProtocolTest, ReflectionServesTheFileDescriptors) {
  // ServerReflectionRequest{file_containing_symbol: "deliverd.v1.Messages"}:
  // field 4, length-delimited.
  const std::string symbol = "deliverd.v1.Messages";
  std::string request = "\x22";
  request.push_back(static_cast<char>(symbol.size()));
  request += symbol;
  RawResult raw = RawBidiCall(server().NewChannel(), kReflection, {request});
  ASSERT_TRUE(raw.status.ok()) << raw.status.error_message();
  ASSERT_THAT(raw.responses, SizeIs(1));
  EXPECT_THAT(raw.responses[0], HasSubstr("deliverd/v1/messages.proto"));
  EXPECT_THAT(raw.responses[0], HasSubstr("WatchEvents"));
}

}  // namespace
}  // namespace deliverd::e2e
