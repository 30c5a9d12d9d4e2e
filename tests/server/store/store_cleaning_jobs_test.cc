// Conformance: cleaning jobs — create/get/list/delete, tenant isolation,
// claiming due jobs with a lease (one claimant at a time, expired leases
// taken over and their runs closed as FAILED), on-demand claims, recording
// a run's end, listing runs, and the next due time.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "testing_store_fixture.h"

namespace deliverd::store::conformance {
namespace {

template <typename F>
class CleaningJobsTest : public StoreTest<F> {
 protected:
  void SetUp() override {
    StoreTest<F>::SetUp();
    if (this->IsSkipped() || this->HasFatalFailure()) return;
    tenant_ = this->MakeTenant("acme");
    other_ = this->MakeTenant("other");
  }

  CleaningJob Job(int64_t tenant, absl::Time next_run) {
    CleaningJob j;
    j.tenant_id = tenant;
    j.display_name = "nightly";
    j.source = "/jobs/in.csv";
    j.destination = "/jobs/out.csv";
    j.schedule = "0 3 * * *";
    j.offline = true;
    j.remove_risky = true;
    j.stream = "news";
    j.on_undeliverable = CleaningJobAction::kSuppress;
    j.on_risky = CleaningJobAction::kFlag;
    j.next_run_time = next_run;
    return j;
  }

  int64_t tenant_ = 0;
  int64_t other_ = 0;
};

TYPED_TEST_SUITE(CleaningJobsTest, StoreFactories, FactoryName);

TYPED_TEST(CleaningJobsTest, CreateGetListDelete) {
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob created,
      this->store().CreateCleaningJob(this->Job(this->tenant_, T0())));
  EXPECT_FALSE(created.id.empty());
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob got, this->store().GetCleaningJob(this->tenant_, created.id));
  EXPECT_EQ(got.id, created.id);
  EXPECT_EQ(got.tenant_id, this->tenant_);
  EXPECT_EQ(got.display_name, "nightly");
  EXPECT_EQ(got.source, "/jobs/in.csv");
  EXPECT_EQ(got.destination, "/jobs/out.csv");
  EXPECT_EQ(got.schedule, "0 3 * * *");
  EXPECT_TRUE(got.offline);
  EXPECT_TRUE(got.remove_risky);
  EXPECT_EQ(got.stream, "news");
  EXPECT_EQ(got.on_undeliverable, CleaningJobAction::kSuppress);
  EXPECT_EQ(got.on_risky, CleaningJobAction::kFlag);
  EXPECT_EQ(got.next_run_time, T0());
  EXPECT_EQ(got.create_time, created.create_time);
  EXPECT_FALSE(got.last_run.has_value());

  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob second,
      this->store().CreateCleaningJob(this->Job(this->tenant_, T0())));
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<CleaningJob> page1,
      this->store().ListCleaningJobs(this->tenant_, 1, ""));
  ASSERT_EQ(page1.size(), 1u);
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<CleaningJob> page2,
      this->store().ListCleaningJobs(this->tenant_, 10, page1[0].id));
  ASSERT_EQ(page2.size(), 1u);
  EXPECT_NE(page1[0].id, page2[0].id);

  STORE_ASSERT_OK(this->store().DeleteCleaningJob(this->tenant_, created.id));
  EXPECT_TRUE(absl::IsNotFound(
      this->store().GetCleaningJob(this->tenant_, created.id).status()));
  EXPECT_TRUE(absl::IsNotFound(
      this->store().DeleteCleaningJob(this->tenant_, created.id)));
  EXPECT_TRUE(
      absl::IsNotFound(this->store()
                           .ListCleaningJobRuns(this->tenant_, created.id, 10)
                           .status()));
  (void)second;
}

TYPED_TEST(CleaningJobsTest, TenantsAreIsolated) {
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob job,
      this->store().CreateCleaningJob(this->Job(this->tenant_, T0())));
  EXPECT_TRUE(absl::IsNotFound(
      this->store().GetCleaningJob(this->other_, job.id).status()));
  EXPECT_TRUE(
      absl::IsNotFound(this->store().DeleteCleaningJob(this->other_, job.id)));
  EXPECT_TRUE(absl::IsNotFound(
      this->store()
          .ClaimCleaningJob(this->other_, job.id, "r1", T0(), absl::Hours(1))
          .status()));
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<CleaningJob> others,
      this->store().ListCleaningJobs(this->other_, 10, ""));
  EXPECT_TRUE(others.empty());
}

