// What every gRPC service implementation shares: the store, authentication,
// the event hub, limits, and a way to wake the dispatcher. Owned by the
// server wiring (server/server.h); services hold a pointer. The pointees are
// thread-safe and outlive the services.
#ifndef DELIVERD_SERVER_API_SERVICE_CONTEXT_H_
#define DELIVERD_SERVER_API_SERVICE_CONTEXT_H_

#include <grpcpp/support/server_callback.h>
#include <grpcpp/server_context.h>

#include <functional>

#include "server/api/api_keys.h"
#include "server/api/event_hub.h"
#include "server/api/send_validation.h"
#include "server/store/store.h"

namespace deliverd::feedback {
class FeedbackIngester;
struct ListUnsubscribeConfig;
}  // namespace deliverd::feedback

namespace deliverd::jobs {
class JobRunner;
}  // namespace deliverd::jobs

namespace deliverd::api {

class SendGate;

struct ServiceContext {
  store::Store* store = nullptr;
  Authenticator* auth = nullptr;
  EventHub* hub = nullptr;
  SendLimits limits;
  // Called after messages were queued (wakes the dispatcher).
  std::function<void()> on_queued;
  // Refuses sends from unauthenticated domains for tenants that ask; null:
  // no gating.
  SendGate* send_gate = nullptr;
  // Applies bounces, complaints and provider events (IngestFeedback).
  feedback::FeedbackIngester* ingester = nullptr;
  // Signs list messages' unsubscribe links and checks tokens (the server
  // always sets it; null leaves list messages without the headers and
  // refuses tokens).
  const feedback::ListUnsubscribeConfig* list_unsubscribe = nullptr;
  // Runs cleaning jobs (RunCleaningJob) and is nudged when one is created;
  // null: the cleaning-job RPCs answer UNIMPLEMENTED.
  jobs::JobRunner* job_runner = nullptr;
  // The resolved root every job path must be under (server/jobs/job_paths).
  std::string jobs_dir;
};

// Splits "field.path: reason" into its field and the whole message, for
// per-item errors.
std::string FieldOfError(absl::string_view message);

// Answers a unary call at once with `status` (the common early exit).
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* call,
                                     const absl::Status& status);

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_SERVICE_CONTEXT_H_
