// Handler of `clean`: a whole CSV list in, a cleaned CSV (every original
// column plus `verdict`, only kept rows), a removed-rows CSV (original
// columns plus `removal_reason`) and an optional JSON report out.
//
// The input is streamed and cleaned in chunks, so memory does not grow with
// the file beyond the cleaner's dedupe set (hygiene/cleaner.h). With --local
// the hygiene library runs in-process (DNS through --dns unless --offline;
// no suppression list). Otherwise rows stream to the server's CleanList and
// results are written as they come back; at most kWindow rows are in flight,
// and only those rows' fields are held, keyed by row number.
//
// Files are written as <path>.tmp and renamed only when everything
// succeeded, so a failed run never leaves an --out that looks complete.
// Exit: 0 done, 1 the input or an output could not be used or the RPC
// failed, 2 usage.

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "auth_checks/dns/cares_resolver.h"
#include "client/commands.h"
#include "client/connection.h"
#include "hygiene/csv.h"
#include "hygiene/csv_reader.h"
#include "client/output.h"
#include "client/table.h"
#include "deliverd/v1/hygiene.grpc.pb.h"
#include "hygiene/cleaner.h"

namespace deliverd::client {
namespace {

using hygiene::CsvReader;
using hygiene::CsvRow;
using hygiene::LooksLikeHeader;
using hygiene::ChooseAddressColumn;

// printf-style formatting into a std::string (absl's str_format is not
// among the libraries the build links).
template <typename... Args>
std::string Format(const char* format, Args... args) {
  char buffer[160];
  std::snprintf(buffer, sizeof(buffer), format, args...);
  return buffer;
}

// Rows per local chunk: large enough that DNS lookups of a chunk's domains
// overlap well, small enough that a chunk's rows are a few MB at most.
constexpr size_t kChunkRows = 10000;
// Rows in flight to the server. Must exceed the server's chunk
// (HygieneService::kCleanChunkRows, 500), which answers only full chunks
// until the client half-closes.
constexpr size_t kWindow = 4096;

// Progress on stderr: a line redrawn in place on a terminal, plain lines
// every `every` rows otherwise, nothing with --quiet.
class Progress {
 public:
  Progress(std::ostream& err, bool tty, bool quiet, int64_t every,
           uint64_t total_bytes)
      : err_(err),
        tty_(tty),
        quiet_(quiet),
        every_(every),
        total_bytes_(total_bytes),
        start_(absl::Now()),
        next_line_(every) {}

  void Update(int64_t rows, uint64_t bytes) {
    if (quiet_) return;
    absl::Time now = absl::Now();
    double seconds = absl::ToDoubleSeconds(now - start_);
    double rate = seconds > 0 ? rows / seconds : 0;
    if (tty_) {
      if (now - last_draw_ < absl::Milliseconds(200)) return;
      last_draw_ = now;
      std::string line = Format("\rclean: %lld rows  %.0f rows/s",
                                static_cast<long long>(rows), rate);
      if (total_bytes_ > 0 && bytes > 0) {
        double done = static_cast<double>(bytes) / total_bytes_;
        double eta = done > 0 ? seconds * (1 - done) / done : 0;
        line += Format("  %3.0f%%  ETA %d:%02d", done * 100,
                       static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
      }
      err_ << line << "\x1b[K" << std::flush;
      drawn_ = true;
    } else {
      while (every_ > 0 && rows >= next_line_) {
        err_ << Format("clean: %lld rows (%.0f rows/s)\n",
                       static_cast<long long>(next_line_), rate);
        next_line_ += every_;
      }
    }
  }

  void Done() {
    if (tty_ && drawn_) err_ << "\r\x1b[K" << std::flush;
  }

 private:
  std::ostream& err_;
  bool tty_;
  bool quiet_;
  int64_t every_;
  uint64_t total_bytes_;
  absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
  bool drawn_ = false;
  int64_t next_line_;
};

// An output file written as PATH.tmp and renamed by Commit(); removed when
// not committed.
class PendingFile {
 public:
  explicit PendingFile(std::string path)
      : path_(std::move(path)), tmp_(path_ + ".tmp") {}
  ~PendingFile() {
    if (!committed_) {
      out_.close();
      std::remove(tmp_.c_str());
    }
  }

