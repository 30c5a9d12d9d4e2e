// Handlers of the `jobs` commands: create, list, get, run, delete, runs
// (scheduled cleaning jobs; the server runs them, see server/jobs). A job is
// named by its bare id ("j_...") or its full name ("cleaningJobs/j_...").

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "client/commands.h"
#include "client/connection.h"
#include "client/output.h"
#include "client/table.h"
#include "client/text.h"
#include "client/times.h"
#include "deliverd/v1/hygiene.grpc.pb.h"

namespace deliverd::client {
namespace {

constexpr char kJobPrefix[] = "cleaningJobs/";

std::string JobName(const std::string& id_or_name) {
  return absl::StartsWith(id_or_name, kJobPrefix)
             ? id_or_name
             : absl::StrCat(kJobPrefix, id_or_name);
}

std::string BareJobId(const std::string& name) {
  absl::string_view id = name;
  absl::ConsumePrefix(&id, kJobPrefix);
  return std::string(id);
}

absl::StatusOr<v1::CleaningJobAction> ParseAction(absl::string_view flag,
                                                  const std::string& value) {
  if (value == "keep") return v1::CLEANING_JOB_ACTION_KEEP;
  if (value == "flag") return v1::CLEANING_JOB_ACTION_FLAG;
  if (value == "suppress") return v1::CLEANING_JOB_ACTION_SUPPRESS;
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, ": expected suppress, flag or keep, got \"", value, "\""));
}

std::string ActionName(v1::CleaningJobAction action) {
  switch (action) {
    case v1::CLEANING_JOB_ACTION_FLAG:
      return "flag";
    case v1::CLEANING_JOB_ACTION_SUPPRESS:
      return "suppress";
    default:
      return "keep";
  }
}

std::string StateName(v1::CleaningJobRunState state) {
  switch (state) {
    case v1::CLEANING_JOB_RUN_STATE_RUNNING:
      return "running";
    case v1::CLEANING_JOB_RUN_STATE_SUCCEEDED:
      return "succeeded";
    case v1::CLEANING_JOB_RUN_STATE_FAILED:
      return "failed";
    default:
      return "-";
  }
}

std::string Counts(const google::protobuf::Map<std::string, int64_t>& map) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : map) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> parts;
  for (const std::string& k : keys)
    parts.push_back(absl::StrCat(k, "=", map.at(k)));
  return parts.empty() ? "-" : absl::StrJoin(parts, " ");
}

void PrintRun(std::ostream& out, const v1::CleaningJobRun& run) {
  out << "run:          " << run.name() << "\n"
      << "state:        " << StateName(run.state()) << "\n"
      << "started:      " << FormatTimestamp(run.start_time()) << "\n"
      << "ended:        " << FormatTimestamp(run.end_time()) << "\n";
  if (run.state() == v1::CLEANING_JOB_RUN_STATE_SUCCEEDED) {
    const v1::CleanListSummary& s = run.summary();
    out << "rows:         " << s.rows() << " (kept " << s.kept() << ", removed "
        << s.removed() << ", duplicates " << s.duplicates() << ")\n"
        << "verdicts:     " << Counts(s.by_verdict()) << "\n"
        << "removed by:   " << Counts(s.removed_by_reason()) << "\n"
        << "suppressed:   " << run.suppressed_added() << "\n"
        << "flagged:      " << run.flagged() << "\n";
  }
  if (!run.error().empty()) {
    out << "error:        " << SanitizeForTerminal(run.error()) << "\n";
  }
}

void PrintJob(std::ostream& out, const v1::CleaningJob& job) {
  out << "job:          " << BareJobId(job.name()) << "\n"
      << "name:         " << OrDash(SanitizeForTerminal(job.display_name()))
      << "\n"
      << "source:       " << job.source() << "\n"
      << "destination:  " << job.destination() << "\n"
      << "schedule:     "
      << (job.schedule().empty() ? "on demand" : job.schedule() + " (UTC)")
      << "\n"
      << "options:      " << (job.options().offline() ? "offline" : "dns")
      << (job.options().remove_risky() ? ", remove risky" : "") << "\n"
      << "undeliverable: " << ActionName(job.on_undeliverable()) << "\n"
      << "risky:        " << ActionName(job.on_risky()) << "\n"
      << "next run:     " << FormatTimestamp(job.next_run_time()) << "\n";
  if (job.has_last_run()) PrintRun(out, job.last_run());
}

}  // namespace

int RunJobsCreate(const Invocation& inv) {
  v1::CreateCleaningJobRequest request;
  v1::CleaningJob* job = request.mutable_job();
  job->set_display_name(inv.args.GetOr("name", ""));
  job->set_source(inv.args.GetOr("source", ""));
  job->set_destination(inv.args.GetOr("destination", ""));
  job->set_schedule(inv.args.GetOr("schedule", ""));
  job->mutable_options()->set_offline(inv.args.GetBool("offline"));
  job->mutable_options()->set_remove_risky(inv.args.GetBool("remove-risky"));
  job->mutable_options()->set_stream(inv.args.GetOr("stream", ""));
  if (std::optional<std::string> v = inv.args.Get("on-undeliverable")) {
    absl::StatusOr<v1::CleaningJobAction> a =
        ParseAction("on-undeliverable", *v);
    if (!a.ok()) return inv.UsageError(a.status().message());
    job->set_on_undeliverable(*a);
  }
  if (std::optional<std::string> v = inv.args.Get("on-risky")) {
    absl::StatusOr<v1::CleaningJobAction> a = ParseAction("on-risky", *v);
    if (!a.ok()) return inv.UsageError(a.status().message());
    job->set_on_risky(*a);
  }
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::CleaningJob created;
  grpc::Status status =
      v1::Hygiene::NewStub(connection.channel())
          ->CreateCleaningJob(context.get(), request, &created);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, created);
  } else {
    PrintJob(inv.out, created);
  }
  return kExitOk;
}

