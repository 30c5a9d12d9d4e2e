// The cleaning-job RPCs of HygieneService (declared in hygiene_service.h):
// proto <-> store::CleaningJob translation and input checks. Running a job
// is server/jobs' business.
#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/api/convert.h"
#include "server/api/hygiene_service.h"
#include "server/jobs/cron.h"
#include "server/jobs/job_paths.h"
#include "server/jobs/job_runner.h"

namespace deliverd::api {
namespace {

constexpr char kJobPrefix[] = "cleaningJobs/";
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr int kDefaultRuns = 20;
constexpr int kMaxRuns = 100;
constexpr size_t kMaxDisplayName = 200;

std::string JobName(const std::string& id) { return kJobPrefix + id; }

absl::StatusOr<std::string> JobIdFromName(absl::string_view field,
                                          absl::string_view name) {
  absl::string_view id = name;
  if (!absl::ConsumePrefix(&id, kJobPrefix) || id.empty() ||
      id.find('/') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": expected \"cleaningJobs/{id}\", got \"", name, "\""));
  }
  return std::string(id);
}

absl::StatusOr<store::CleaningJobAction> ActionFromProto(
    absl::string_view field, v1::CleaningJobAction action) {
  switch (action) {
    case v1::CLEANING_JOB_ACTION_UNSPECIFIED:
      return store::CleaningJobAction::kUnspecified;
    case v1::CLEANING_JOB_ACTION_KEEP:
      return store::CleaningJobAction::kKeep;
    case v1::CLEANING_JOB_ACTION_FLAG:
      return store::CleaningJobAction::kFlag;
    case v1::CLEANING_JOB_ACTION_SUPPRESS:
      return store::CleaningJobAction::kSuppress;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": unknown action ", static_cast<int>(action)));
  }
}

v1::CleaningJobRunState StateToProto(store::CleaningRunState state) {
  switch (state) {
    case store::CleaningRunState::kRunning:
      return v1::CLEANING_JOB_RUN_STATE_RUNNING;
    case store::CleaningRunState::kSucceeded:
      return v1::CLEANING_JOB_RUN_STATE_SUCCEEDED;
    case store::CleaningRunState::kFailed:
      return v1::CLEANING_JOB_RUN_STATE_FAILED;
    default:
      return v1::CLEANING_JOB_RUN_STATE_UNSPECIFIED;
  }
}

void RunToProto(const store::CleaningJobRun& run, v1::CleaningJobRun* out) {
  out->set_job(JobName(run.job_id));
  out->set_name(absl::StrCat(JobName(run.job_id), "/runs/", run.id));
  out->set_state(StateToProto(run.state));
  ToTimestamp(run.start_time, out->mutable_start_time());
  if (run.end_time != absl::InfiniteFuture()) {
    ToTimestamp(run.end_time, out->mutable_end_time());
  }
  v1::CleanListSummary* s = out->mutable_summary();
  s->set_rows(run.summary.rows);
  s->set_kept(run.summary.kept);
  s->set_removed(run.summary.removed);
  s->set_duplicates(run.summary.duplicates);
  for (const auto& [k, v] : run.summary.by_verdict) {
    (*s->mutable_by_verdict())[k] = v;
  }
  for (const auto& [k, v] : run.summary.removed_by_reason) {
    (*s->mutable_removed_by_reason())[k] = v;
  }
  out->set_suppressed_added(run.summary.suppressed_added);
  out->set_flagged(run.summary.flagged);
  out->set_error(run.error);
}

void JobToProto(const store::CleaningJob& job, v1::CleaningJob* out) {
  out->set_name(JobName(job.id));
  out->set_display_name(job.display_name);
  out->set_source(job.source);
  out->set_destination(job.destination);
  out->set_schedule(job.schedule);
  out->mutable_options()->set_offline(job.offline);
  out->mutable_options()->set_remove_risky(job.remove_risky);
  out->mutable_options()->set_stream(job.stream);
  out->set_on_undeliverable(
      static_cast<v1::CleaningJobAction>(job.on_undeliverable));
  out->set_on_risky(static_cast<v1::CleaningJobAction>(job.on_risky));
  ToTimestamp(job.create_time, out->mutable_create_time());
  if (job.next_run_time != absl::InfiniteFuture()) {
    ToTimestamp(job.next_run_time, out->mutable_next_run_time());
  }
  if (job.last_run.has_value())
    RunToProto(*job.last_run, out->mutable_last_run());
}

