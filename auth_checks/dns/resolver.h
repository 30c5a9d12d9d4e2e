// The DNS resolver interface of auth_checks/: the only way SPF, DKIM, DMARC and
// MX checks reach DNS.
//
// Why an interface: the checks are pure functions of DNS answers, so unit
// tests feed them an in-memory zone (FakeResolver) while production uses
// c-ares (CaresResolver). Both return the same Answer type.
//
// Contract
//   * An Answer always says *how* a lookup ended, because SPF's result depends
//     on it: NOERROR-with-data (kOk), NOERROR-without-data (kNoData),
//     NXDOMAIN, SERVFAIL, REFUSED, a timeout, a malformed reply, or another
//     local/transport error. None of these is reported as an exception or a
//     Status: they are all ordinary outcomes of asking DNS.
//   * LookupAsync() may complete on any thread (including the caller's, before
//     it returns); `done` is called exactly once. Many lookups may be in
//     flight at once. Lookup() is the blocking convenience built on it.
//   * Implementations are safe to call from any number of threads at once.
//   * Names are absolute; a trailing dot is optional. Names are not
//     IDN-converted here: callers pass A-labels.
#ifndef DELIVERD_AUTH_CHECKS_DNS_RESOLVER_H_
#define DELIVERD_AUTH_CHECKS_DNS_RESOLVER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace deliverd::auth_checks::dns {

enum class RrType { kA, kAaaa, kTxt, kMx, kPtr, kCname };

// The wire type number (1, 28, 16, 15, 12, 5).
int RrTypeNumber(RrType type);
std::string_view RrTypeName(RrType type);

enum class Outcome {
  kOk,         // NOERROR with at least one record of the asked type.
  kNoData,     // NOERROR, no record of that type (the name exists).
  kNxDomain,   // NXDOMAIN: the name does not exist.
  kServFail,   // SERVFAIL from the server.
  kRefused,    // REFUSED from the server.
  kTimeout,    // No answer within the resolver's bounded time.
  kMalformed,  // A reply arrived but could not be parsed.
  kError,      // Anything else (bad name, out of memory, no server...).
};

std::string_view OutcomeName(Outcome outcome);

// Void (RFC 7208 section 4.6.4): the name has no data of that type.
inline bool IsVoid(Outcome o) {
  return o == Outcome::kNoData || o == Outcome::kNxDomain;
}
// A failure that may go away if asked again (SPF's temperror).
inline bool IsTransientFailure(Outcome o) {
  return o != Outcome::kOk && !IsVoid(o);
}

// One resource record of the asked type, in presentation-ish form:
//   A, AAAA: the address as text ("192.0.2.1", "2001:db8::1");
//   TXT: the record's character-strings concatenated (RFC 7208 3.3);
//   MX: the exchange name, with `preference` set;
//   PTR, CNAME: the target name.
// Names carry no trailing dot.
struct Record {
  std::string data;
  uint16_t preference = 0;  // MX only.
  uint32_t ttl = 0;
};

struct Answer {
  Outcome outcome = Outcome::kError;
  std::vector<Record> records;  // Non-empty only for kOk.
  // For kOk the smallest record TTL; for kNoData/kNxDomain the negative-cache
  // TTL from the SOA in the authority section (RFC 2308) when there is one,
  // else 0. 0 for the failures: they are not to be cached.
  uint32_t ttl = 0;
  std::string detail;  // Human text for failures (c-ares' message, ...).

  static Answer Of(Outcome outcome, std::string detail = {}) {
    Answer a;
    a.outcome = outcome;
    a.detail = std::move(detail);
    return a;
  }
};

struct Query {
  std::string name;
  RrType type;
};

class Resolver {
 public:
  using Callback = std::function<void(Answer)>;

  virtual ~Resolver() = default;

  // Starts a lookup; `done` runs exactly once, possibly before this returns,
  // possibly on another thread. `done` must not block for long: it may run
  // on the resolver's event-loop thread.
  virtual void LookupAsync(std::string_view name, RrType type,
                           Callback done) = 0;

  // Blocks until the answer is there (bounded by the implementation's
  // timeouts).
  Answer Lookup(std::string_view name, RrType type);

  // Runs every query, at most kMaxLookupsInFlight at a time, and waits for
  // all; answers in query order. The default goes through LookupAsync; an
  // implementation may answer in the calling thread instead (no hand-off
  // per query).
  virtual std::vector<Answer> LookupAll(const std::vector<Query>& queries);
};

// Queries one LookupAll keeps outstanding. Issuing thousands at once (a
// list's distinct domains) overflows UDP receive buffers on both ends; the
// lost answers come back as timeouts after the retry delay
// (bench/verify_bench --dns measured 87 % dns_error for 10,000 at once).
inline constexpr size_t kMaxLookupsInFlight = 64;

}  // namespace deliverd::auth_checks::dns

#endif  // DELIVERD_AUTH_CHECKS_DNS_RESOLVER_H_
