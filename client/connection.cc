#include "client/connection.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace deliverd::client {

Connection::Connection(const ConnectionSettings& settings)
    : settings_(settings) {
  grpc::ChannelArguments args;
  args.SetUserAgentPrefix("deliverctl");
  // GetMessage returns a message's whole event history, which can outgrow
  // gRPC's 4 MiB default for long-lived messages.
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc::CreateCustomChannel(
      settings_.server, grpc::InsecureChannelCredentials(), args);
  messages_ = v1::Messages::NewStub(channel_);
  subscriptions_ = v1::Subscriptions::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Connection::NewContext() const {
  return NewContextWithDeadline(true);
}

std::unique_ptr<grpc::ClientContext> Connection::NewStreamContext() const {
  return NewContextWithDeadline(settings_.timeout_explicit);
}

std::unique_ptr<grpc::ClientContext> Connection::NewContextWithDeadline(
    bool deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!settings_.api_key.empty()) {
    context->AddMetadata("authorization",
                         absl::StrCat("Bearer ", settings_.api_key));
  }
  if (deadline) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + settings_.timeout));
  }
  return context;
}

}  // namespace deliverd::client
