// SPF record parsing (RFC 7208 sections 4.5, 4.6, 5, 6, 12 ABNF).
//
// ParseSpfRecord() turns the text of one "v=spf1" TXT record into terms.
// Parsing is separate from evaluation (spf_evaluator.h) so CheckDomain can
// lint a record without any DNS. Hand-written: see spf_macro.h for why.
//
// Contract
//   * Pure, thread-safe, total: any input gives an SpfRecord or
//     absl::InvalidArgumentError whose message says which term (by its index
//     and text) is wrong and why; that is an SPF permerror.
//   * Checked here: version tag, term syntax, mechanism names, qualifiers,
//     CIDR lengths (ip4 0..32, ip6 0..128, dual "a/24//64"), ip4/ip6 address
//     syntax, macro-string syntax of every domain-spec and modifier value,
//     the domain-end rule (a literal domain needs a dot and a valid top
//     label), duplicate redirect/exp, non-ASCII characters.
//   * Unknown modifiers are kept (and ignored by evaluation, as 6 requires).
#ifndef DELIVERD_AUTH_CHECKS_SPF_SPF_RECORD_H_
#define DELIVERD_AUTH_CHECKS_SPF_SPF_RECORD_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace deliverd::auth_checks::spf {

enum class Qualifier { kPass, kFail, kSoftFail, kNeutral };  // + - ~ ?

enum class MechanismKind { kAll, kInclude, kA, kMx, kPtr, kIp4, kIp6, kExists };

std::string_view MechanismName(MechanismKind kind);

struct Mechanism {
  Qualifier qualifier = Qualifier::kPass;
  MechanismKind kind = MechanismKind::kAll;
  std::string domain_spec;  // Unexpanded; empty: the current domain.
  int cidr4 = 32;           // a, mx, ip4.
  int cidr6 = 128;          // a, mx, ip6.
  std::array<unsigned char, 16> address{};  // ip4 (first 4 bytes) / ip6.
  std::string text;         // The term as written.

  // include, a, mx, ptr, exists: counts toward the 10-lookup limit.
  bool QueriesDns() const {
    return kind != MechanismKind::kAll && kind != MechanismKind::kIp4 &&
           kind != MechanismKind::kIp6;
  }
};

struct Modifier {
  std::string name;  // Lower-cased.
  std::string value;
};

struct SpfRecord {
  std::vector<Mechanism> mechanisms;  // In record order.
  std::optional<std::string> redirect;
  std::optional<std::string> exp;
  std::vector<Modifier> unknown_modifiers;
};

// True when `text` is an SPF version 1 record: "v=spf1" (any case) followed
// by a space or the end (4.5).
bool IsSpfRecord(std::string_view text);

absl::StatusOr<SpfRecord> ParseSpfRecord(std::string_view text);

// Checks a domain-spec: macro-string syntax plus the domain-end rule.
absl::Status ValidateDomainSpec(std::string_view spec);

}  // namespace deliverd::auth_checks::spf

#endif  // DELIVERD_AUTH_CHECKS_SPF_SPF_RECORD_H_