int RunJobsList(const Invocation& inv) {
  Connection connection(inv.settings);
  auto stub = v1::Hygiene::NewStub(connection.channel());
  v1::ListCleaningJobsRequest request;
  Table table({"ID", "NAME", "SCHEDULE", "NEXT RUN", "LAST RUN", "STATE"});
  while (true) {
    auto context = connection.NewContext();
    v1::ListCleaningJobsResponse response;
    grpc::Status status =
        stub->ListCleaningJobs(context.get(), request, &response);
    if (!status.ok()) return inv.RpcError(status);
    if (inv.json()) PrintJsonLine(inv.out, response);
    for (const v1::CleaningJob& job : response.jobs()) {
      table.AddRow(
          {BareJobId(job.name()),
           OrDash(SanitizeForTerminal(job.display_name())),
           job.schedule().empty() ? "on demand" : job.schedule(),
           FormatTimestamp(job.next_run_time()),
           job.has_last_run() ? FormatTimestamp(job.last_run().start_time())
                              : "-",
           job.has_last_run() ? StateName(job.last_run().state()) : "-"});
    }
    if (response.next_page_token().empty() ||
        response.next_page_token() == request.page_token()) {
      break;
    }
    request.set_page_token(response.next_page_token());
  }
  if (!inv.json()) {
    if (table.row_count() == 0) {
      inv.err << "no cleaning jobs\n";
    } else {
      inv.out << table.Render();
    }
  }
  return kExitOk;
}

int RunJobsGet(const Invocation& inv) {
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::GetCleaningJobRequest request;
  request.set_name(JobName(inv.args.positionals[0]));
  v1::CleaningJob job;
  grpc::Status status = v1::Hygiene::NewStub(connection.channel())
                            ->GetCleaningJob(context.get(), request, &job);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, job);
  } else {
    PrintJob(inv.out, job);
  }
  return kExitOk;
}

int RunJobsRun(const Invocation& inv) {
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::RunCleaningJobRequest request;
  request.set_name(JobName(inv.args.positionals[0]));
  v1::CleaningJobRun run;
  grpc::Status status = v1::Hygiene::NewStub(connection.channel())
                            ->RunCleaningJob(context.get(), request, &run);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, run);
  } else {
    PrintRun(inv.out, run);
    inv.err << "started; 'deliverctl jobs runs " << BareJobId(run.job())
            << "' shows how it ends\n";
  }
  return kExitOk;
}

int RunJobsDelete(const Invocation& inv) {
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::DeleteCleaningJobRequest request;
  request.set_name(JobName(inv.args.positionals[0]));
  v1::DeleteCleaningJobResponse response;
  grpc::Status status =
      v1::Hygiene::NewStub(connection.channel())
          ->DeleteCleaningJob(context.get(), request, &response);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, response);
  } else {
    inv.out << "deleted " << BareJobId(request.name()) << "\n";
  }
  return kExitOk;
}

int RunJobsRuns(const Invocation& inv) {
  Connection connection(inv.settings);
  auto context = connection.NewContext();
  v1::ListCleaningJobRunsRequest request;
  request.set_name(JobName(inv.args.positionals[0]));
  if (std::optional<std::string> limit = inv.args.Get("limit")) {
    int n = 0;
    if (!absl::SimpleAtoi(*limit, &n) || n < 1 || n > 100) {
      return inv.UsageError("--limit: expected a number from 1 to 100");
    }
    request.set_page_size(n);
  }
  v1::ListCleaningJobRunsResponse response;
  grpc::Status status =
      v1::Hygiene::NewStub(connection.channel())
          ->ListCleaningJobRuns(context.get(), request, &response);
  if (!status.ok()) return inv.RpcError(status);
  if (inv.json()) {
    PrintJsonLine(inv.out, response);
    return kExitOk;
  }
  Table table({"RUN", "STATE", "STARTED", "ENDED", "ROWS", "KEPT", "REMOVED",
               "SUPPRESSED", "FLAGGED", "ERROR"});
  for (const v1::CleaningJobRun& run : response.runs()) {
    std::string id = run.name().substr(run.name().rfind('/') + 1);
    table.AddRow(
        {id, StateName(run.state()), FormatTimestamp(run.start_time()),
         FormatTimestamp(run.end_time()), absl::StrCat(run.summary().rows()),
         absl::StrCat(run.summary().kept()),
         absl::StrCat(run.summary().removed()),
         absl::StrCat(run.suppressed_added()), absl::StrCat(run.flagged()),
         OrDash(SanitizeForTerminal(run.error()))});
  }
  if (table.row_count() == 0) {
    inv.err << "no runs yet\n";
  } else {
    inv.out << table.Render();
  }
  return kExitOk;
}

}  // namespace deliverd::client
