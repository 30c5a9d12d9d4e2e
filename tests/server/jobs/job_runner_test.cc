// JobRunner and RunCleaningJob against a real SqliteStore in a temporary
// folder: one run end to end (destination file, counts, suppressions, flags),
// failures recorded with their error and a retry time, the retry back-off,
// path checks at run time, and RunNow through the worker thread (bounded
// polling of the store, no sleeps for synchronisation).
#include "server/jobs/job_runner.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/jobs/job_paths.h"
#include "server/store/sqlite_store.h"

namespace deliverd::jobs {
namespace {

absl::Time T0() { return absl::FromUnixSeconds(1800000000); }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern =
        absl::StrCat((base != nullptr && *base != '\0') ? base : "/tmp",
                     "/deliverd_jobs_XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    root_ = absl::StrCat(dir_, "/jobs");
    std::filesystem::create_directories(root_);
    absl::StatusOr<std::unique_ptr<store::SqliteStore>> s =
        store::SqliteStore::Open(absl::StrCat(dir_, "/db"));
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    absl::StatusOr<int64_t> tenant = store_->CreateTenant("acme");
    ASSERT_TRUE(tenant.ok());
    tenant_ = *tenant;
    JobRunnerOptions options;
    options.owner = "test";
    options.jobs_dir = root_;
    options.now = [this] { return now_; };
    runner_ = std::make_unique<JobRunner>(store_.get(), nullptr, options);
  }

  void TearDown() override {
    runner_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(absl::StrCat(root_, "/", name)) << text;
  }

  store::CleaningJob Create(const std::string& source,
                            const std::string& schedule = "") {
    store::CleaningJob job;
    job.tenant_id = tenant_;
    job.source = absl::StrCat(root_, "/", source);
    job.destination = absl::StrCat(root_, "/out.csv");
    job.schedule = schedule;
    job.offline = true;
    job.on_undeliverable = store::CleaningJobAction::kSuppress;
    job.on_risky = store::CleaningJobAction::kFlag;
    absl::StatusOr<store::CleaningJob> created = store_->CreateCleaningJob(job);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(job);
  }

  store::CleaningRunFinish RunOnce(const store::CleaningJob& job) {
    absl::StatusOr<store::ClaimedCleaningJob> claimed =
        store_->ClaimCleaningJob(tenant_, job.id, "test", now_, absl::Hours(1));
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    if (!claimed.ok()) return {};
    return runner_->Execute(*claimed);
  }

  std::string dir_;
  std::string root_;
  absl::Time now_ = T0();
  std::unique_ptr<store::SqliteStore> store_;
  int64_t tenant_ = 0;
  std::unique_ptr<JobRunner> runner_;
};

constexpr char kList[] =
    "email,name\n"
    "alice@corp.org,Alice\n"
    "bob@host.invalid,Bob\n"
    "not-an-address,Nobody\n"
    "noreply@corp.org,Role\n"
    "Alice@corp.org,Again\n"
    "alice@corp.org,Dup\n";

TEST_F(JobRunnerTest, RunWritesCleanedListAndAppliesActions) {
  Write("in.csv", kList);
  store::CleaningJob job = Create("in.csv");
  store::CleaningRunFinish finish = RunOnce(job);
  ASSERT_EQ(finish.state, store::CleaningRunState::kSucceeded) << finish.error;
  EXPECT_EQ(finish.summary.rows, 6);
  EXPECT_EQ(finish.summary.duplicates, 1);
  EXPECT_EQ(finish.summary.suppressed_added,
            1);                          // bob; the invalid one cannot be
  EXPECT_EQ(finish.summary.flagged, 1);  // noreply (role: risky)
  EXPECT_EQ(finish.next_run_time, absl::InfiniteFuture());  // on demand

  // Alice@corp.org keeps its case in the local part, so it is a different
  // address from alice@corp.org (hygiene/address.h), and is kept.
  EXPECT_EQ(ReadAll(absl::StrCat(root_, "/out.csv")),
            "email,name,verdict,reason\n"
            "alice@corp.org,Alice,unknown,\n"
            "noreply@corp.org,Role,risky,risky\n"
            "Alice@corp.org,Again,unknown,\n");
  EXPECT_FALSE(std::filesystem::exists(
      absl::StrCat(root_, "/out.csv.tmp-", finish.run_id)));

  absl::StatusOr<std::vector<std::optional<store::Suppression>>> found =
      store_->FindSuppressions(tenant_, {"bob@host.invalid"}, "", absl::Now());
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE((*found)[0].has_value());
  EXPECT_EQ((*found)[0]->reason, store::SuppressionReason::kInvalid);
  EXPECT_NE((*found)[0]->evidence.find(absl::StrCat("cleaning job ", job.id)),
            std::string::npos)
      << (*found)[0]->evidence;

  absl::StatusOr<store::CleaningJob> stored =
      store_->GetCleaningJob(tenant_, job.id);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->last_run.has_value());
  EXPECT_EQ(stored->last_run->state, store::CleaningRunState::kSucceeded);
  EXPECT_EQ(stored->last_run->summary.rows, 6);

