// bounce_corpus_check: measures how far ParseBounce (hygiene/bounce/
// bounce_message.h) agrees with an external corpus of labelled bounces.
//
//   bounce_corpus_check CORPUS_DIR
//
// CORPUS_DIR/expected.csv has the header
//   file,rcpt_index,recipient,reason,class,status,replycode,feedback_type,
//   sisimai_reason
// with one row per expected recipient (file relative to CORPUS_DIR, index
// counting from 1). Every file under CORPUS_DIR/not-bounce/ must give
// is_bounce false. Recipients are matched by address (case-insensitive), else
// by index.
//
// Prints: files parsed, messages per second (parse and classify, repeated
// until more than one second has passed), the same for GMime's full parse
// alone (what a classifier that let GMime build every bounce could not
// beat; ParseBounce reads the MIME structure itself), class and reason agreement,
// recipients found and missed, the most common reason disagreements and the
// first 20 disagreements with file names.
//
// BOUNCE_CHECK_ROUNDS=N parses the corpus exactly N times in each speed
// loop instead of for a second (a fixed amount of work, for comparing
// builds with perf stat's instruction counts).
//
// BOUNCE_CHECK_DUMP=FILE also writes every field of every report to FILE,
// a line per report and a line per recipient, so that two builds can be
// compared with diff.
//
// The corpus is third-party data and stays outside the project; this tool only
// reads it. Exit status: 0 when the corpus was read (whatever the agreement),
// 2 on usage or file errors.

#include <gmime/gmime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "hygiene/bounce/bounce_message.h"
#include "hygiene/bounce/reason.h"
#include "hygiene/gmime_init.h"

