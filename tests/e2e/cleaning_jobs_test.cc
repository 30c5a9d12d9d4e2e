// Scheduled cleaning jobs against a real deliverd: create a job over a small
// CSV in the server's --jobs-dir, run it on demand, wait (bounded polling)
// for it to succeed, and check the cleaned file, the run's counts and the
// suppressions it added; a failed run (missing source) with its error and
// retry time; input validation naming the field; tenant isolation; and the
// `deliverctl jobs` commands.
#include <limits.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::HasSubstr;

// The folder given to --jobs-dir, created before the server starts.
std::string& JobsDir() {
  static std::string* dir = new std::string;
  return *dir;
}

class CleaningJobsTest : public SharedDeliverdTest<CleaningJobsTest> {
 public:
  static std::vector<std::string> Flags() {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern =
        absl::StrCat((base != nullptr && *base != '\0') ? base : "/tmp",
                     "/deliverd_e2e_jobs_XXXXXX");
    if (mkdtemp(pattern.data()) != nullptr) {
      char resolved[PATH_MAX];
      JobsDir() = realpath(pattern.c_str(), resolved) != nullptr
                      ? std::string(resolved)
                      : pattern;
    }
    return {"--jobs-dir", JobsDir()};
  }
  static void TearDownTestSuite() {
    SharedDeliverdTest<CleaningJobsTest>::TearDownTestSuite();
    std::error_code ignored;
    if (!JobsDir().empty()) std::filesystem::remove_all(JobsDir(), ignored);
  }

 protected:
  static std::string PathOf(const std::string& name) {
    return absl::StrCat(JobsDir(), "/", name);
  }
  static void Write(const std::string& name, const std::string& text) {
    std::ofstream(PathOf(name)) << text;
  }

  static v1::CleaningJob MakeJob(const std::string& source,
                                 const std::string& destination) {
    v1::CleaningJob job;
    job.set_display_name("nightly");
    job.set_source(PathOf(source));
    job.set_destination(PathOf(destination));
    job.mutable_options()->set_offline(true);
    job.set_on_undeliverable(v1::CLEANING_JOB_ACTION_SUPPRESS);
    job.set_on_risky(v1::CLEANING_JOB_ACTION_FLAG);
    return job;
  }

  static absl::StatusOr<v1::CleaningJob> Create(Client& client,
                                                const v1::CleaningJob& job) {
    v1::CreateCleaningJobRequest request;
    *request.mutable_job() = job;
    v1::CleaningJob created;
    grpc::Status s = client.hygiene().CreateCleaningJob(client.Context().get(),
                                                        request, &created);
    if (!s.ok()) return FromGrpc(s);
    return created;
  }

  static absl::StatusOr<v1::CleaningJob> Get(Client& client,
                                             const std::string& name) {
    v1::GetCleaningJobRequest request;
    request.set_name(name);
    v1::CleaningJob job;
    grpc::Status s =
        client.hygiene().GetCleaningJob(client.Context().get(), request, &job);
    if (!s.ok()) return FromGrpc(s);
    return job;
  }

  static absl::StatusOr<v1::CleaningJobRun> Run(Client& client,
                                                const std::string& name) {
    v1::RunCleaningJobRequest request;
    request.set_name(name);
    v1::CleaningJobRun run;
    grpc::Status s =
        client.hygiene().RunCleaningJob(client.Context().get(), request, &run);
    if (!s.ok()) return FromGrpc(s);
    return run;
  }

  // Polls GetCleaningJob (short waits, bounded) until the last run has
  // ended; returns that run.
  static absl::StatusOr<v1::CleaningJobRun> WaitForRunEnd(
      Client& client, const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + Seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      absl::StatusOr<v1::CleaningJob> job = Get(client, name);
      if (!job.ok()) return job.status();
      if (job->has_last_run() &&
          job->last_run().state() != v1::CLEANING_JOB_RUN_STATE_RUNNING) {
        return job->last_run();
      }
      std::this_thread::sleep_for(Millis(20));
    }
    return absl::DeadlineExceededError("the run did not end");
  }
};

constexpr char kList[] =
    "email,name\n"
    "alice@corp.org,Alice\n"
    "bob@host.invalid,Bob\n"
    "not-an-address,Nobody\n"
    "noreply@corp.org,Role\n"
    "alice@corp.org,Dup\n";

