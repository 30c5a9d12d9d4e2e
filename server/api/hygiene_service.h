// deliverd.v1.Hygiene over gRPC's callback API. CheckDomain, CheckSpf,
// VerifyAddresses, CleanList, ClassifyBounce, IngestFeedback and the
// cleaning-job RPCs (hygiene_jobs.cc) are implemented; the other RPCs
// answer UNIMPLEMENTED (the generated default) until their issues land.
//
// DNS can take seconds, so each check runs on a thread of its own instead
// of a gRPC thread; at most kMaxConcurrentChecks run at once (more are
// RESOURCE_EXHAUSTED). The destructor waits for running checks to finish
// (each is bounded by the resolver's timeouts).
#ifndef DELIVERD_SERVER_API_HYGIENE_SERVICE_H_
#define DELIVERD_SERVER_API_HYGIENE_SERVICE_H_

#include <condition_variable>
#include <functional>
#include <mutex>

#include "absl/status/status.h"
#include "auth_checks/dns/resolver.h"
#include "deliverd/v1/hygiene.grpc.pb.h"
#include "server/api/service_context.h"

namespace deliverd::api {

class HygieneService final : public v1::Hygiene::CallbackService {
 public:
  static constexpr int kMaxConcurrentChecks = 64;

  // `resolver` may be null when none could be created; DNS-using RPCs then
  // answer UNAVAILABLE with `resolver_error`.
  HygieneService(ServiceContext* context, auth_checks::dns::Resolver* resolver,
                 absl::Status resolver_error)
      : ctx_(context),
        resolver_(resolver),
        resolver_error_(std::move(resolver_error)) {}
  ~HygieneService() override;

  // The report of auth_checks/domain_check (SPF, DKIM selectors, DMARC,
  // MX). `domain` is normalised (IDN to A-labels, case, trailing dot);
  // at most 10 selectors, each a DNS label sequence.
  grpc::ServerUnaryReactor* CheckDomain(
      grpc::CallbackServerContext* call, const v1::CheckDomainRequest* request,
      v1::DomainReport* response) override;
  // hygiene/bounce/bounce_message: one entry per recipient the bounce
  // names. Pure CPU, no DNS; runs on the gRPC thread.
  grpc::ServerUnaryReactor* ClassifyBounce(
      grpc::CallbackServerContext* call,
      const v1::ClassifyBounceRequest* request,
      v1::ClassifyBounceResponse* response) override;
  // A raw bounce/DSN/ARF message (hygiene/bounce) or a provider event
  // (feedback/provider_events), applied by feedback/ingester. Store work
  // runs off the gRPC thread.
  grpc::ServerUnaryReactor* IngestFeedback(
      grpc::CallbackServerContext* call,
      const v1::IngestFeedbackRequest* request,
      v1::IngestFeedbackResponse* response) override;
  grpc::ServerUnaryReactor* CheckSpf(grpc::CallbackServerContext* call,
                                     const v1::CheckSpfRequest* request,
                                     v1::CheckSpfResponse* response) override;
  // Offline: syntax, typos, disposable and role accounts. Otherwise also
  // the domain's mail route over DNS (one lookup per distinct domain).
  // Every verdict says whether the address is on the tenant's suppression
  // list.
  grpc::ServerUnaryReactor* VerifyAddresses(
      grpc::CallbackServerContext* call,
      const v1::VerifyAddressesRequest* request,
      v1::VerifyAddressesResponse* response) override;
  // hygiene/cleaner over a bidirectional stream: options first, then rows;
  // one result per row in row order, then one summary when the client
  // half-closes. Rows are taken kCleanChunkRows at a time: the reactor
  // stops reading while a chunk is verified and its results written, so a
  // call holds at most one chunk (plus the cleaner's dedupe set, 8 bytes
  // per distinct address) whatever the list's size. A client must
  // therefore keep more than kCleanChunkRows rows in flight, or half-close,
  // before waiting for results. Errors: INVALID_ARGUMENT when the first
  // message is not options ("options: ...") or options come twice;
  // UNAVAILABLE without offline when there is no resolver; store errors of
  // the suppression check end the call; with DNS, each chunk runs through
  // RunOffThread and a busy server ends the call RESOURCE_EXHAUSTED.
  // Addresses longer than 4096 bytes are cut to 4097 (still refused as too
  // long, and echoed cut). A stream's dedupe set grows with its distinct
  // addresses (16 MB per million); split bigger lists into several calls
  // if that matters.
  static constexpr int kCleanChunkRows = 500;
  grpc::ServerBidiReactor<v1::CleanListRequest, v1::CleanListResponse>*
  CleanList(grpc::CallbackServerContext* call) override;

  // Cleaning jobs (server/jobs), tenant-scoped: another tenant's job is
  // NOT_FOUND. Create checks source and destination (absolute, under the
  // server's jobs folder, see server/jobs/job_paths.h), the schedule (5-field
  // cron, UTC) and the actions, each refused INVALID_ARGUMENT naming the
  // field ("job.source: ..."). RunCleaningJob claims the job and answers at
  // once with the RUNNING run; the run goes on on a runner thread, and its
  // end shows in GetCleaningJob's last_run and ListCleaningJobRuns.
  // Store writes run off the gRPC thread (RunOffThread).
  grpc::ServerUnaryReactor* CreateCleaningJob(
      grpc::CallbackServerContext* call,
      const v1::CreateCleaningJobRequest* request,
      v1::CleaningJob* response) override;
  grpc::ServerUnaryReactor* GetCleaningJob(
      grpc::CallbackServerContext* call,
      const v1::GetCleaningJobRequest* request,
      v1::CleaningJob* response) override;
  grpc::ServerUnaryReactor* ListCleaningJobs(
      grpc::CallbackServerContext* call,
      const v1::ListCleaningJobsRequest* request,
      v1::ListCleaningJobsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteCleaningJob(
      grpc::CallbackServerContext* call,
      const v1::DeleteCleaningJobRequest* request,
      v1::DeleteCleaningJobResponse* response) override;
  grpc::ServerUnaryReactor* RunCleaningJob(
      grpc::CallbackServerContext* call,
      const v1::RunCleaningJobRequest* request,
      v1::CleaningJobRun* response) override;
  grpc::ServerUnaryReactor* ListCleaningJobRuns(
      grpc::CallbackServerContext* call,
      const v1::ListCleaningJobRunsRequest* request,
      v1::ListCleaningJobRunsResponse* response) override;

 private:
  class CleanListReactor;

  // Runs `work` on a thread of its own (DNS may take seconds), counting it
  // against kMaxConcurrentChecks; false when the limit is reached.
  bool RunOffThread(std::function<void()> work);
  // Authenticates, then runs `work(tenant_id)` off the gRPC thread and
  // finishes the call with its status (the cleaning-job RPCs' shape).
  grpc::ServerUnaryReactor* JobCall(
      grpc::CallbackServerContext* call,
      std::function<absl::Status(int64_t tenant_id)> work);
  // IngestFeedback's work, on its own thread.
  absl::Status Ingest(int64_t tenant_id,
                      const v1::IngestFeedbackRequest& request,
                      v1::IngestFeedbackResponse* response);

  ServiceContext* ctx_;
  auth_checks::dns::Resolver* resolver_;
  absl::Status resolver_error_;
  std::mutex mu_;
  std::condition_variable idle_;
  int running_ = 0;
};

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_HYGIENE_SERVICE_H_
