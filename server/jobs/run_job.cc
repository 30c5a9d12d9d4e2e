#include "server/jobs/run_job.h"

#include <stdio.h>
#include <string.h>

#include <fstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "hygiene/cleaner.h"
#include "hygiene/csv.h"
#include "hygiene/csv_reader.h"
#include "server/jobs/job_paths.h"

namespace deliverd::jobs {
namespace {

using store::CleaningJobAction;

CleaningJobAction Effective(CleaningJobAction action) {
  return action == CleaningJobAction::kUnspecified ? CleaningJobAction::kKeep
                                                   : action;
}

// A source row waiting for its chunk's verdicts.
struct PendingRow {
  std::vector<std::string> fields;
};

class Run {
 public:
  Run(const RunJobContext& ctx, const store::CleaningJob& job)
      : ctx_(ctx), job_(job) {}

  absl::StatusOr<store::CleaningRunSummary> Go(int64_t run_id) {
    absl::StatusOr<std::string> source =
        ValidateJobPath("source", job_.source, ctx_.jobs_dir);
    if (!source.ok()) return source.status();
    absl::StatusOr<std::string> dest =
        ValidateJobPath("destination", job_.destination, ctx_.jobs_dir);
    if (!dest.ok()) return dest.status();
    absl::StatusOr<std::string> real_source =
        ResolveUnderRoot("source", *source, ctx_.jobs_dir, true);
    if (!real_source.ok()) return real_source.status();
    absl::StatusOr<std::string> real_dest =
        ResolveUnderRoot("destination", *dest, ctx_.jobs_dir, false);
    if (!real_dest.ok()) return real_dest.status();
    if (!job_.offline && ctx_.resolver == nullptr) {
      return absl::UnavailableError(
          "no DNS resolver on this server (make the job offline)");
    }

    std::ifstream in(*real_source, std::ios::binary);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("source: cannot open: ", strerror(errno)));
    }
    temp_path_ = absl::StrCat(*real_dest, ".tmp-", run_id);
    out_.open(temp_path_, std::ios::binary | std::ios::trunc);
    if (!out_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "destination: cannot create ", temp_path_, ": ", strerror(errno)));
    }
    absl::Status status = Clean(in);
    out_.close();
    if (status.ok() && out_.fail()) {
      status = absl::DataLossError(
          absl::StrCat("destination: write failed: ", strerror(errno)));
    }
    if (status.ok() && rename(temp_path_.c_str(), real_dest->c_str()) != 0) {
      status = absl::DataLossError(absl::StrCat(
          "destination: cannot rename into place: ", strerror(errno)));
    }
    if (!status.ok()) {
      remove(temp_path_.c_str());
      return status;
    }
    return Summary();
  }

 private:
  absl::Status Clean(std::istream& in) {
    hygiene::CsvReader reader(in);
    std::vector<std::string> first;
    absl::StatusOr<bool> got = reader.Next(&first);
    if (!got.ok()) return Prefixed(got.status());
    if (!*got) return absl::InvalidArgumentError("source: the file is empty");
    std::vector<std::string> header;
    if (hygiene::LooksLikeHeader(first)) {
      header = std::move(first);
      first.clear();
      got = reader.Next(&first);
      if (!got.ok()) return Prefixed(got.status());
    }
    absl::StatusOr<size_t> column =
        hygiene::ChooseAddressColumn("", header, first);
    if (!column.ok()) return Prefixed(column.status());
    column_ = *column;
    if (!header.empty()) {
      header.push_back("verdict");
      header.push_back("reason");
      out_ << hygiene::CsvRow(header);
    }

    hygiene::CleanOptions options;
    options.remove_risky = job_.remove_risky;
    options.resolver = job_.offline ? nullptr : ctx_.resolver;
    store::Store* store = ctx_.store;
    const int64_t tenant_id = job_.tenant_id;
    const std::string stream = job_.stream;
    options.suppressed = [store, tenant_id,
                          stream](const std::vector<std::string>& normalized)
        -> absl::StatusOr<std::vector<bool>> {
      absl::StatusOr<std::vector<std::optional<store::Suppression>>> found =
          store->FindSuppressions(tenant_id, normalized, stream, absl::Now());
      if (!found.ok()) return found.status();
      std::vector<bool> out;
      out.reserve(found->size());
      for (const auto& s : *found) out.push_back(s.has_value());
      return out;
    };
    cleaner_ = std::make_unique<hygiene::ListCleaner>(std::move(options));

    std::vector<hygiene::CleanInput> inputs;
    std::vector<PendingRow> rows;
    bool more = !first.empty();
    if (more) Add(std::move(first), reader.line(), &inputs, &rows);
    while (more) {
      std::vector<std::string> fields;
      got = reader.Next(&fields);
      if (!got.ok()) return Prefixed(got.status());
      more = *got;
      if (more) Add(std::move(fields), reader.line(), &inputs, &rows);
      if (inputs.size() >= static_cast<size_t>(kRunJobChunkRows) ||
          (!more && !inputs.empty())) {
        if (absl::Status s = Chunk(inputs, rows); !s.ok()) return s;
        inputs.clear();
        rows.clear();
      }
    }
    return absl::OkStatus();
  }

  void Add(std::vector<std::string> fields, int64_t line,
           std::vector<hygiene::CleanInput>* inputs,
           std::vector<PendingRow>* rows) {
    hygiene::CleanInput input;
    input.row_number = line;
    if (column_ < fields.size()) input.address = fields[column_];
    inputs->push_back(std::move(input));
    rows->push_back({std::move(fields)});
  }

  absl::Status Chunk(const std::vector<hygiene::CleanInput>& inputs,
                     std::vector<PendingRow>& rows) {
    if (ctx_.cancelled != nullptr && ctx_.cancelled->load()) {
      return absl::AbortedError("interrupted: deliverd is stopping");
    }
    absl::StatusOr<std::vector<hygiene::CleanResult>> results =
        cleaner_->CleanChunk(inputs);
    if (!results.ok()) return results.status();
    for (size_t i = 0; i < results->size(); ++i) {
      const hygiene::CleanResult& r = (*results)[i];
      const bool bad = r.removal == hygiene::RemovalReason::kInvalid ||
                       r.removal == hygiene::RemovalReason::kUndeliverable;
      const bool risky =
          r.verdict.verdict == hygiene::Verdict::kRisky &&
          (r.kept || r.removal == hygiene::RemovalReason::kRisky);
      CleaningJobAction action = CleaningJobAction::kKeep;
      if (bad) action = Effective(job_.on_undeliverable);
      if (risky) action = Effective(job_.on_risky);
      bool write = r.kept;
      std::string reason(hygiene::RemovalReasonName(r.removal));
      if (action == CleaningJobAction::kFlag && (bad || risky)) {
        write = true;
        if (reason.empty()) reason = "risky";
        ++flagged_;
      } else if (action == CleaningJobAction::kSuppress && (bad || risky)) {
        write = false;
        if (r.verdict.valid) {
          store::Suppression s;
          s.tenant_id = job_.tenant_id;
          s.address = r.verdict.normalized;
          s.reason = store::SuppressionReason::kInvalid;
          s.create_time = absl::Now();
          s.evidence = absl::StrCat(
              "cleaning job ", job_.id, ": ", bad ? reason : "risky",
              r.verdict.reason.empty() ? "" : " (", r.verdict.reason,
              r.verdict.reason.empty() ? "" : ")");
          absl::Status stored = ctx_.store->UpsertSuppression(
              s, absl::StrCat("cleaning job ", job_.id));
          if (!stored.ok()) return stored;
          ++suppressed_added_;
        }
      }
      if (!write) continue;
      std::vector<std::string>& fields = rows[i].fields;
      fields.emplace_back(hygiene::VerdictName(r.verdict.verdict));
      fields.push_back(reason);
      out_ << hygiene::CsvRow(fields);
    }
    return absl::OkStatus();
  }

  static absl::Status Prefixed(const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("source: ", s.message()));
  }

  store::CleaningRunSummary Summary() const {
    const hygiene::CleanSummary& s = cleaner_->summary();
    store::CleaningRunSummary out;
    out.rows = s.rows;
    out.kept = s.kept;
    out.removed = s.removed;
    out.duplicates = s.duplicates;
    out.by_verdict.assign(s.by_verdict.begin(), s.by_verdict.end());
    out.removed_by_reason.assign(s.removed_by_reason.begin(),
                                 s.removed_by_reason.end());
    out.suppressed_added = suppressed_added_;
    out.flagged = flagged_;
    return out;
  }

  const RunJobContext& ctx_;
  const store::CleaningJob& job_;
  std::string temp_path_;
  std::ofstream out_;
  size_t column_ = 0;
  std::unique_ptr<hygiene::ListCleaner> cleaner_;
  int64_t suppressed_added_ = 0;
  int64_t flagged_ = 0;
};

}  // namespace

absl::StatusOr<store::CleaningRunSummary> RunCleaningJob(
    const RunJobContext& context, const store::CleaningJob& job,
    int64_t run_id) {
  Run run(context, job);
  return run.Go(run_id);
}

}  // namespace deliverd::jobs
