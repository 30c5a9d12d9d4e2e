// One finding of a sender-authentication check (SPF, DKIM, DMARC, MX): what a
// person reads in a domain report and what a CI pre-send check gates on.
//
// Contract
//   * `code` is stable and machine-readable, "<check>.<what>" (for example
//     "dkim.revoked"); tools match on it, so a code is never renamed, only
//     added. `message` and `fix` are human text and may change wording.
//   * `severity`: kError means the mechanism does not work as published (mail
//     will fail the check, or the record is ignored); kWarning means it works
//     but is weak or temporary (short key, testing flag, a DNS failure that
//     may go away); kInfo is a note that needs no action.
//   * `fix` says what to change; empty when there is nothing to do.
//
// Plain data: no absl, no protos. server/ and client/ translate it.
#ifndef DELIVERD_AUTH_CHECKS_FINDING_H_
#define DELIVERD_AUTH_CHECKS_FINDING_H_

#include <string>
#include <string_view>

namespace deliverd::auth_checks {

struct Finding {
  enum Severity { kInfo, kWarning, kError };

  Severity severity = kInfo;
  std::string code;
  std::string message;
  std::string fix;
};

inline Finding MakeFinding(Finding::Severity severity, std::string code,
                           std::string message, std::string fix) {
  Finding f;
  f.severity = severity;
  f.code = std::move(code);
  f.message = std::move(message);
  f.fix = std::move(fix);
  return f;
}

inline std::string_view SeverityName(Finding::Severity severity) {
  switch (severity) {
    case Finding::kInfo:
      return "info";
    case Finding::kWarning:
      return "warning";
    case Finding::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace deliverd::auth_checks

#endif  // DELIVERD_AUTH_CHECKS_FINDING_H_