  // A second run sees bob as already suppressed.
  finish = RunOnce(job);
  ASSERT_EQ(finish.state, store::CleaningRunState::kSucceeded) << finish.error;
  EXPECT_EQ(finish.summary.suppressed_added, 0);
  bool counted = false;
  for (const auto& [reason, count] : finish.summary.removed_by_reason) {
    if (reason == "suppressed") counted = count == 1;
  }
  EXPECT_TRUE(counted);
}

TEST_F(JobRunnerTest, MissingSourceFailsAndIsRetried) {
  store::CleaningJob job = Create("missing.csv");
  store::CleaningRunFinish finish = RunOnce(job);
  EXPECT_EQ(finish.state, store::CleaningRunState::kFailed);
  EXPECT_NE(finish.error.find("source"), std::string::npos) << finish.error;
  EXPECT_EQ(finish.consecutive_failures, 1);
  EXPECT_EQ(finish.next_run_time, T0() + absl::Minutes(5));
  EXPECT_FALSE(std::filesystem::exists(absl::StrCat(root_, "/out.csv")));
  absl::StatusOr<store::CleaningJob> stored =
      store_->GetCleaningJob(tenant_, job.id);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->last_run.has_value());
  EXPECT_EQ(stored->last_run->state, store::CleaningRunState::kFailed);
  EXPECT_EQ(stored->last_run->error, finish.error);
  EXPECT_EQ(stored->next_run_time, T0() + absl::Minutes(5));

  // The retry is claimed when due; a second failure doubles the wait.
  now_ = T0() + absl::Minutes(5);
  absl::StatusOr<std::vector<store::ClaimedCleaningJob>> due =
      store_->ClaimDueCleaningJobs("test", now_, absl::Hours(1), 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  finish = runner_->Execute((*due)[0]);
  EXPECT_EQ(finish.consecutive_failures, 2);
  EXPECT_EQ(finish.next_run_time, now_ + absl::Minutes(10));

  // Fixed: the next run succeeds and clears the failure count.
  Write("missing.csv", kList);
  finish = RunOnce(job);
  EXPECT_EQ(finish.state, store::CleaningRunState::kSucceeded) << finish.error;
  EXPECT_EQ(finish.consecutive_failures, 0);
}

TEST_F(JobRunnerTest, MalformedCsvFailsNamingTheLine) {
  Write("bad.csv", "email\n\"open@example.org\n");
  store::CleaningRunFinish finish = RunOnce(Create("bad.csv"));
  EXPECT_EQ(finish.state, store::CleaningRunState::kFailed);
  EXPECT_NE(finish.error.find("source: line"), std::string::npos)
      << finish.error;
}