namespace {

using deliverd::hygiene::bounce::BounceClassName;
using deliverd::hygiene::bounce::BounceKindName;
using deliverd::hygiene::bounce::BounceRecipient;
using deliverd::hygiene::bounce::BounceReport;
using deliverd::hygiene::bounce::ParseBounce;
using deliverd::hygiene::bounce::ReasonName;

struct Expected {
  std::string file;
  int index = 0;
  std::string recipient;
  std::string reason;
  std::string klass;
};

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bounce_corpus_check CORPUS_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::string csv;
  if (!ReadFile(dir + "/expected.csv", &csv)) {
    std::cerr << "cannot read " << dir << "/expected.csv\n";
    return 2;
  }
  std::vector<Expected> expected;
  std::vector<std::string> files;
  bool header = true;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> cols = absl::StrSplit(line, ',');
    if (cols.size() < 5) continue;
    Expected e;
    e.file = cols[0];
    e.index = std::atoi(cols[1].c_str());
    e.recipient = cols[2];
    e.reason = cols[3];
    e.klass = cols[4];
    if (files.empty() || files.back() != e.file) files.push_back(e.file);
    expected.push_back(std::move(e));
  }
  std::vector<std::string> not_bounce;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir + "/not-bounce", ec)) {
    if (entry.is_regular_file()) {
      not_bounce.push_back(
          std::filesystem::relative(entry.path(), dir).string());
    }
  }

  // Parse everything once.
  std::map<std::string, std::string> contents;
  std::map<std::string, BounceReport> reports;
  int parse_errors = 0;
  std::vector<std::string> all_files = files;
  all_files.insert(all_files.end(), not_bounce.begin(), not_bounce.end());
  for (const std::string& f : all_files) {
    std::string text;
    if (!ReadFile(dir + "/" + f, &text)) {
      std::cerr << "cannot read " << f << "\n";
      return 2;
    }
    absl::StatusOr<BounceReport> report = ParseBounce(text);
    if (!report.ok()) {
      ++parse_errors;
      std::cout << "error " << f << ": " << report.status() << "\n";
      reports[f] = BounceReport();
    } else {
      reports[f] = *std::move(report);
    }
    contents[f] = std::move(text);
  }

  if (const char* dump_path = getenv("BOUNCE_CHECK_DUMP")) {
    std::ofstream dump(dump_path, std::ios::binary);
    for (const auto& [f, r] : reports) {
      dump << f << " is_bounce=" << r.is_bounce
           << " kind=" << BounceKindName(r.kind) << " verp=" << r.verp_address
           << " message_id=" << r.original_message_id
           << " deliverd_id=" << r.deliverd_id
           << " reporting_mta=" << r.reporting_mta << " subject=" << r.subject
           << "\n";
      for (const BounceRecipient& rr : r.recipients) {
        dump << f << "  rcpt=" << rr.address
             << " original=" << rr.original_recipient
             << " action=" << rr.action << " status=" << rr.status
             << " reply=" << rr.reply_code.value_or(0)
             << " remote=" << rr.remote_mta
             << " feedback=" << rr.feedback_type
             << " reason=" << ReasonName(rr.reason)
             << " class=" << BounceClassName(rr.bounce_class)
             << " rule=" << rr.rule << " diagnostic=" << rr.diagnostic << "\n";
      }
    }
    if (!dump) {
      std::cerr << "cannot write " << dump_path << "\n";
      return 2;
    }
  }

  // Speed.
  const long long fixed_rounds =
      getenv("BOUNCE_CHECK_ROUNDS") ? std::atoll(getenv("BOUNCE_CHECK_ROUNDS"))
                                    : 0;
  auto done = [fixed_rounds](long long round, double seconds) {
    return fixed_rounds > 0 ? round >= fixed_rounds : seconds >= 1.0;
  };
  auto start = std::chrono::steady_clock::now();
  long long parsed = 0;
  size_t recipients_seen = 0;  // keeps the parses observable
  double seconds = 0;
  long long rounds = 0;
  do {
    for (const auto& [f, text] : contents) {
      absl::StatusOr<BounceReport> r = ParseBounce(text);
      ++parsed;
      if (r.ok()) recipients_seen += r->recipients.size();
    }
    seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  } while (!done(++rounds, seconds));

  // GMime's full parse: only building and freeing each message, with no
  // classification. The ceiling of any classifier that lets GMime parse
  // every bounce in full (as ParseBounce did before mime_reader.h).
  deliverd::hygiene::EnsureGMimeInitialized();
  start = std::chrono::steady_clock::now();
  long long gmime_parsed = 0;
  double gmime_seconds = 0;
  long long gmime_rounds = 0;
  do {
    for (const auto& [f, text] : contents) {
      GMimeStream* stream =
          g_mime_stream_mem_new_with_buffer(text.data(), text.size());
      GMimeParser* parser = g_mime_parser_new_with_stream(stream);
      g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
      GMimeMessage* message = g_mime_parser_construct_message(parser, nullptr);
      if (message != nullptr) g_object_unref(message);
      g_object_unref(parser);
      g_object_unref(stream);
      ++gmime_parsed;
    }
    gmime_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  } while (!done(++gmime_rounds, gmime_seconds));

  // Agreement.
  int class_ok = 0, reason_ok = 0, found = 0, missed = 0, not_bounce_ok = 0;
  std::map<std::pair<std::string, std::string>, int> confusion;
  std::vector<std::string> disagreements;
  for (const Expected& e : expected) {
    const BounceReport& r = reports[e.file];
    const BounceRecipient* got = nullptr;
    for (const BounceRecipient& rr : r.recipients) {
      if (!e.recipient.empty() &&
          absl::EqualsIgnoreCase(rr.address, e.recipient)) {
        got = &rr;
        break;
      }
    }
    if (got == nullptr && e.index >= 1 &&
        static_cast<size_t>(e.index) <= r.recipients.size()) {
      got = &r.recipients[e.index - 1];
    }
    std::string ours_reason = "(missing)", ours_class = "(missing)";
    if (got == nullptr) {
      ++missed;
    } else {
      ++found;
      ours_reason = std::string(ReasonName(got->reason));
      ours_class = std::string(BounceClassName(got->bounce_class));
    }
    bool c_ok = ours_class == e.klass;
    bool r_ok = ours_reason == e.reason;
    class_ok += c_ok;
    reason_ok += r_ok;
    if (!r_ok) ++confusion[{e.reason, ours_reason}];
    if (!c_ok || !r_ok) {
      disagreements.push_back(absl::StrCat(
          e.file, " #", e.index, " ", e.recipient, ": expected ", e.reason, "/",
          e.klass, ", got ", ours_reason, "/", ours_class,
          " kind=", BounceKindName(r.kind),
          got ? absl::StrCat(" rule=", got->rule, " addr=", got->address)
              : ""));
    }
  }
  for (const std::string& f : not_bounce) {
    if (!reports[f].is_bounce) {
      ++not_bounce_ok;
    } else {
      disagreements.push_back(absl::StrCat(f,
                                           ": expected is_bounce=false, got ",
                                           BounceKindName(reports[f].kind)));
    }
  }

  const double n = expected.empty() ? 1.0 : expected.size();
  std::printf(
      "files parsed:        %zu (%zu bounces, %zu not-bounce), %d errors\n",
      all_files.size(), files.size(), not_bounce.size(), parse_errors);
  std::printf(
      "messages per second: %.0f (%lld parses in %.2f s, %zu "
      "recipients)\n",
      parsed / seconds, parsed, seconds, recipients_seen);
  std::printf("GMime parse alone:   %.0f messages/s (GMime building each message)\n",
              gmime_parsed / gmime_seconds);
  std::printf("class agreement:     %.1f%% (%d/%zu)\n", 100.0 * class_ok / n,
              class_ok, expected.size());
  std::printf("reason agreement:    %.1f%% (%d/%zu)\n", 100.0 * reason_ok / n,
              reason_ok, expected.size());
  std::printf("recipients found:    %d, missed %d\n", found, missed);
  std::printf("not-bounce correct:  %d/%zu\n", not_bounce_ok,
              not_bounce.size());
  std::vector<std::pair<int, std::pair<std::string, std::string>>> sorted;
  for (const auto& [k, v] : confusion) sorted.push_back({v, k});
  std::sort(sorted.rbegin(), sorted.rend());
  std::printf("reason disagreements (expected -> ours, count):\n");
  for (size_t i = 0; i < sorted.size() && i < 15; ++i) {
    std::printf("  %s -> %s: %d\n", sorted[i].second.first.c_str(),
                sorted[i].second.second.c_str(), sorted[i].first);
  }
  const size_t limit = getenv("BOUNCE_CHECK_ALL") ? disagreements.size() : 20;
  std::printf("first %zu of %zu disagreements:\n",
              std::min(limit, disagreements.size()), disagreements.size());
  for (size_t i = 0; i < disagreements.size() && i < limit; ++i) {
    std::printf("  %s\n", disagreements[i].c_str());
  }
  return 0;
}