absl::StatusOr<store::CleaningJob> JobFromProto(const v1::CleaningJob& in,
                                                const std::string& jobs_dir,
                                                absl::Time now) {
  store::CleaningJob job;
  if (in.display_name().size() > kMaxDisplayName) {
    return absl::InvalidArgumentError(
        absl::StrCat("job.display_name: at most ", kMaxDisplayName, " bytes"));
  }
  job.display_name = in.display_name();
  absl::StatusOr<std::string> source =
      jobs::ValidateJobPath("job.source", in.source(), jobs_dir);
  if (!source.ok()) return source.status();
  absl::StatusOr<std::string> dest =
      jobs::ValidateJobPath("job.destination", in.destination(), jobs_dir);
  if (!dest.ok()) return dest.status();
  if (*source == *dest) {
    return absl::InvalidArgumentError(
        "job.destination: must differ from the source");
  }
  job.source = *source;
  job.destination = *dest;
  if (!in.schedule().empty()) {
    absl::StatusOr<jobs::CronSchedule> cron =
        jobs::CronSchedule::Parse(in.schedule());
    if (!cron.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("job.schedule: ", cron.status().message()));
    }
    job.schedule = cron->spec();
    job.next_run_time = cron->Next(now);
  }
  job.offline = in.options().offline();
  job.remove_risky = in.options().remove_risky();
  job.stream = in.options().stream();
  absl::StatusOr<store::CleaningJobAction> on_undeliverable =
      ActionFromProto("job.on_undeliverable", in.on_undeliverable());
  if (!on_undeliverable.ok()) return on_undeliverable.status();
  job.on_undeliverable = *on_undeliverable;
  absl::StatusOr<store::CleaningJobAction> on_risky =
      ActionFromProto("job.on_risky", in.on_risky());
  if (!on_risky.ok()) return on_risky.status();
  job.on_risky = *on_risky;
  return job;
}

absl::Status NotConfigured() {
  return absl::UnimplementedError("cleaning jobs are not configured");
}

}  // namespace

grpc::ServerUnaryReactor* HygieneService::JobCall(
    grpc::CallbackServerContext* call,
    std::function<absl::Status(int64_t tenant_id)> work) {
  absl::StatusOr<Caller> caller = ctx_->auth->Authenticate(*call);
  if (!caller.ok()) return FinishWith(call, caller.status());
  if (ctx_->job_runner == nullptr) return FinishWith(call, NotConfigured());
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  int64_t tenant_id = caller->tenant_id;
  bool started = RunOffThread([reactor, tenant_id, work = std::move(work)] {
    reactor->Finish(ToGrpc(work(tenant_id)));
  });
  if (!started) {
    reactor->Finish(ToGrpc(
        absl::ResourceExhaustedError("the server is busy; retry shortly")));
  }
  return reactor;
}