TEST_F(JobRunnerTest, SymlinkOutOfTheRootIsRefusedAtRunTime) {
  std::ofstream(absl::StrCat(dir_, "/secret.csv")) << "email\na@corp.org\n";
  ASSERT_EQ(symlink(absl::StrCat(dir_, "/secret.csv").c_str(),
                    absl::StrCat(root_, "/link.csv").c_str()),
            0);
  store::CleaningRunFinish finish = RunOnce(Create("link.csv"));
  EXPECT_EQ(finish.state, store::CleaningRunState::kFailed);
  EXPECT_NE(finish.error.find("outside the jobs folder"), std::string::npos)
      << finish.error;
}

TEST_F(JobRunnerTest, BackoffIsCappedByTheSchedule) {
  store::CleaningJob hourly;
  hourly.schedule = "0 * * * *";
  absl::Time now = T0();  // 2027-01-15 08:00:00 UTC
  EXPECT_EQ(runner_->NextRunTime(hourly, now, 0), now + absl::Hours(1));
  EXPECT_EQ(runner_->NextRunTime(hourly, now, 1), now + absl::Minutes(5));
  EXPECT_EQ(runner_->NextRunTime(hourly, now, 4), now + absl::Minutes(40));
  EXPECT_EQ(runner_->NextRunTime(hourly, now, 5), now + absl::Hours(1));
  EXPECT_EQ(runner_->NextRunTime(hourly, now, 30), now + absl::Hours(1));
  store::CleaningJob on_demand;
  EXPECT_EQ(runner_->NextRunTime(on_demand, now, 0), absl::InfiniteFuture());
  EXPECT_EQ(runner_->NextRunTime(on_demand, now, JobRunner::kOnDemandRetries),
            now + absl::Minutes(20));
  EXPECT_EQ(
      runner_->NextRunTime(on_demand, now, JobRunner::kOnDemandRetries + 1),
      absl::InfiniteFuture());
}

TEST_F(JobRunnerTest, RunNowRunsOnAWorkerAndRefusesASecondRun) {
  Write("in.csv", kList);
  store::CleaningJob job = Create("in.csv");
  absl::StatusOr<store::CleaningJobRun> run = runner_->RunNow(tenant_, job.id);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->state, store::CleaningRunState::kRunning);
  // Bounded polling: the run ends within seconds; the limit only guards
  // against a hang.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  store::CleaningRunState state = store::CleaningRunState::kRunning;
  while (absl::Now() < deadline) {
    absl::StatusOr<std::vector<store::CleaningJobRun>> runs =
        store_->ListCleaningJobRuns(tenant_, job.id, 1);
    ASSERT_TRUE(runs.ok());
    ASSERT_EQ(runs->size(), 1u);
    state = (*runs)[0].state;
    if (state != store::CleaningRunState::kRunning) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(state, store::CleaningRunState::kSucceeded);
  EXPECT_TRUE(absl::IsNotFound(runner_->RunNow(tenant_ + 1, job.id).status()));
}

TEST(JobPathsTest, ValidateJobPath) {
  EXPECT_EQ(
      ValidateJobPath("source", "/srv/jobs//a/b.csv", "/srv/jobs").value(),
      "/srv/jobs/a/b.csv");
  EXPECT_TRUE(ValidateJobPath("source", "/srv/jobs/a.csv", "/srv/jobs/").ok());
  for (const char* bad :
       {"", "a.csv", "/srv/jobs", "/srv/jobs/", "/srv/jobsx/a", "/etc/passwd",
        "/srv/jobs/../etc/passwd", "/srv/jobs/./a.csv"}) {
    absl::StatusOr<std::string> v = ValidateJobPath("source", bad, "/srv/jobs");
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(v.status().message().substr(0, 8), "source: ") << bad;
  }
  std::string with_nul("/srv/jobs/a\0b", 13);
  EXPECT_FALSE(ValidateJobPath("destination", with_nul, "/srv/jobs").ok());
}

}  // namespace
}  // namespace deliverd::jobs