TEST_F(CleaningJobsTest, OnDemandRunCleansSuppressesAndRecords) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  Write("list1.csv", kList);
  ASSERT_OK_AND_ASSIGN(v1::CleaningJob job,
                       Create(client, MakeJob("list1.csv", "out1.csv")));
  EXPECT_THAT(job.name(), ::testing::StartsWith("cleaningJobs/"));
  EXPECT_FALSE(job.has_next_run_time());  // on demand only
  EXPECT_FALSE(job.has_last_run());

  ASSERT_OK_AND_ASSIGN(v1::CleaningJobRun started, Run(client, job.name()));
  EXPECT_EQ(started.job(), job.name());
  EXPECT_EQ(started.state(), v1::CLEANING_JOB_RUN_STATE_RUNNING);

  ASSERT_OK_AND_ASSIGN(v1::CleaningJobRun run,
                       WaitForRunEnd(client, job.name()));
  ASSERT_EQ(run.state(), v1::CLEANING_JOB_RUN_STATE_SUCCEEDED) << run.error();
  EXPECT_EQ(run.summary().rows(), 5);
  EXPECT_EQ(run.summary().kept(), 2);
  EXPECT_EQ(run.summary().removed(), 3);
  EXPECT_EQ(run.summary().duplicates(), 1);
  EXPECT_EQ(run.summary().by_verdict().at("undeliverable"), 2);
  EXPECT_EQ(run.summary().by_verdict().at("risky"), 1);
  EXPECT_EQ(run.summary().removed_by_reason().at("invalid"), 1);
  EXPECT_EQ(run.summary().removed_by_reason().at("undeliverable"), 1);
  EXPECT_EQ(run.suppressed_added(), 1);
  EXPECT_EQ(run.flagged(), 1);
  EXPECT_TRUE(run.has_end_time());

  std::optional<std::string> out = ReadFile(PathOf("out1.csv"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out,
            "email,name,verdict,reason\n"
            "alice@corp.org,Alice,unknown,\n"
            "noreply@corp.org,Role,risky,risky\n");

  v1::CheckSuppressionRequest check;
  check.add_addresses("bob@host.invalid");
  check.add_addresses("alice@corp.org");
  ASSERT_OK_AND_ASSIGN(v1::CheckSuppressionResponse checked,
                       client.CheckSuppression(check));
  ASSERT_EQ(checked.results_size(), 2);
  EXPECT_TRUE(checked.results(0).suppressed());
  EXPECT_EQ(checked.results(0).suppression().reason(),
            v1::SUPPRESSION_REASON_INVALID);
  EXPECT_THAT(checked.results(0).suppression().evidence(),
              HasSubstr("cleaning job"));
  EXPECT_FALSE(checked.results(1).suppressed());

  v1::ListCleaningJobRunsRequest list_runs;
  list_runs.set_name(job.name());
  v1::ListCleaningJobRunsResponse runs;
  ASSERT_TRUE(client.hygiene()
                  .ListCleaningJobRuns(client.Context().get(), list_runs, &runs)
                  .ok());
  ASSERT_EQ(runs.runs_size(), 1);
  EXPECT_EQ(runs.runs(0).name(), run.name());
}

TEST_F(CleaningJobsTest, FailedRunIsVisibleWithItsErrorAndRetried) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  ASSERT_OK_AND_ASSIGN(v1::CleaningJob job,
                       Create(client, MakeJob("absent.csv", "out2.csv")));
  ASSERT_OK(Run(client, job.name()).status());
  ASSERT_OK_AND_ASSIGN(v1::CleaningJobRun run,
                       WaitForRunEnd(client, job.name()));
  EXPECT_EQ(run.state(), v1::CLEANING_JOB_RUN_STATE_FAILED);
  EXPECT_THAT(run.error(), HasSubstr("source"));
  ASSERT_OK_AND_ASSIGN(v1::CleaningJob after, Get(client, job.name()));
  // A retry is scheduled (after the back-off), though the job is on demand.
  EXPECT_TRUE(after.has_next_run_time());
  EXPECT_GT(after.next_run_time().seconds(), run.end_time().seconds());
  EXPECT_FALSE(std::filesystem::exists(PathOf("out2.csv")));
}

TEST_F(CleaningJobsTest, BadInputIsRefusedNamingTheField) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  struct Case {
    std::string field;
    v1::CleaningJob job;
  };
  std::vector<Case> cases;
  {
    v1::CleaningJob j = MakeJob("a.csv", "b.csv");
    j.set_source("/etc/passwd");
    cases.push_back({"job.source", j});
  }
  {
    v1::CleaningJob j = MakeJob("a.csv", "b.csv");
    j.set_destination("relative.csv");
    cases.push_back({"job.destination", j});
  }
  {
    v1::CleaningJob j = MakeJob("a.csv", "b.csv");
    j.set_source(absl::StrCat(JobsDir(), "/../escape.csv"));
    cases.push_back({"job.source", j});
  }
  {
    v1::CleaningJob j = MakeJob("a.csv", "b.csv");
    j.set_schedule("0 25 * * *");
    cases.push_back({"job.schedule", j});
  }
  {
    v1::CleaningJob j = MakeJob("a.csv", "a.csv");
    cases.push_back({"job.destination", j});
  }
  for (const Case& c : cases) {
    absl::StatusOr<v1::CleaningJob> created = Create(client, c.job);
    ASSERT_FALSE(created.ok()) << c.field;
    EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(created.status().message()),
                ::testing::StartsWith(c.field + ":"))
        << created.status();
  }
  absl::StatusOr<v1::CleaningJob> bad_name = Get(client, "jobs/x");
  EXPECT_EQ(bad_name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_name.status().message()),
              ::testing::StartsWith("name:"));
}