  absl::Status Open() {
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) {
      return absl::UnavailableError(
          absl::StrCat("cannot write ", tmp_, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  std::ostream& stream() { return out_; }
  absl::Status Commit() {
    out_.close();
    if (out_.fail()) {
      return absl::DataLossError(absl::StrCat("cannot write ", tmp_));
    }
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot rename ", tmp_, " to ", path_, ": ", std::strerror(errno)));
    }
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  std::string path_;
  std::string tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

hygiene::Verdict FromProto(v1::Verdict verdict) {
  switch (verdict) {
    case v1::VERDICT_DELIVERABLE:
      return hygiene::Verdict::kDeliverable;
    case v1::VERDICT_UNDELIVERABLE:
      return hygiene::Verdict::kUndeliverable;
    case v1::VERDICT_RISKY:
      return hygiene::Verdict::kRisky;
    default:
      return hygiene::Verdict::kUnknown;
  }
}

hygiene::RemovalReason ReasonFromName(const std::string& name) {
  using R = hygiene::RemovalReason;
  for (R r : {R::kInvalid, R::kDuplicate, R::kSuppressed, R::kUndeliverable,
              R::kRisky}) {
    if (hygiene::RemovalReasonName(r) == name) return r;
  }
  return R::kNone;
}

// The files and counts of one run.
struct Run {
  std::unique_ptr<PendingFile> kept;
  std::unique_ptr<PendingFile> removed;
  hygiene::CleanSummary summary;

  void Write(std::vector<std::string> fields, const hygiene::CleanResult& r) {
    hygiene::CountResult(r, &summary);
    if (r.kept) {
      fields.emplace_back(hygiene::VerdictName(r.verdict.verdict));
      kept->stream() << CsvRow(fields);
    } else {
      fields.emplace_back(hygiene::RemovalReasonName(r.removal));
      removed->stream() << CsvRow(fields);
    }
  }
};

std::string ReportJson(const Run& run, const std::string& input,
                       const std::string& out, const std::string& removed,
                       absl::Duration duration) {
  const hygiene::CleanSummary& s = run.summary;
  auto map_json = [](const std::map<std::string, int64_t>& m) {
    std::string json = "{";
    for (const auto& [key, count] : m) {
      if (json.size() > 1) json += ",";
      absl::StrAppend(&json, JsonString(key), ":", count);
    }
    return json + "}";
  };
  return absl::StrCat(
      "{\"input\":", JsonString(input), ",\"output\":", JsonString(out),
      ",\"removed_output\":", JsonString(removed), ",\"rows\":", s.rows,
      ",\"kept\":", s.kept, ",\"removed\":", s.removed,
      ",\"duplicates\":", s.duplicates,
      ",\"by_verdict\":", map_json(s.by_verdict),
      ",\"removed_by_reason\":", map_json(s.removed_by_reason),
      ",\"duration_seconds\":", Format("%.3f", absl::ToDoubleSeconds(duration)),
      "}\n");
}

std::string SummaryTable(const hygiene::CleanSummary& s) {
  Table table({"", "ROWS"});
  table.SetAlign(1, Table::Align::kRight);
  table.AddRow({"rows", absl::StrCat(s.rows)});
  table.AddRow({"kept", absl::StrCat(s.kept)});
  table.AddRow({"removed", absl::StrCat(s.removed)});
  for (const auto& [reason, count] : s.removed_by_reason) {
    table.AddRow({absl::StrCat("  ", reason), absl::StrCat(count)});
  }
  for (const auto& [verdict, count] : s.by_verdict) {
    table.AddRow({absl::StrCat("verdict ", verdict), absl::StrCat(count)});
  }
  return table.Render();
}

// The address of a row (empty when the row is shorter than the column).
std::string AddressOf(const std::vector<std::string>& fields, size_t column) {
  return column < fields.size() ? fields[column] : std::string();
}

// Input failures are the user's file, not the command line: exit 1.
int InputError(const Invocation& inv, const std::string& path,
               const absl::Status& status) {
  inv.err << "deliverctl: clean: " << path << ": " << status.message() << "\n";
  return kExitFailure;
}

}  // namespace

int RunClean(const Invocation& inv) {
  const absl::Time start = absl::Now();
  const std::string& path = inv.args.positionals[0];
  const std::string out_path = *inv.args.Get("out");
  const std::string removed_path =
      inv.args.GetOr("removed", absl::StrCat(out_path, ".removed.csv"));
  const std::optional<std::string> report_path = inv.args.Get("report");
  const std::string header_mode = inv.args.GetOr("header", "auto");
  const bool local = inv.args.global.local;
  const bool offline = inv.args.GetBool("offline");
  if (header_mode != "auto" && header_mode != "yes" && header_mode != "no") {
    return inv.UsageError("--header: auto, yes or no");
  }
  int64_t every = 100000;
  if (inv.args.Has("progress-every") &&
      (!absl::SimpleAtoi(*inv.args.Get("progress-every"), &every) ||
       every < 1)) {
    return inv.UsageError("--progress-every: a positive number of rows");
  }
  if (local && inv.args.Has("stream")) {
    return inv.UsageError(
        "--stream needs the server's suppression list (drop --local)");
  }
  if (out_path == path || removed_path == path || out_path == removed_path) {
    return inv.UsageError("the input, --out and --removed must differ");
  }

  // The input.
  std::ifstream file;
  std::istream* in = &inv.in;
  uint64_t total_bytes = 0;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      return InputError(inv, path,
                        absl::NotFoundError(absl::StrCat(
                            "cannot open: ", std::strerror(errno))));
    }
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total_bytes = st.st_size;
    }
    in = &file;
  }
  CsvReader reader(*in);
  std::vector<std::string> header;
  std::vector<std::string> first;
  absl::StatusOr<bool> got = reader.Next(&first);
  if (!got.ok()) return InputError(inv, path, got.status());
  if (!*got) return InputError(inv, path, absl::InvalidArgumentError("empty"));
  bool has_header =
      header_mode == "yes" || (header_mode == "auto" && LooksLikeHeader(first));
  if (has_header) {
    header = std::move(first);
    first.clear();
    got = reader.Next(&first);
    if (!got.ok()) return InputError(inv, path, got.status());
  }
  const bool have_first = !first.empty();
  absl::StatusOr<size_t> column =
      ChooseAddressColumn(inv.args.GetOr("column", ""), header, first);
  if (!column.ok()) return InputError(inv, path, column.status());

