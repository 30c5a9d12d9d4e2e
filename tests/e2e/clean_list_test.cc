// List cleaning end to end: `deliverctl clean` of a generated 100,000-row
// CSV through a running deliverd (CleanList, the tenant's suppressions),
// the same file with --local, the error exits, and the CleanList stream
// itself with its protocol errors.
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing_deliverd.h"

namespace deliverd::e2e {
namespace {

using ::testing::HasSubstr;

class CleanListTest : public SharedDeliverdTest<CleanListTest> {
 protected:
  // A fresh folder for this test's files.
  static std::string Folder(const std::string& name) {
    std::string dir = absl::StrCat(server().dir(), "/", name);
    mkdir(dir.c_str(), 0700);
    return dir;
  }
};

constexpr int kRows = 100000;
// Addresses suppressed in the tenant before cleaning. user39 also has a
// duplicate on row 40 (removed as a duplicate, not suppressed again).
const char* const kSuppressed[] = {"user5@example.com", "user6@example.com",
                                   "user7@example.com", "user39@example.com"};

// Row i (1-based) by i % 20:
//   0  the previous row's address with the domain in capitals (duplicate)
//   1  no '@' (invalid)
//   2  postmaster@ a unique domain (risky: role account)
//   3  a mailinator.com address (risky: disposable)
//   4  a .test domain (undeliverable: special-use, known offline)
//   else user<i>@example.com (unknown offline: kept)
// The name column has commas and doubled quotes, so CSV quoting is
// exercised on the way in and out.
std::string Address(int i) {
  switch (i % 20) {
    case 0:
      return absl::StrCat("user", i - 1, "@EXAMPLE.COM");
    case 1:
      return absl::StrCat("broken", i, ".example.com");
    case 2:
      return absl::StrCat("postmaster@d", i, ".example.org");
    case 3:
      return absl::StrCat("p", i, "@mailinator.com");
    case 4:
      return absl::StrCat("u", i, "@site.test");
    default:
      return absl::StrCat("user", i, "@example.com");
  }
}

std::string WriteList(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << "id,name,Email\r\n";
  for (int i = 1; i <= kRows; ++i) {
    out << i << ",\"Doe, \"\"J" << i << "\"\"\"," << Address(i) << "\r\n";
  }
  return path;
}

// Lines of a file (no trailing empty piece).
std::vector<std::string> Lines(const std::string& path) {
  std::optional<std::string> text = ReadFile(path);
  if (!text.has_value()) return {};
  std::vector<std::string> lines = absl::StrSplit(*text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

TEST_F(CleanListTest, CleansAHundredThousandRowsThroughTheServer) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  for (const char* address : kSuppressed) {
    v1::AddSuppressionRequest add;
    add.set_address(address);
    add.set_reason(v1::SUPPRESSION_REASON_MANUAL);
    ASSERT_OK(client.AddSuppression(add));
  }
  const std::string dir = Folder("clean_server");
  const std::string list = WriteList(dir + "/list.csv");
  CtlOptions ctl;
  ctl.api_key_env = client.api_key();
  ctl.timeout = Seconds(60);
  ProcessResult run = server().Deliverctl(
      {"clean", list, "--out", dir + "/cleaned.csv", "--report",
       dir + "/report.json", "--offline", "--progress-every", "50000"},
      ctl);
  ASSERT_EQ(run.exit_code, 0) << run;
  // 5000 each of duplicates, invalid, special-use; 4 suppressed.
  std::optional<std::string> report = ReadFile(dir + "/report.json");
  ASSERT_TRUE(report.has_value());
  EXPECT_THAT(*report, HasSubstr("\"rows\":100000,\"kept\":84996,"
                                 "\"removed\":15004,\"duplicates\":5000,"));
  EXPECT_THAT(*report,
              HasSubstr("\"by_verdict\":{\"risky\":10000,\"undeliverable\":"
                        "10000,\"unknown\":80000}"));
  EXPECT_THAT(*report, HasSubstr("\"removed_by_reason\":{\"duplicate\":5000,"
                                 "\"invalid\":5000,\"suppressed\":4,"
                                 "\"undeliverable\":5000}"));
  EXPECT_THAT(run.out, HasSubstr("kept"));
  EXPECT_THAT(run.err, HasSubstr("clean: 50000 rows"));
  EXPECT_THAT(run.err, HasSubstr("clean: 100000 rows"));

  std::vector<std::string> kept = Lines(dir + "/cleaned.csv");
  ASSERT_EQ(kept.size(), 84996u + 1);
  EXPECT_EQ(kept[0], "id,name,Email,verdict");
  EXPECT_EQ(kept[1], "2,\"Doe, \"\"J2\"\"\",postmaster@d2.example.org,risky");
  std::vector<std::string> removed = Lines(dir + "/cleaned.csv.removed.csv");
  ASSERT_EQ(removed.size(), 15004u + 1);
  EXPECT_EQ(removed[0], "id,name,Email,removal_reason");
  EXPECT_EQ(removed[1], "1,\"Doe, \"\"J1\"\"\",broken1.example.com,invalid");
  EXPECT_THAT(
      ReadFile(dir + "/cleaned.csv.removed.csv").value_or(""),
      HasSubstr("39,\"Doe, \"\"J39\"\"\",user39@example.com,suppressed\n"
                "40,\"Doe, \"\"J40\"\"\",user39@EXAMPLE.COM,duplicate\n"));
  EXPECT_FALSE(Exists(dir + "/cleaned.csv.tmp"));
}

TEST_F(CleanListTest, LocalRunNeedsNoServerAndRemovesRisky) {
  const std::string dir = Folder("clean_local");
  const std::string list = WriteList(dir + "/list.csv");
  CtlOptions ctl;
  ctl.server_env = false;
  ctl.api_key_env = "";
  ProcessResult run = server().Deliverctl(
      {"--local", "--json", "clean", list, "--out", dir + "/out.csv",
       "--removed", dir + "/gone.csv", "--column", "3", "--offline",
       "--remove-risky", "--quiet"},
      ctl);
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_EQ(run.err, "");
  // No suppression list locally; risky rows go too.
  EXPECT_THAT(run.out, HasSubstr("\"rows\":100000,\"kept\":75000,"
                                 "\"removed\":25000,\"duplicates\":5000,"));
  EXPECT_THAT(run.out, HasSubstr("\"removed_by_reason\":{\"duplicate\":5000,"
                                 "\"invalid\":5000,\"risky\":10000,"
                                 "\"undeliverable\":5000}"));
  EXPECT_EQ(Lines(dir + "/out.csv").size(), 75000u + 1);
  EXPECT_EQ(Lines(dir + "/gone.csv").size(), 25000u + 1);
}

TEST_F(CleanListTest, BadInputFailsWithoutLeavingOutput) {
  const std::string dir = Folder("clean_bad");
  CtlOptions ctl;
  ctl.server_env = false;
  ctl.api_key_env = "";
  ProcessResult missing =
      server().Deliverctl({"--local", "clean", dir + "/nope.csv", "--out",
                           dir + "/o.csv", "--offline"},
                          ctl);
  EXPECT_EQ(missing.exit_code, 1) << missing;
  EXPECT_THAT(missing.err, HasSubstr("nope.csv: cannot open"));

  {
    std::ofstream out(dir + "/list.csv");
    out << "name,email\nA,a@example.com\nB,\"b@example.com\"x\n";
  }
  ProcessResult column =
      server().Deliverctl({"--local", "clean", dir + "/list.csv", "--out",
                           dir + "/o.csv", "--offline", "--column", "mail"},
                          ctl);
  EXPECT_EQ(column.exit_code, 1) << column;
  EXPECT_THAT(column.err, HasSubstr("--column mail: no such column"));

  ProcessResult malformed =
      server().Deliverctl({"--local", "clean", dir + "/list.csv", "--out",
                           dir + "/o.csv", "--offline"},
                          ctl);
  EXPECT_EQ(malformed.exit_code, 1) << malformed;
  EXPECT_THAT(malformed.err, HasSubstr("line 3: text after a closing quote"));
  EXPECT_FALSE(Exists(dir + "/o.csv"));
  EXPECT_FALSE(Exists(dir + "/o.csv.tmp"));
  EXPECT_FALSE(Exists(dir + "/o.csv.removed.csv"));

  ProcessResult usage = server().Deliverctl(
      {"--local", "clean", dir + "/list.csv", "--offline"}, ctl);
  EXPECT_EQ(usage.exit_code, 2) << usage;
}

// Runs CleanList with `requests` and returns every response and the status.
grpc::Status CleanStream(Client& client,
                         const std::vector<v1::CleanListRequest>& requests,
                         std::vector<v1::CleanListResponse>* responses) {
  std::unique_ptr<grpc::ClientContext> context = client.Context();
  auto stream = client.hygiene().CleanList(context.get());
  for (const v1::CleanListRequest& r : requests) {
    if (!stream->Write(r)) break;
  }
  stream->WritesDone();
  v1::CleanListResponse response;
  while (stream->Read(&response)) responses->push_back(response);
  return stream->Finish();
}

v1::CleanListRequest Options(bool remove_risky) {
  v1::CleanListRequest r;
  r.mutable_options()->set_offline(true);
  r.mutable_options()->set_remove_risky(remove_risky);
  return r;
}

v1::CleanListRequest Row(int64_t number, const std::string& address) {
  v1::CleanListRequest r;
  r.mutable_row()->set_row_number(number);
  r.mutable_row()->set_address(address);
  return r;
}

TEST_F(CleanListTest, RpcStreamsResultsThenASummary) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  v1::AddSuppressionRequest add;
  add.set_address("gone@example.com");
  add.set_reason(v1::SUPPRESSION_REASON_UNSUBSCRIBED);
  ASSERT_OK(client.AddSuppression(add));

  std::vector<v1::CleanListResponse> responses;
  grpc::Status status = CleanStream(
      client,
      {Options(true), Row(10, "a@example.com"), Row(11, "A@Example.COM."),
       Row(12, "a@example.com"), Row(13, "nope"), Row(14, "Gone@EXAMPLE.com"),
       Row(15, "gone@example.com"), Row(16, "x@mailinator.com"),
       Row(17, "y@host.test")},
      &responses);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), 9u);
  // Gone@ and gone@ are different mailboxes to the cleaner (the local
  // part keeps its case), but the store matches suppressions without
  // regard to ASCII case, so both are suppressed.
  const char* const want[] = {
      "",           "",           "duplicate", "invalid",
      "suppressed", "suppressed", "risky",     "undeliverable"};
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(responses[i].has_row()) << i;
    EXPECT_EQ(responses[i].row().row_number(), 10 + i);
    EXPECT_EQ(responses[i].row().removal_reason(), want[i]) << i;
    EXPECT_EQ(responses[i].row().kept(), want[i][0] == '\0') << i;
  }
  EXPECT_EQ(responses[0].row().verdict().normalized(), "a@example.com");
  EXPECT_EQ(responses[0].row().verdict().verdict(), v1::VERDICT_UNKNOWN);
  EXPECT_TRUE(responses[5].row().verdict().suppressed());
  EXPECT_FALSE(responses[0].row().verdict().suppressed());
  ASSERT_TRUE(responses[8].has_summary());
  const v1::CleanListSummary& summary = responses[8].summary();
  EXPECT_EQ(summary.rows(), 8);
  EXPECT_EQ(summary.kept(), 2);
  EXPECT_EQ(summary.removed(), 6);
  EXPECT_EQ(summary.duplicates(), 1);
  EXPECT_EQ(summary.removed_by_reason().at("suppressed"), 2);

  // Options only: an empty list is a summary of zeros.
  responses.clear();
  status = CleanStream(client, {Options(false)}, &responses);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].summary().rows(), 0);
}

TEST_F(CleanListTest, RpcRefusesRowsBeforeOptions) {
  ASSERT_OK_AND_ASSIGN(Client client, NewTenant());
  std::vector<v1::CleanListResponse> responses;
  grpc::Status status = CleanStream(
      client, {Row(1, "a@example.com"), Options(false)}, &responses);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("options: the first message"));
  EXPECT_TRUE(responses.empty());

  responses.clear();
  status = CleanStream(
      client, {Options(false), Row(1, "a@example.com"), Options(false)},
      &responses);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("options: sent twice"));

  responses.clear();
  status = CleanStream(client, {}, &responses);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("options:"));

  Client nobody(server().NewChannel(), "");
  responses.clear();
  status = CleanStream(nobody, {Options(false)}, &responses);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace deliverd::e2e
