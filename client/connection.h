// The gRPC channel to deliverd and the per-call contexts that carry the API
// key and the deadline.
//
// Contract: one Connection per command run. Every context from NewContext()
// carries "authorization: Bearer <key>" when a key is configured and the
// deadline of --timeout (default 30 s). NewStreamContext() is for
// long-lived streams (watch): it has a deadline only when the user gave
// --timeout, because a stream that "stays open until the client cancels
// it" must not die after 30 s by default.
//
// The channel is plaintext: deliverd's default is 127.0.0.1. TLS for remote
// servers is a later addition here, not in each command.
#ifndef DELIVERD_CLIENT_CONNECTION_H_
#define DELIVERD_CLIENT_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "client/settings.h"
#include "deliverd/v1/messages.grpc.pb.h"
#include "deliverd/v1/subscriptions.grpc.pb.h"

namespace deliverd::client {

class Connection {
 public:
  explicit Connection(const ConnectionSettings& settings);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::unique_ptr<grpc::ClientContext> NewContext() const;
  std::unique_ptr<grpc::ClientContext> NewStreamContext() const;

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  v1::Messages::Stub& messages() { return *messages_; }
  v1::Subscriptions::Stub& subscriptions() { return *subscriptions_; }

 private:
  std::unique_ptr<grpc::ClientContext> NewContextWithDeadline(
      bool deadline) const;

  ConnectionSettings settings_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Messages::Stub> messages_;
  std::unique_ptr<v1::Subscriptions::Stub> subscriptions_;
};

}  // namespace deliverd::client

#endif  // DELIVERD_CLIENT_CONNECTION_H_
