// DMARC policy records (RFC 7489 section 6.3, with the harmless additions of
// DMARCbis): parsing, linting, and picking the record out of a TXT answer.
//
// Purpose
//   CheckDomain reports what a domain publishes at _dmarc.<domain>: the
//   policy a receiver will apply, where reports go, the alignment modes, and
//   what is wrong or weak about it, as Findings a person can act on.
//
// Contract
//   * ParseDmarcRecord() is pure, thread-safe and total: any text gives a
//     DmarcRecord. Problems are Findings (see "Codes" below), never a Status.
//     `valid` says whether a receiver would apply the record at all.
//   * The record must start with the version tag "v=DMARC1" (whitespace
//     around '=' allowed). Tag names and keyword values (none, quarantine,
//     reject, r, s, y, n, fo options, mailto) are case-insensitive; the
//     literal "DMARC1" is case-sensitive, as the RFC's grammar writes it.
//   * Tags are ';'-separated; whitespace (SP, HTAB, CR, LF) around tags, '=',
//     ';', ',' and ':' is ignored; empty tag-specs (";;", trailing ';') are
//     tolerated.
//   * A tag given twice makes the record invalid (receivers disagree about
//     which one wins, and the tag-list grammar DMARC borrows from DKIM forbids
//     it). Unknown tags are ignored with an info finding.
//   * An invalid value is reported and the tag's default is used instead
//     (RFC 7489 6.6.3). A missing or invalid p, or an invalid sp, makes the
//     record act as p=none when at least one rua URI is valid, else the
//     record is not applied (`valid` false).
//   * The policy domain (`domain`) is only used for the external-report lint;
//     it is compared label-wise without a public suffix list: a report
//     address at the domain or below it is internal, anything else is
//     reported (info) as possibly needing the RFC 7489 7.1 authorisation.
//   * No DNS here. SelectDmarcRecord() interprets the answer of the TXT lookup
//     of _dmarc.<domain>; it does not walk to the organisational domain (the
//     caller does that, and drops dmarc.no_record when it finds a record
//     there).
//
// Codes (stable; severity in brackets)
//   dmarc.no_record [error]       no v=DMARC1 record at the name.
//   dmarc.multiple_records [error] several v=DMARC1 records: as if none.
//   dmarc.dns_failure [warning]   the TXT lookup failed transiently.
//   dmarc.syntax [error]          malformed tag-list or version tag.
//   dmarc.duplicate_tag [error]   a tag appears twice; record not applied.
//   dmarc.unknown_tag [info]      a tag DMARC does not define; ignored.
//   dmarc.missing_policy [error]  no p tag.
//   dmarc.invalid_<tag> [error]   a bad value of p, sp, np, pct, rua, ruf,
//                                 adkim, aspf, fo, rf, ri, t, psd.
//   dmarc.unsupported_uri_scheme [warning] a report URI that is not mailto:.
//   dmarc.policy_none [warning]   p=none: monitoring only.
//   dmarc.no_rua [warning]        no (valid) aggregate report address.
//   dmarc.weak_subdomain_policy [warning] sp weaker than p.
//   dmarc.pct_partial [warning, info when p=none] pct below 100.
//   dmarc.external_rua [info]     rua/ruf address outside the policy domain.
//   dmarc.testing [info]          t=y (DMARCbis testing mode).
//
// Why hand-written: the grammar is a dozen tags with small value sets; a
// parser library would add a dependency to auth_checks/ (plain absl + std +
// c-ares) without saving code, and lints need positions and per-tag errors
// that a generic tag-value splitter does not give.
#ifndef DELIVERD_AUTH_CHECKS_DMARC_DMARC_RECORD_H_
#define DELIVERD_AUTH_CHECKS_DMARC_DMARC_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth_checks/dns/resolver.h"
#include "auth_checks/finding.h"

namespace deliverd::auth_checks::dmarc {

enum class Policy { kNone, kQuarantine, kReject };  // Ordered by strength.
enum class Alignment { kRelaxed, kStrict };

std::string_view PolicyName(Policy policy);      // "none", ...
std::string_view AlignmentName(Alignment mode);  // "r", "s"

// One rua/ruf entry.
struct ReportUri {
  std::string uri;     // As written, without the "!size" suffix.
  std::string scheme;  // Lower-cased ("mailto").
  std::string domain;  // mailto: the address's domain, lower-cased.
  std::optional<uint64_t> max_size_bytes;  // From "!10m" etc.
};

// Failure-report options (fo).
struct FailureOptions {
  bool all_fail = true;   // "0" (the default).
  bool any_fail = false;  // "1".
  bool dkim = false;      // "d".
  bool spf = false;       // "s".
};

struct DmarcRecord {
  // False when a receiver would not apply the record (bad version tag,
  // duplicate tag, no usable policy and no valid rua).
  bool valid = false;
  // The policy a receiver applies: p, or none by the rua fallback.
  Policy policy = Policy::kNone;
  bool policy_present = false;             // A valid p tag was there.
  std::optional<Policy> subdomain_policy;  // sp as written.
  std::optional<Policy> nonexistent_subdomain_policy;  // np (DMARCbis).
  int pct = 100;
  std::vector<ReportUri> rua;  // Valid entries only.
  std::vector<ReportUri> ruf;
  Alignment adkim = Alignment::kRelaxed;
  Alignment aspf = Alignment::kRelaxed;
  FailureOptions fo;
  std::vector<std::string> rf = {"afrf"};  // Lower-cased.
  uint32_t ri = 86400;
  bool testing = false;           // t=y.
  std::optional<char> psd;        // DMARCbis psd: 'y', 'n' or 'u'.
  std::vector<Finding> findings;  // Parse problems, then lints.

  // sp if given, else p.
  Policy EffectiveSubdomainPolicy() const {
    return subdomain_policy.value_or(policy);
  }
  // np if given, else the subdomain policy.
  Policy EffectiveNonexistentPolicy() const {
    return nonexistent_subdomain_policy.value_or(EffectiveSubdomainPolicy());
  }
};

// True when `text` starts with the DMARC version tag (leading whitespace
// allowed): "v" = "DMARC1" followed by ';' or the end.
bool IsDmarcRecord(std::string_view text);

// Parses and lints one record found at _dmarc.<domain>. `domain` (no
// "_dmarc." prefix) may be empty: then dmarc.external_rua is not checked.
DmarcRecord ParseDmarcRecord(std::string_view text,
                             std::string_view domain = {});

// What the TXT lookup of _dmarc.<domain> yielded.
struct DmarcLookup {
  enum Status { kFound, kNoRecord, kMultipleRecords, kDnsFailure };
  Status status = kNoRecord;
  std::optional<DmarcRecord> record;  // Only for kFound (even if !valid).
  std::string record_text;            // The record as published (kFound).
  std::vector<Finding> findings;      // Selection findings, then the record's.
  uint32_t ttl = 0;                   // The answer's TTL (for caching).
};

// Keeps the TXT records that are DMARC records; one -> parsed, none or a
// void answer -> no_record, several -> multiple_records (no record applies),
// a transient failure (SERVFAIL, timeout, ...) -> dns_failure.
DmarcLookup SelectDmarcRecord(const dns::Answer& answer,
                              std::string_view domain = {});

}  // namespace deliverd::auth_checks::dmarc

#endif  // DELIVERD_AUTH_CHECKS_DMARC_DMARC_RECORD_H_