  // The outputs.
  Run run;
  run.kept = std::make_unique<PendingFile>(out_path);
  run.removed = std::make_unique<PendingFile>(removed_path);
  for (PendingFile* f : {run.kept.get(), run.removed.get()}) {
    absl::Status opened = f->Open();
    if (!opened.ok()) {
      inv.err << "deliverctl: clean: " << opened.message() << "\n";
      return kExitFailure;
    }
  }
  if (has_header) {
    std::vector<std::string> h = header;
    h.push_back("verdict");
    run.kept->stream() << CsvRow(h);
    h.back() = "removal_reason";
    run.removed->stream() << CsvRow(h);
  }

  const bool tty = &inv.err == &std::cerr && isatty(STDERR_FILENO);
  Progress progress(inv.err, tty, inv.args.GetBool("quiet"), every,
                    total_bytes);
  int64_t next_row = 1;
  absl::Status input_status;

  if (local) {
    std::unique_ptr<auth_checks::dns::CaresResolver> resolver;
    if (!offline) {
      auth_checks::dns::CaresOptions options;
      options.server = inv.args.global.dns.value_or("");
      absl::StatusOr<std::unique_ptr<auth_checks::dns::CaresResolver>> created =
          auth_checks::dns::CaresResolver::Create(options);
      if (!created.ok()) {
        inv.err << "deliverctl: clean: cannot use DNS: "
                << created.status().message() << " (or use --offline)\n";
        return kExitFailure;
      }
      resolver = *std::move(created);
    }
    hygiene::CleanOptions options;
    options.remove_risky = inv.args.GetBool("remove-risky");
    options.resolver = resolver.get();
    hygiene::ListCleaner cleaner(std::move(options));
    std::vector<std::vector<std::string>> rows;
    std::vector<hygiene::CleanInput> inputs;
    std::vector<std::string> fields = std::move(first);
    bool more = have_first;
    while (more) {
      rows.clear();
      inputs.clear();
      while (more && rows.size() < kChunkRows) {
        inputs.push_back({next_row++, AddressOf(fields, *column)});
        rows.push_back(std::move(fields));
        fields = {};
        absl::StatusOr<bool> next = reader.Next(&fields);
        if (!next.ok()) return InputError(inv, path, next.status());
        more = *next;
      }
      absl::StatusOr<std::vector<hygiene::CleanResult>> results =
          cleaner.CleanChunk(inputs);
      if (!results.ok()) return InputError(inv, path, results.status());
      for (size_t i = 0; i < rows.size(); ++i) {
        run.Write(std::move(rows[i]), (*results)[i]);
      }
      progress.Update(run.summary.rows, reader.bytes_read());
    }
  } else {
    Connection connection(inv.settings);
    std::unique_ptr<grpc::ClientContext> context =
        connection.NewStreamContext();
    std::unique_ptr<v1::Hygiene::Stub> stub =
        v1::Hygiene::NewStub(connection.channel());
    std::unique_ptr<
        grpc::ClientReaderWriter<v1::CleanListRequest, v1::CleanListResponse>>
        stream = stub->CleanList(context.get());

    // Rows sent and not yet answered, shared by the two threads.
    std::mutex mu;
    std::condition_variable room;
    std::unordered_map<int64_t, std::vector<std::string>> in_flight;
    bool stop = false;
    std::atomic<uint64_t> bytes_read{0};

    std::thread writer([&] {
      v1::CleanListRequest request;
      v1::CleanListOptions* options = request.mutable_options();
      options->set_offline(offline);
      options->set_remove_risky(inv.args.GetBool("remove-risky"));
      options->set_stream(inv.args.GetOr("stream", ""));
      bool ok = stream->Write(request);
      std::vector<std::string> fields = std::move(first);
      bool more = have_first;
      while (ok && more) {
        const int64_t row_number = next_row++;
        request.Clear();
        request.mutable_row()->set_row_number(row_number);
        request.mutable_row()->set_address(AddressOf(fields, *column));
        {
          std::unique_lock<std::mutex> lock(mu);
          room.wait(lock, [&] { return stop || in_flight.size() < kWindow; });
          if (stop) break;
          in_flight.emplace(row_number, std::move(fields));
        }
        fields = {};
        ok = stream->Write(request);
        absl::StatusOr<bool> next = reader.Next(&fields);
        bytes_read = reader.bytes_read();
        if (!next.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          input_status = next.status();
          context->TryCancel();
          return;
        }
        more = *next;
      }
      stream->WritesDone();
    });

    v1::CleanListResponse response;
    std::optional<v1::CleanListSummary> server_summary;
    absl::Status protocol;
    while (stream->Read(&response)) {
      if (response.has_summary()) {
        server_summary = response.summary();
        continue;
      }
      const v1::CleanListRowResult& row = response.row();
      std::vector<std::string> fields;
      {
        std::lock_guard<std::mutex> lock(mu);
        auto it = in_flight.find(row.row_number());
        if (it == in_flight.end()) {
          protocol = absl::InternalError(
              absl::StrCat("the server answered row ", row.row_number(),
                           " which is not in flight"));
          stop = true;
          room.notify_all();
          context->TryCancel();
          break;
        }
        fields = std::move(it->second);
        in_flight.erase(it);
      }
      room.notify_all();
      hygiene::CleanResult result;
      result.row_number = row.row_number();
      result.kept = row.kept();
      result.removal = ReasonFromName(row.removal_reason());
      result.verdict.verdict = FromProto(row.verdict().verdict());
      run.Write(std::move(fields), result);
      progress.Update(run.summary.rows, bytes_read);
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    room.notify_all();
    writer.join();
    grpc::Status status = stream->Finish();
    progress.Done();
    if (!input_status.ok()) return InputError(inv, path, input_status);
    if (!protocol.ok()) {
      inv.err << "deliverctl: clean: " << protocol.message() << "\n";
      return kExitFailure;
    }
    if (!status.ok()) return inv.RpcError(status);
    if (!server_summary.has_value() ||
        server_summary->rows() != run.summary.rows ||
        server_summary->kept() != run.summary.kept) {
      inv.err << "deliverctl: clean: the server's summary does not match the "
                 "rows it answered\n";
      return kExitFailure;
    }
  }
  progress.Done();

  for (PendingFile* f : {run.kept.get(), run.removed.get()}) {
    absl::Status committed = f->Commit();
    if (!committed.ok()) {
      inv.err << "deliverctl: clean: " << committed.message() << "\n";
      return kExitFailure;
    }
  }
  const std::string report =
      ReportJson(run, path, out_path, removed_path, absl::Now() - start);
  if (report_path.has_value()) {
    PendingFile file(*report_path);
    absl::Status status = file.Open();
    if (status.ok()) {
      file.stream() << report;
      status = file.Commit();
    }
    if (!status.ok()) {
      inv.err << "deliverctl: clean: " << status.message() << "\n";
      return kExitFailure;
    }
  }
  if (inv.json()) {
    inv.out << report;
  } else {
    inv.out << SummaryTable(run.summary);
  }
  return kExitOk;
}

}  // namespace deliverd::client