TYPED_TEST(CleaningJobsTest, ClaimDueLeasesOnceAndRecordsRun) {
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob due,
      this->store().CreateCleaningJob(this->Job(this->tenant_, T0())));
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob later, this->store().CreateCleaningJob(
                             this->Job(this->tenant_, T0() + absl::Hours(5))));
  STORE_ASSERT_OK_AND_ASSIGN(absl::Time next,
                             this->store().NextCleaningJobDueTime());
  EXPECT_EQ(next, T0());

  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<ClaimedCleaningJob> claimed,
      this->store().ClaimDueCleaningJobs("r1", T0() + absl::Minutes(1),
                                         absl::Hours(1), 10));
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].job.id, due.id);
  EXPECT_EQ(claimed[0].run.state, CleaningRunState::kRunning);
  EXPECT_EQ(claimed[0].run.start_time, T0() + absl::Minutes(1));
  EXPECT_GT(claimed[0].run.id, 0);

  // Leased: nobody else gets it, not even on demand.
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<ClaimedCleaningJob> again,
      this->store().ClaimDueCleaningJobs("r2", T0() + absl::Minutes(2),
                                         absl::Hours(1), 10));
  EXPECT_TRUE(again.empty());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      this->store()
          .ClaimCleaningJob(this->tenant_, due.id, "r2",
                            T0() + absl::Minutes(2), absl::Hours(1))
          .status()));
  // While leased, the job counts as due when its lease ends.
  STORE_ASSERT_OK_AND_ASSIGN(next, this->store().NextCleaningJobDueTime());
  EXPECT_EQ(next, T0() + absl::Hours(1) + absl::Minutes(1));

  CleaningRunFinish finish;
  finish.tenant_id = this->tenant_;
  finish.job_id = due.id;
  finish.run_id = claimed[0].run.id;
  finish.lease_owner = "r2";  // not the holder
  finish.state = CleaningRunState::kSucceeded;
  finish.end_time = T0() + absl::Minutes(3);
  finish.summary.rows = 10;
  finish.summary.kept = 7;
  finish.summary.removed = 3;
  finish.summary.duplicates = 1;
  finish.summary.by_verdict = {{"deliverable", 7}, {"undeliverable", 3}};
  finish.summary.removed_by_reason = {{"duplicate", 1}, {"invalid", 2}};
  finish.summary.suppressed_added = 2;
  finish.summary.flagged = 1;
  finish.next_run_time = T0() + absl::Hours(24);
  EXPECT_TRUE(
      absl::IsFailedPrecondition(this->store().FinishCleaningJobRun(finish)));
  finish.lease_owner = "r1";
  STORE_ASSERT_OK(this->store().FinishCleaningJobRun(finish));

  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob got, this->store().GetCleaningJob(this->tenant_, due.id));
  EXPECT_EQ(got.next_run_time, T0() + absl::Hours(24));
  ASSERT_TRUE(got.last_run.has_value());
  const CleaningJobRun& run = *got.last_run;
  EXPECT_EQ(run.state, CleaningRunState::kSucceeded);
  EXPECT_EQ(run.end_time, T0() + absl::Minutes(3));
  EXPECT_EQ(run.summary.rows, 10);
  EXPECT_EQ(run.summary.kept, 7);
  EXPECT_EQ(run.summary.removed, 3);
  EXPECT_EQ(run.summary.duplicates, 1);
  EXPECT_EQ(run.summary.by_verdict, finish.summary.by_verdict);
  EXPECT_EQ(run.summary.removed_by_reason, finish.summary.removed_by_reason);
  EXPECT_EQ(run.summary.suppressed_added, 2);
  EXPECT_EQ(run.summary.flagged, 1);

  // Released: an on-demand claim works now.
  STORE_ASSERT_OK_AND_ASSIGN(
      ClaimedCleaningJob now,
      this->store().ClaimCleaningJob(this->tenant_, due.id, "r2",
                                     T0() + absl::Minutes(4), absl::Hours(1)));
  EXPECT_EQ(now.job.id, due.id);
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<CleaningJobRun> runs,
      this->store().ListCleaningJobRuns(this->tenant_, due.id, 10));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, now.run.id);  // newest first
  EXPECT_EQ(runs[0].state, CleaningRunState::kRunning);
  EXPECT_EQ(runs[1].state, CleaningRunState::kSucceeded);
  (void)later;
}

