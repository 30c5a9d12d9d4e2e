#include "hygiene/cleaner.h"

#include <string>
#include <vector>

#include "auth_checks/dns/fake_resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::hygiene {
namespace {

namespace dns = auth_checks::dns;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::vector<CleanInput> Inputs(const std::vector<std::string>& addresses,
                               int64_t first_row = 1) {
  std::vector<CleanInput> inputs;
  for (const std::string& a : addresses) inputs.push_back({first_row++, a});
  return inputs;
}

std::vector<RemovalReason> Reasons(const std::vector<CleanResult>& results) {
  std::vector<RemovalReason> reasons;
  for (const CleanResult& r : results) reasons.push_back(r.removal);
  return reasons;
}

using R = RemovalReason;

TEST(CleanerTest, DedupesOnTheNormalisedAddress) {
  ListCleaner cleaner({});
  absl::StatusOr<std::vector<CleanResult>> results = cleaner.CleanChunk(
      Inputs({"ann@example.com", "ann@EXAMPLE.com", " ann@example.com.",
              "Ann@example.com",
              "ann@b\xC3\xBC"
              "cher.de",
              "ann@xn--bcher-kva.de", "ANN@XN--BCHER-KVA.DE"}));
  ASSERT_TRUE(results.ok()) << results.status();
  // The local part keeps its case (RFC 5321), so Ann@ is another mailbox;
  // the domain's case, a trailing dot and the IDN form do not matter.
  EXPECT_THAT(Reasons(*results),
              ElementsAre(R::kNone, R::kDuplicate, R::kDuplicate, R::kNone,
                          R::kNone, R::kDuplicate, R::kNone));
  EXPECT_EQ((*results)[1].row_number, 2);
  EXPECT_FALSE((*results)[1].kept);
  EXPECT_TRUE((*results)[0].kept);
  EXPECT_EQ(cleaner.distinct(), 4u);
  EXPECT_EQ(cleaner.summary().duplicates, 3);
}

TEST(CleanerTest, VerdictsMapToRemovalReasons) {
  ListCleaner cleaner({});
  absl::StatusOr<std::vector<CleanResult>> results = cleaner.CleanChunk(
      Inputs({"not-an-address", "a@host.invalid", "noreply@example.com",
              "x@mailinator.com", "ok@example.com", "", "not-an-address"}));
  ASSERT_TRUE(results.ok());
  // Invalid rows are never duplicates: they have no normalised form.
  EXPECT_THAT(Reasons(*results),
              ElementsAre(R::kInvalid, R::kUndeliverable, R::kNone, R::kNone,
                          R::kNone, R::kInvalid, R::kInvalid));
  EXPECT_EQ((*results)[2].verdict.verdict, Verdict::kRisky);
  EXPECT_EQ((*results)[2].verdict.reason, "risky.role_account");
  EXPECT_EQ((*results)[3].verdict.reason, "risky.disposable");
  EXPECT_EQ((*results)[4].verdict.verdict, Verdict::kUnknown);
}

TEST(CleanerTest, RemoveRiskyRemovesRoleAndDisposable) {
  CleanOptions options;
  options.remove_risky = true;
  ListCleaner cleaner(options);
  absl::StatusOr<std::vector<CleanResult>> results = cleaner.CleanChunk(
      Inputs({"noreply@example.com", "x@mailinator.com", "ok@example.com"}));
  ASSERT_TRUE(results.ok());
  EXPECT_THAT(Reasons(*results), ElementsAre(R::kRisky, R::kRisky, R::kNone));
  EXPECT_THAT(cleaner.summary().removed_by_reason,
              UnorderedElementsAre(Pair("risky", 2)));
}

TEST(CleanerTest, SuppressionCallbackSeesValidFirstOccurrencesOnly) {
  std::vector<std::vector<std::string>> calls;
  CleanOptions options;
  options.suppressed = [&calls](const std::vector<std::string>& normalized)
      -> absl::StatusOr<std::vector<bool>> {
    calls.push_back(normalized);
    std::vector<bool> out;
    for (const std::string& a : normalized)
      out.push_back(a == "gone@example.com");
    return out;
  };
  ListCleaner cleaner(options);
  absl::StatusOr<std::vector<CleanResult>> results = cleaner.CleanChunk(
      Inputs({"Gone@example.com", "gone@EXAMPLE.com", "gone@example.com", "bad",
              "stay@example.com", "gone@example.com"}));
  ASSERT_TRUE(results.ok());
  EXPECT_THAT(Reasons(*results),
              ElementsAre(R::kNone, R::kSuppressed, R::kDuplicate, R::kInvalid,
                          R::kNone, R::kDuplicate));
  EXPECT_TRUE((*results)[1].verdict.valid);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_THAT(calls[0], ElementsAre("Gone@example.com", "gone@example.com",
                                    "stay@example.com"));
}

TEST(CleanerTest, SuppressionErrorFailsTheChunk) {
  CleanOptions options;
  options.suppressed =
      [](const std::vector<std::string>&) -> absl::StatusOr<std::vector<bool>> {
    return absl::UnavailableError("store down");
  };
  ListCleaner cleaner(options);
  absl::StatusOr<std::vector<CleanResult>> results =
      cleaner.CleanChunk(Inputs({"a@example.com"}));
  EXPECT_EQ(results.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(cleaner.summary().rows, 0);
}

TEST(CleanerTest, SuppressedBeatsUndeliverable) {
  CleanOptions options;
  options.suppressed = [](const std::vector<std::string>& normalized)
      -> absl::StatusOr<std::vector<bool>> {
    return std::vector<bool>(normalized.size(), true);
  };
  ListCleaner cleaner(options);
  absl::StatusOr<std::vector<CleanResult>> results =
      cleaner.CleanChunk(Inputs({"a@host.test", "b@example.com"}));
  ASSERT_TRUE(results.ok());
  EXPECT_THAT(Reasons(*results), ElementsAre(R::kSuppressed, R::kSuppressed));
}

TEST(CleanerTest, SummaryCounts) {
  ListCleaner cleaner({});
  ASSERT_TRUE(
      cleaner
          .CleanChunk(Inputs({"a@example.com", "A@EXAMPLE.COM", "a@example.COM",
                              "bad", "a@x.test", "info@example.com"}))
          .ok());
  const CleanSummary& s = cleaner.summary();
  EXPECT_EQ(s.rows, 6);
  EXPECT_EQ(s.kept, 3);  // a@, A@ (another local part), info@ (risky, kept)
  EXPECT_EQ(s.removed, 3);
  EXPECT_EQ(s.duplicates, 1);
  EXPECT_THAT(s.removed_by_reason,
              UnorderedElementsAre(Pair("duplicate", 1), Pair("invalid", 1),
                                   Pair("undeliverable", 1)));
  EXPECT_THAT(s.by_verdict,
              UnorderedElementsAre(Pair("unknown", 3), Pair("undeliverable", 2),
                                   Pair("risky", 1)));
}

TEST(CleanerTest, ChunkingGivesTheSameResultAsOneBatch) {
  std::vector<std::string> addresses;
  for (int i = 0; i < 5000; ++i) {
    switch (i % 7) {
      case 0:
        addresses.push_back("user" + std::to_string(i % 900) + "@example.com");
        break;
      case 1:
        addresses.push_back("user" + std::to_string(i % 900) + "@EXAMPLE.com");
        break;
      case 2:
        addresses.push_back("broken" + std::to_string(i));
        break;
      case 3:
        addresses.push_back("admin@d" + std::to_string(i % 50) +
                            ".example.org");
        break;
      case 4:
        addresses.push_back("p" + std::to_string(i) + "@mailinator.com");
        break;
      case 5:
        addresses.push_back("q" + std::to_string(i % 300) + "@site.test");
        break;
      default:
        addresses.push_back("z" + std::to_string(i) + "@example.net");
        break;
    }
  }
  CleanOptions options;
  options.remove_risky = true;
  ListCleaner whole(options);
  absl::StatusOr<std::vector<CleanResult>> all =
      whole.CleanChunk(Inputs(addresses));
  ASSERT_TRUE(all.ok());

  ListCleaner chunked(options);
  std::vector<CleanResult> pieces;
  for (size_t start = 0; start < addresses.size(); start += 333) {
    std::vector<std::string> part(
        addresses.begin() + start,
        addresses.begin() + std::min(addresses.size(), start + 333));
    absl::StatusOr<std::vector<CleanResult>> got =
        chunked.CleanChunk(Inputs(part, static_cast<int64_t>(start) + 1));
    ASSERT_TRUE(got.ok());
    pieces.insert(pieces.end(), got->begin(), got->end());
  }
  ASSERT_EQ(pieces.size(), all->size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(pieces[i].row_number, (*all)[i].row_number);
    EXPECT_EQ(pieces[i].removal, (*all)[i].removal) << addresses[i];
    EXPECT_EQ(pieces[i].verdict.reason, (*all)[i].verdict.reason);
  }
  EXPECT_EQ(chunked.summary().removed_by_reason,
            whole.summary().removed_by_reason);
  EXPECT_EQ(chunked.summary().by_verdict, whole.summary().by_verdict);
  EXPECT_EQ(chunked.summary().kept, whole.summary().kept);
}

TEST(CleanerTest, DnsLookupsOncePerDomainAcrossChunks) {
  dns::FakeResolver resolver;
  resolver.Add("mx.example.org", dns::RrType::kMx, "in.mx.example.org", 10);
  resolver.Add("nullmx.example.org", dns::RrType::kMx, "", 0);
  CleanOptions options;
  options.resolver = &resolver;
  ListCleaner cleaner(options);
  absl::StatusOr<std::vector<CleanResult>> first = cleaner.CleanChunk(
      Inputs({"a@mx.example.org", "b@mx.example.org", "c@nullmx.example.org",
              "d@gone.example.org"}));
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(
      Reasons(*first),
      ElementsAre(R::kNone, R::kNone, R::kUndeliverable, R::kUndeliverable));
  EXPECT_EQ((*first)[0].verdict.verdict, Verdict::kDeliverable);
  EXPECT_EQ((*first)[3].verdict.reason, "domain.nxdomain");
  const int queries = resolver.query_count();
  absl::StatusOr<std::vector<CleanResult>> second = cleaner.CleanChunk(Inputs(
      {"e@MX.example.org", "f@nullmx.example.org", "g@gone.example.org"}, 5));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(resolver.query_count(), queries);  // all three from the cache
  EXPECT_EQ((*second)[0].verdict.reason, "ok.mx");
  EXPECT_EQ((*second)[1].verdict.reason, "domain.null_mx");
  EXPECT_EQ((*second)[2].verdict.reason, "domain.nxdomain");
}

TEST(CleanerTest, RemovalReasonNames) {
  EXPECT_EQ(RemovalReasonName(R::kNone), "");
  EXPECT_EQ(RemovalReasonName(R::kDuplicate), "duplicate");
  EXPECT_EQ(RemovalReasonName(R::kInvalid), "invalid");
  EXPECT_EQ(RemovalReasonName(R::kSuppressed), "suppressed");
  EXPECT_EQ(RemovalReasonName(R::kUndeliverable), "undeliverable");
  EXPECT_EQ(RemovalReasonName(R::kRisky), "risky");
}

}  // namespace
}  // namespace deliverd::hygiene