grpc::ServerUnaryReactor* HygieneService::CreateCleaningJob(
    grpc::CallbackServerContext* call,
    const v1::CreateCleaningJobRequest* request, v1::CleaningJob* response) {
  return JobCall(call, [this, request, response](int64_t tenant_id) {
    absl::StatusOr<store::CleaningJob> job =
        JobFromProto(request->job(), ctx_->jobs_dir, absl::Now());
    if (!job.ok()) return job.status();
    job->tenant_id = tenant_id;
    absl::StatusOr<store::CleaningJob> stored =
        ctx_->store->CreateCleaningJob(*job);
    if (!stored.ok()) return stored.status();
    JobToProto(*stored, response);
    ctx_->job_runner->Nudge();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* HygieneService::GetCleaningJob(
    grpc::CallbackServerContext* call, const v1::GetCleaningJobRequest* request,
    v1::CleaningJob* response) {
  return JobCall(call, [this, request, response](int64_t tenant_id) {
    absl::StatusOr<std::string> id = JobIdFromName("name", request->name());
    if (!id.ok()) return id.status();
    absl::StatusOr<store::CleaningJob> job =
        ctx_->store->GetCleaningJob(tenant_id, *id);
    if (!job.ok()) return job.status();
    JobToProto(*job, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* HygieneService::ListCleaningJobs(
    grpc::CallbackServerContext* call,
    const v1::ListCleaningJobsRequest* request,
    v1::ListCleaningJobsResponse* response) {
  return JobCall(call, [this, request, response](int64_t tenant_id) {
    if (request->page_size() < 0) {
      return absl::InvalidArgumentError("page_size: must not be negative");
    }
    int size = request->page_size() == 0
                   ? kDefaultPageSize
                   : std::min(request->page_size(), kMaxPageSize);
    std::string after;
    if (!request->page_token().empty()) {
      absl::StatusOr<std::string> id =
          JobIdFromName("page_token", request->page_token());
      if (!id.ok()) return id.status();
      after = *id;
    }
    // One more than asked tells whether another page follows.
    absl::StatusOr<std::vector<store::CleaningJob>> jobs =
        ctx_->store->ListCleaningJobs(tenant_id, size + 1, after);
    if (!jobs.ok()) return jobs.status();
    bool more = jobs->size() > static_cast<size_t>(size);
    if (more) jobs->resize(size);
    for (const store::CleaningJob& job : *jobs) {
      JobToProto(job, response->add_jobs());
    }
    // The token is the last job's name: opaque enough, and stable.
    if (more) response->set_next_page_token(JobName(jobs->back().id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* HygieneService::DeleteCleaningJob(
    grpc::CallbackServerContext* call,
    const v1::DeleteCleaningJobRequest* request,
    v1::DeleteCleaningJobResponse*) {
  return JobCall(call, [this, request](int64_t tenant_id) {
    absl::StatusOr<std::string> id = JobIdFromName("name", request->name());
    if (!id.ok()) return id.status();
    return ctx_->store->DeleteCleaningJob(tenant_id, *id);
  });
}

grpc::ServerUnaryReactor* HygieneService::RunCleaningJob(
    grpc::CallbackServerContext* call, const v1::RunCleaningJobRequest* request,
    v1::CleaningJobRun* response) {
  return JobCall(call, [this, request, response](int64_t tenant_id) {
    absl::StatusOr<std::string> id = JobIdFromName("name", request->name());
    if (!id.ok()) return id.status();
    absl::StatusOr<store::CleaningJobRun> run =
        ctx_->job_runner->RunNow(tenant_id, *id);
    if (!run.ok()) return run.status();
    RunToProto(*run, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* HygieneService::ListCleaningJobRuns(
    grpc::CallbackServerContext* call,
    const v1::ListCleaningJobRunsRequest* request,
    v1::ListCleaningJobRunsResponse* response) {
  return JobCall(call, [this, request, response](int64_t tenant_id) {
    absl::StatusOr<std::string> id = JobIdFromName("name", request->name());
    if (!id.ok()) return id.status();
    if (request->page_size() < 0) {
      return absl::InvalidArgumentError("page_size: must not be negative");
    }
    int limit = request->page_size() == 0
                    ? kDefaultRuns
                    : std::min(request->page_size(), kMaxRuns);
    absl::StatusOr<std::vector<store::CleaningJobRun>> runs =
        ctx_->store->ListCleaningJobRuns(tenant_id, *id, limit);
    if (!runs.ok()) return runs.status();
    for (const store::CleaningJobRun& run : *runs) {
      RunToProto(run, response->add_runs());
    }
    return absl::OkStatus();
  });
}

}  // namespace deliverd::api