TEST_F(CleaningJobsTest, ScheduledJobHasNextRunTime) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::CleaningJob job = MakeJob("list3.csv", "out3.csv");
  job.set_schedule("0 3 * * *");
  ASSERT_OK_AND_ASSIGN(v1::CleaningJob created, Create(client, job));
  ASSERT_TRUE(created.has_next_run_time());
  // 03:00 UTC on some day: a multiple of a day plus three hours.
  EXPECT_EQ(created.next_run_time().seconds() % 86400, 3 * 3600);
}

TEST_F(CleaningJobsTest, TenantsAreIsolated) {
  ASSERT_OK_AND_ASSIGN(Client owner, NewTenant());
  ASSERT_OK_AND_ASSIGN(Client other, server().NewTenantClient("other"));
  Write("list4.csv", kList);
  ASSERT_OK_AND_ASSIGN(v1::CleaningJob job,
                       Create(owner, MakeJob("list4.csv", "out4.csv")));
  EXPECT_EQ(Get(other, job.name()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Run(other, job.name()).status().code(),
            absl::StatusCode::kNotFound);
  v1::ListCleaningJobsResponse listed;
  ASSERT_TRUE(other.hygiene()
                  .ListCleaningJobs(other.Context().get(),
                                    v1::ListCleaningJobsRequest(), &listed)
                  .ok());
  EXPECT_EQ(listed.jobs_size(), 0);
  v1::DeleteCleaningJobRequest del;
  del.set_name(job.name());
  v1::DeleteCleaningJobResponse deleted;
  EXPECT_EQ(other.hygiene()
                .DeleteCleaningJob(other.Context().get(), del, &deleted)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_OK(Get(owner, job.name()).status());
}

TEST_F(CleaningJobsTest, DeliverctlJobsCommands) {
  Write("list5.csv", kList);
  ProcessResult created = server().Deliverctl(
      {"jobs", "create", "--name", "weekly", "--source", PathOf("list5.csv"),
       "--destination", PathOf("out5.csv"), "--offline", "--on-undeliverable",
       "flag", "--schedule", "0 4 * * 1"});
  ASSERT_EQ(created.exit_code, 0) << created;
  EXPECT_THAT(created.out, HasSubstr("0 4 * * 1 (UTC)"));
  std::string id;
  for (absl::string_view line : absl::StrSplit(created.out, '\n')) {
    if (absl::ConsumePrefix(&line, "job:")) {
      id = std::string(absl::StripAsciiWhitespace(line));
    }
  }
  ASSERT_FALSE(id.empty()) << created.out;

  ProcessResult listed = server().Deliverctl({"jobs", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed;
  EXPECT_THAT(listed.out, HasSubstr(id));
  EXPECT_THAT(listed.out, HasSubstr("weekly"));

  ProcessResult ran = server().Deliverctl({"jobs", "run", id});
  ASSERT_EQ(ran.exit_code, 0) << ran;
  EXPECT_THAT(ran.out, HasSubstr("running"));

  // Bounded polling until the run has ended.
  ProcessResult got;
  auto deadline = std::chrono::steady_clock::now() + Seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    got = server().Deliverctl({"jobs", "get", id});
    ASSERT_EQ(got.exit_code, 0) << got;
    if (got.out.find("state:        running") == std::string::npos) break;
    std::this_thread::sleep_for(Millis(20));
  }
  EXPECT_THAT(got.out, HasSubstr("state:        succeeded"));
  EXPECT_THAT(got.out, HasSubstr("rows:         5"));
  // flag: the invalid and undeliverable rows are written for review.
  std::optional<std::string> out = ReadFile(PathOf("out5.csv"));
  ASSERT_TRUE(out.has_value());
  EXPECT_THAT(*out,
              HasSubstr("bob@host.invalid,Bob,undeliverable,undeliverable"));
  EXPECT_THAT(*out, HasSubstr("not-an-address,Nobody,undeliverable,invalid"));

  ProcessResult runs = server().Deliverctl({"jobs", "runs", id});
  ASSERT_EQ(runs.exit_code, 0) << runs;
  EXPECT_THAT(runs.out, HasSubstr("succeeded"));

  ProcessResult bad = server().Deliverctl(
      {"jobs", "create", "--source", PathOf("a.csv"), "--destination",
       PathOf("b.csv"), "--on-risky", "drop"});
  EXPECT_EQ(bad.exit_code, 2) << bad;
  EXPECT_THAT(bad.err, HasSubstr("--on-risky"));

  ProcessResult deleted = server().Deliverctl({"jobs", "delete", id});
  ASSERT_EQ(deleted.exit_code, 0) << deleted;
  ProcessResult gone = server().Deliverctl({"jobs", "get", id});
  EXPECT_EQ(gone.exit_code, 1) << gone;
  EXPECT_THAT(gone.err, HasSubstr("NOT_FOUND"));
}

}  // namespace
}  // namespace deliverd::e2e