TYPED_TEST(CleaningJobsTest, ExpiredLeaseIsTakenOverAndItsRunFailed) {
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob job,
      this->store().CreateCleaningJob(this->Job(this->tenant_, T0())));
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<ClaimedCleaningJob> first,
      this->store().ClaimDueCleaningJobs("r1", T0(), absl::Minutes(10), 10));
  ASSERT_EQ(first.size(), 1u);
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<ClaimedCleaningJob> second,
      this->store().ClaimDueCleaningJobs("r2", T0() + absl::Minutes(10),
                                         absl::Minutes(10), 10));
  ASSERT_EQ(second.size(), 1u);
  // r1 lost its lease: its late report is refused.
  CleaningRunFinish late;
  late.tenant_id = this->tenant_;
  late.job_id = job.id;
  late.run_id = first[0].run.id;
  late.lease_owner = "r1";
  late.state = CleaningRunState::kSucceeded;
  late.end_time = T0() + absl::Minutes(11);
  EXPECT_TRUE(
      absl::IsFailedPrecondition(this->store().FinishCleaningJobRun(late)));
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<CleaningJobRun> runs,
      this->store().ListCleaningJobRuns(this->tenant_, job.id, 10));
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].state, CleaningRunState::kRunning);
  EXPECT_EQ(runs[1].state, CleaningRunState::kFailed);
  EXPECT_NE(runs[1].error.find("abandoned"), std::string::npos);
}

TYPED_TEST(CleaningJobsTest, FailedRunKeepsErrorAndRetryTime) {
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob job, this->store().CreateCleaningJob(
                           this->Job(this->tenant_, absl::InfiniteFuture())));
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<ClaimedCleaningJob> none,
      this->store().ClaimDueCleaningJobs("r1", T0(), absl::Hours(1), 10));
  EXPECT_TRUE(none.empty());  // on demand only: never due by itself
  STORE_ASSERT_OK_AND_ASSIGN(
      ClaimedCleaningJob claimed,
      this->store().ClaimCleaningJob(this->tenant_, job.id, "r1", T0(),
                                     absl::Hours(1)));
  CleaningRunFinish finish;
  finish.tenant_id = this->tenant_;
  finish.job_id = job.id;
  finish.run_id = claimed.run.id;
  finish.lease_owner = "r1";
  finish.state = CleaningRunState::kFailed;
  finish.end_time = T0() + absl::Seconds(1);
  finish.error = "source: no such file";
  finish.next_run_time = T0() + absl::Minutes(5);
  finish.consecutive_failures = 1;
  STORE_ASSERT_OK(this->store().FinishCleaningJobRun(finish));
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob got, this->store().GetCleaningJob(this->tenant_, job.id));
  EXPECT_EQ(got.consecutive_failures, 1);
  EXPECT_EQ(got.next_run_time, T0() + absl::Minutes(5));
  ASSERT_TRUE(got.last_run.has_value());
  EXPECT_EQ(got.last_run->state, CleaningRunState::kFailed);
  EXPECT_EQ(got.last_run->error, "source: no such file");
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<ClaimedCleaningJob> retry,
      this->store().ClaimDueCleaningJobs("r1", T0() + absl::Minutes(5),
                                         absl::Hours(1), 10));
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].job.consecutive_failures, 1);
}

TYPED_TEST(CleaningJobsTest, ReleaseAllLeasesFailsRunningRuns) {
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob job,
      this->store().CreateCleaningJob(this->Job(this->tenant_, T0())));
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<ClaimedCleaningJob> claimed,
      this->store().ClaimDueCleaningJobs("r1", T0(), absl::Hours(1), 10));
  ASSERT_EQ(claimed.size(), 1u);
  STORE_ASSERT_OK(this->store().ReleaseAllLeases());
  STORE_ASSERT_OK_AND_ASSIGN(
      CleaningJob got, this->store().GetCleaningJob(this->tenant_, job.id));
  ASSERT_TRUE(got.last_run.has_value());
  EXPECT_EQ(got.last_run->state, CleaningRunState::kFailed);
  STORE_ASSERT_OK_AND_ASSIGN(
      std::vector<ClaimedCleaningJob> again,
      this->store().ClaimDueCleaningJobs("r2", T0(), absl::Hours(1), 10));
  EXPECT_EQ(again.size(), 1u);
}

}  // namespace
}  // namespace deliverd::store::conformance
