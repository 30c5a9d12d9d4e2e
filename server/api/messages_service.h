// deliverd.v1.Messages over gRPC's callback API.
//
// The callback API is chosen for throughput: a Send is acknowledged from the
// store's commit callback, so no server thread waits on the disk while a
// group commit is being formed. Reads run inline (they are short and do not
// wait for the writer). WatchEvents streams are driven by the EventHub.
//
// Every call authenticates first and then touches only the caller's tenant.
#ifndef DELIVERD_SERVER_API_MESSAGES_SERVICE_H_
#define DELIVERD_SERVER_API_MESSAGES_SERVICE_H_

#include "deliverd/v1/messages.grpc.pb.h"
#include "server/api/arena_message_allocator.h"
#include "server/api/send_validation.h"
#include "server/api/service_context.h"

namespace deliverd::api {

class MessagesService final : public v1::Messages::CallbackService {
 public:
  explicit MessagesService(ServiceContext* context) : ctx_(context) {
    SetMessageAllocatorFor_Send(&send_allocator_);
    SetMessageAllocatorFor_SendBatch(&send_batch_allocator_);
  }

  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* call,
                                 const v1::SendRequest* request,
                                 v1::SendResponse* response) override;
  grpc::ServerUnaryReactor* SendBatch(grpc::CallbackServerContext* call,
                                      const v1::SendBatchRequest* request,
                                      v1::SendBatchResponse* response) override;
  grpc::ServerUnaryReactor* GetMessage(grpc::CallbackServerContext* call,
                                       const v1::GetMessageRequest* request,
                                       v1::Message* response) override;
  grpc::ServerUnaryReactor* ListMessages(
      grpc::CallbackServerContext* call, const v1::ListMessagesRequest* request,
      v1::ListMessagesResponse* response) override;
  grpc::ServerUnaryReactor* Resend(grpc::CallbackServerContext* call,
                                   const v1::ResendRequest* request,
                                   v1::ResendResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchEventsResponse>* WatchEvents(
      grpc::CallbackServerContext* call,
      const v1::WatchEventsRequest* request) override;

 private:
  // Runs the tenant's send gate (if any) on the From addresses; `done`
  // gets one status per address, possibly on another thread.
  void GateSenders(int64_t tenant_id, std::vector<std::string> from_addresses,
                   std::function<void(std::vector<absl::Status>)> done);
  // The storing halves of Send and SendBatch, after validation and gating.
  void StoreOne(grpc::ServerUnaryReactor* reactor, v1::SendResponse* response,
                int64_t tenant_id, ValidatedSend valid, absl::Time now);
  void StoreBatch(grpc::ServerUnaryReactor* reactor,
                  const v1::SendBatchRequest* request,
                  v1::SendBatchResponse* response, int64_t tenant_id,
                  std::vector<std::optional<ValidatedSend>> validated,
                  absl::Time now);

  ServiceContext* ctx_;
  ArenaMessageAllocator<v1::SendRequest, v1::SendResponse> send_allocator_;
  ArenaMessageAllocator<v1::SendBatchRequest, v1::SendBatchResponse>
      send_batch_allocator_;
};

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_MESSAGES_SERVICE_H_
