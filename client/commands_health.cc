// Handler of `health`: grpc.health.v1.Health/Check through the generic stub
// (see health_codec.h for why the messages are encoded by hand).

#include <grpcpp/generic/generic_stub.h>

#include <string>
#include <vector>

#include "client/commands.h"
#include "client/connection.h"
#include "client/health_codec.h"
#include "client/output.h"

namespace deliverd::client {

int RunHealth(const Invocation& inv) {
  const std::string request_bytes =
      EncodeHealthCheckRequest(inv.args.GetOr("service", ""));
  grpc::Slice slice(request_bytes);
  const grpc::ByteBuffer request(&slice, 1);

  Connection connection(inv.settings);
  auto context = connection.NewContext();
  grpc::GenericStub stub(connection.channel());
  grpc::CompletionQueue queue;
  auto call =
      stub.PrepareUnaryCall(context.get(), kHealthCheckMethod, request, &queue);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, /*tag=*/nullptr);
  void* tag;
  bool ok;
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  if (!status.ok()) return inv.RpcError(status);

  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (response.Valid() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  absl::StatusOr<int> serving = DecodeHealthCheckResponse(bytes);
  if (!serving.ok()) {
    inv.err << "deliverctl: health: " << serving.status().message() << "\n";
    return kExitFailure;
  }
  const std::string name = HealthStatusName(*serving);
  if (inv.json()) {
    inv.out << "{\"status\":" << JsonString(name) << "}\n";
  } else {
    inv.out << name << "\n";
  }
  return *serving == kHealthServing ? kExitOk : kExitFailure;
}

}  // namespace deliverd::client
