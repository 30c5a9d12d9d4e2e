#include "server/api/service_context.h"

#include "server/api/convert.h"

namespace deliverd::api {

grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* call,
                                     const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

std::string FieldOfError(absl::string_view message) {
  size_t colon = message.find(": ");
  if (colon == absl::string_view::npos) return "";
  absl::string_view field = message.substr(0, colon);
  // Field paths have no spaces; anything else is prose.
  if (field.find(' ') != absl::string_view::npos) return "";
  return std::string(field);
}

}  // namespace deliverd::api
