#include "auth_checks/spf/spf_evaluator.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <ctime>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "auth_checks/spf/spf_macro.h"
#include "auth_checks/spf/spf_record.h"

namespace deliverd::auth_checks::spf {
namespace {

using dns::Answer;
using dns::Outcome;
using dns::RrType;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
  }
  return out;
}

std::string StripDot(std::string s) {
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// 4.3: a multi-label name, no empty label, none longer than 63 octets.
bool IsValidDomain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.size() > 253) return false;
  int labels = 0;
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    size_t len = (dot == std::string_view::npos ? domain.size() : dot) - start;
    if (len == 0 || len > 63) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

SpfResult FromQualifier(Qualifier q) {
  switch (q) {
    case Qualifier::kPass: return SpfResult::kPass;
    case Qualifier::kFail: return SpfResult::kFail;
    case Qualifier::kSoftFail: return SpfResult::kSoftFail;
    case Qualifier::kNeutral: return SpfResult::kNeutral;
  }
  return SpfResult::kNeutral;
}

// Does `address` (text, of the client's family) fall in client/cidr?
bool InNetwork(const std::array<unsigned char, 16>& client, bool ipv6,
               const unsigned char* network, int cidr) {
  int bytes = cidr / 8, bits = cidr % 8;
  if (std::memcmp(client.data(), network, bytes) != 0) return false;
  if (bits == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - bits));
  return (client[bytes] & mask) == (network[bytes] & mask);
}

enum class Match { kYes, kNo, kTempError, kPermError };

struct Evaluation {
  Evaluation(const SpfRequest& request, dns::Resolver& resolver,
             const SpfLimits& limits)
      : request(request), resolver(resolver), limits(limits) {}

  const SpfRequest& request;
  dns::Resolver& resolver;
  const SpfLimits& limits;
  bool ipv6 = false;
  std::array<unsigned char, 16> ip{};
  std::string ip_text;  // Canonical (IPv4-mapped IPv6 shown as IPv4).
  std::string local_part, sender_domain;
  int lookups = 0;
  int voids = 0;
  std::string problem;  // Set with the first temperror/permerror cause.

  Match Fail(Match kind, std::string why) {
    if (problem.empty()) problem = std::move(why);
    return kind;
  }

  RrType AddressType() const { return ipv6 ? RrType::kAaaa : RrType::kA; }

  bool AnswerHasClient(const Answer& answer, int cidr4, int cidr6) const {
    for (const dns::Record& r : answer.records) {
      unsigned char bytes[16];
      if (inet_pton(ipv6 ? AF_INET6 : AF_INET, r.data.c_str(), bytes) != 1) {
        continue;
      }
      if (InNetwork(ip, ipv6, bytes, ipv6 ? cidr6 : cidr4)) return true;
    }
    return false;
  }

  // Returns false (and sets problem) when the void limit is exceeded.
  bool CountVoid(const Answer& answer) {
    if (!dns::IsVoid(answer.outcome)) return true;
    ++voids;
    if (voids > limits.max_void_lookups) {
      Fail(Match::kPermError,
           absl::StrCat("more than ", limits.max_void_lookups,
                        " void DNS lookups"));
      return false;
    }
    return true;
  }

  std::string ReverseName() const {
    if (!ipv6) {
      return absl::StrCat(ip[3], ".", ip[2], ".", ip[1], ".", ip[0],
                          ".in-addr.arpa");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 15; i >= 0; --i) {
      out += kHex[ip[i] & 15];
      out += '.';
      out += kHex[ip[i] >> 4];
      out += '.';
    }
    return out + "ip6.arpa";
  }

  // The client's PTR names whose forward lookup gives the client address
  // back (5.5). `ptr_outcome` receives the PTR lookup's outcome.
  std::vector<std::string> ValidatedNames(Outcome* ptr_outcome) {
    Answer ptr = resolver.Lookup(ReverseName(), RrType::kPtr);
    *ptr_outcome = ptr.outcome;
    std::vector<dns::Query> queries;
    for (const dns::Record& r : ptr.records) {
      if (static_cast<int>(queries.size()) >= limits.max_ptr_names) break;
      queries.push_back(dns::Query{r.data, AddressType()});
    }
    std::vector<Answer> answers = resolver.LookupAll(queries);
    std::vector<std::string> names;
    for (size_t i = 0; i < answers.size(); ++i) {
      if (answers[i].outcome == Outcome::kOk &&
          AnswerHasClient(answers[i], 32, 128)) {
        names.push_back(StripDot(queries[i].name));
      }
    }
    return names;
  }

  static bool IsSubdomainOrSame(const std::string& name,
                                const std::string& target) {
    std::string n = Lower(name), t = Lower(target);
    return n == t || (n.size() > t.size() &&
                      n.compare(n.size() - t.size(), t.size(), t) == 0 &&
                      n[n.size() - t.size() - 1] == '.');
  }

  std::string ValidatedDomainFor(const std::string& domain) {
    Outcome outcome;
    std::vector<std::string> names = ValidatedNames(&outcome);
    for (const auto& n : names) {
      if (Lower(n) == Lower(domain)) return n;
    }
    for (const auto& n : names) {
      if (IsSubdomainOrSame(n, domain)) return n;
    }
    return names.empty() ? "unknown" : names.front();
  }

  MacroContext Context(const std::string& domain) {
    MacroContext c;
    c.sender = request.sender;
    c.local_part = local_part;
    c.sender_domain = sender_domain;
    c.domain = domain;
    c.ip = ip_text;
    c.ipv6 = ipv6;
    c.helo = request.helo;
    c.receiver = request.receiver;
    c.timestamp = request.timestamp != 0 ? request.timestamp
                                         : static_cast<int64_t>(std::time(nullptr));
    c.validated_domain = [this, domain] { return ValidatedDomainFor(domain); };
    return c;
  }

  // Expands a domain-spec (empty: the current domain).
  std::optional<std::string> TargetName(const std::string& spec,
                                        const std::string& domain) {
    if (spec.empty()) return domain;
    absl::StatusOr<std::string> expanded =
        ExpandMacroString(spec, Context(domain), false);
    if (!expanded.ok()) {
      Fail(Match::kPermError, std::string(expanded.status().message()));
      return std::nullopt;
    }
    return TruncateDomain(*std::move(expanded));
  }

  std::string Explanation(const std::string& spec, const std::string& domain) {
    std::optional<std::string> target = TargetName(spec, domain);
    if (!target || !IsValidDomain(*target)) return "";
    Answer txt = resolver.Lookup(*target, RrType::kTxt);
    // 6.2: no explanation unless exactly one TXT record.
    if (txt.outcome != Outcome::kOk || txt.records.size() != 1) return "";
    for (unsigned char c : txt.records[0].data) {
      if (c >= 0x80) return "";
    }
    absl::StatusOr<std::string> text =
        ExpandMacroString(txt.records[0].data, Context(domain), true);
    return text.ok() ? *text : "";
  }

  Match Evaluate(const Mechanism& m, const std::string& domain,
                 SpfTraceNode* node) {
    if (m.QueriesDns() && ++lookups > limits.max_dns_terms) {
      return Fail(Match::kPermError,
                  absl::StrCat("more than ", limits.max_dns_terms,
                               " DNS-querying terms"));
    }
    switch (m.kind) {
      case MechanismKind::kAll:
        return Match::kYes;
      case MechanismKind::kIp4:
        if (ipv6) return Match::kNo;
        return InNetwork(ip, false, m.address.data(), m.cidr4) ? Match::kYes
                                                               : Match::kNo;
      case MechanismKind::kIp6:
        if (!ipv6) return Match::kNo;
        return InNetwork(ip, true, m.address.data(), m.cidr6) ? Match::kYes
                                                              : Match::kNo;
      default:
        break;
    }
    std::optional<std::string> target = TargetName(m.domain_spec, domain);
    if (!target) return Match::kPermError;
    if (!IsValidDomain(*target)) {
      // A name that cannot exist: the query would be void; not a match.
      return Match::kNo;
    }
    switch (m.kind) {
      case MechanismKind::kInclude: {
        SpfTraceNode child;
        child.via = m.text;
        // An included record's exp is never used (6.2): none is computed.
        SpfResult r = Check(*target, &child, /*explanation=*/nullptr);
        node->children.push_back(std::move(child));
        switch (r) {
          case SpfResult::kPass: return Match::kYes;
          case SpfResult::kFail:
          case SpfResult::kSoftFail:
          case SpfResult::kNeutral: return Match::kNo;
          case SpfResult::kTempError: return Match::kTempError;
          case SpfResult::kNone:
            return Fail(Match::kPermError,
                        absl::StrCat(m.text, ": ", *target,
                                     " has no SPF record"));
          case SpfResult::kPermError: return Match::kPermError;
        }
        return Match::kPermError;
      }
      case MechanismKind::kA:
      case MechanismKind::kExists: {
        bool exists = m.kind == MechanismKind::kExists;
        Answer a = resolver.Lookup(*target, exists ? RrType::kA : AddressType());
        if (dns::IsTransientFailure(a.outcome)) {
          return Fail(Match::kTempError,
                      absl::StrCat(m.text, ": ", *target, " ",
                                   std::string(dns::OutcomeName(a.outcome))));
        }
        if (!CountVoid(a)) return Match::kPermError;
        if (a.outcome != Outcome::kOk) return Match::kNo;
        if (exists) return Match::kYes;
        return AnswerHasClient(a, m.cidr4, m.cidr6) ? Match::kYes : Match::kNo;
      }
      case MechanismKind::kMx: {
        Answer mx = resolver.Lookup(*target, RrType::kMx);
        if (dns::IsTransientFailure(mx.outcome)) {
          return Fail(Match::kTempError,
                      absl::StrCat(m.text, ": MX of ", *target, " ",
                                   std::string(dns::OutcomeName(mx.outcome))));
        }
        if (!CountVoid(mx)) return Match::kPermError;
        if (static_cast<int>(mx.records.size()) > limits.max_mx_names) {
          return Fail(Match::kPermError,
                      absl::StrCat(m.text, ": more than ", limits.max_mx_names,
                                   " MX names"));
        }
        std::vector<dns::Query> queries;
        for (const dns::Record& r : mx.records) {
          if (r.data.empty() || r.data == ".") continue;  // Null MX.
          queries.push_back(dns::Query{r.data, AddressType()});
        }
        // Independent lookups: issued together.
        std::vector<Answer> answers = resolver.LookupAll(queries);
        bool transient = false;
        for (size_t i = 0; i < answers.size(); ++i) {
          if (answers[i].outcome == Outcome::kOk &&
              AnswerHasClient(answers[i], m.cidr4, m.cidr6)) {
            return Match::kYes;
          }
          if (dns::IsTransientFailure(answers[i].outcome)) transient = true;
        }
        if (transient) {
          return Fail(Match::kTempError,
                      absl::StrCat(m.text, ": an MX host's address lookup failed"));
        }
        return Match::kNo;
      }
      case MechanismKind::kPtr: {
        Outcome outcome;
        std::vector<std::string> names = ValidatedNames(&outcome);
        Answer probe = Answer::Of(outcome);
        if (!CountVoid(probe)) return Match::kPermError;
        // 5.5: a DNS error during the PTR lookup is simply no match.
        for (const std::string& name : names) {
          if (IsSubdomainOrSame(name, *target)) return Match::kYes;
        }
        return Match::kNo;
      }
      default:
        return Match::kNo;
    }
  }

  // check_host(<ip>, domain, <sender>) (4.1). `node` receives the trace;
  // `explanation` (null inside an include) the exp text of a fail.
  SpfResult Check(const std::string& domain_in, SpfTraceNode* node,
                  std::string* explanation) {
    std::string domain = StripDot(domain_in);
    node->domain = domain;
    auto finish = [&](SpfResult r, std::string why = {}) {
      node->result = r;
      if (!why.empty()) {
        node->problem = why;
        if (problem.empty() &&
            (r == SpfResult::kTempError || r == SpfResult::kPermError)) {
          problem = why;
        }
      } else if (r == SpfResult::kTempError || r == SpfResult::kPermError) {
        node->problem = problem;
      }
      return r;
    };
    if (!IsValidDomain(domain)) {
      return finish(SpfResult::kNone, "not a valid multi-label domain name");
    }
    Answer txt = resolver.Lookup(domain, RrType::kTxt);
    if (dns::IsTransientFailure(txt.outcome)) {
      return finish(SpfResult::kTempError,
                    absl::StrCat("TXT lookup of ", domain, ": ",
                                 std::string(dns::OutcomeName(txt.outcome))));
    }
    std::vector<std::string> records;
    for (const dns::Record& r : txt.records) {
      if (IsSpfRecord(r.data)) records.push_back(r.data);
    }
    if (records.empty()) {
      return finish(SpfResult::kNone, absl::StrCat(domain, ": no SPF record"));
    }
    if (records.size() > 1) {
      return finish(SpfResult::kPermError,
                    absl::StrCat(domain, ": ", records.size(), " SPF records"));
    }
    node->record = records[0];
    absl::StatusOr<SpfRecord> record = ParseSpfRecord(records[0]);
    if (!record.ok()) {
      return finish(SpfResult::kPermError,
                    absl::StrCat(domain, ": ", record.status().message()));
    }
    for (const Mechanism& m : record->mechanisms) {
      switch (Evaluate(m, domain, node)) {
        case Match::kNo:
          continue;
        case Match::kTempError:
          node->matched_term = m.text;
          return finish(SpfResult::kTempError);
        case Match::kPermError:
          node->matched_term = m.text;
          return finish(SpfResult::kPermError);
        case Match::kYes: {
          node->matched_term = m.text;
          SpfResult r = FromQualifier(m.qualifier);
          if (r == SpfResult::kFail && record->exp.has_value() &&
              explanation != nullptr) {
            *explanation = Explanation(*record->exp, domain);
          }
          return finish(r);
        }
      }
    }
    if (record->redirect.has_value()) {
      node->matched_term = absl::StrCat("redirect=", *record->redirect);
      if (++lookups > limits.max_dns_terms) {
        return finish(SpfResult::kPermError,
                      absl::StrCat("more than ", limits.max_dns_terms,
                                   " DNS-querying terms"));
      }
      std::optional<std::string> target = TargetName(*record->redirect, domain);
      if (!target) return finish(SpfResult::kPermError);
      SpfTraceNode child;
      child.via = node->matched_term;
      SpfResult r = Check(*target, &child, explanation);
      node->children.push_back(std::move(child));
      if (r == SpfResult::kNone) {
        return finish(SpfResult::kPermError,
                      absl::StrCat("redirect to ", *target,
                                   ", which has no SPF record"));
      }
      return finish(r);
    }
    return finish(SpfResult::kNeutral);
  }
};

}  // namespace

std::string_view SpfResultName(SpfResult result) {
  switch (result) {
    case SpfResult::kNone: return "none";
    case SpfResult::kNeutral: return "neutral";
    case SpfResult::kPass: return "pass";
    case SpfResult::kFail: return "fail";
    case SpfResult::kSoftFail: return "softfail";
    case SpfResult::kTempError: return "temperror";
    case SpfResult::kPermError: return "permerror";
  }
  return "?";
}

namespace {
void FormatNode(const SpfTraceNode& node, int depth, std::string* out) {
  std::string indent(depth * 2, ' ');
  absl::StrAppend(out, indent, node.via.empty() ? "" : node.via + " -> ",
                  node.domain, ": ", std::string(SpfResultName(node.result)));
  if (!node.matched_term.empty()) {
    absl::StrAppend(out, " (", node.matched_term, ")");
  }
  if (!node.problem.empty()) absl::StrAppend(out, " [", node.problem, "]");
  out->push_back('\n');
  if (!node.record.empty()) {
    absl::StrAppend(out, indent, "  \"", node.record, "\"\n");
  }
  for (const SpfTraceNode& child : node.children) {
    FormatNode(child, depth + 1, out);
  }
}
}  // namespace

std::string FormatTrace(const SpfTraceNode& node) {
  std::string out;
  FormatNode(node, 0, &out);
  return out;
}

SpfCheckResult SpfEvaluator::CheckHost(const SpfRequest& request) const {
  SpfCheckResult result;
  Evaluation e(request, resolver_, limits_);
  std::string ip(request.ip);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
    std::memcpy(e.ip.data(), bytes, 4);
  } else if (inet_pton(AF_INET6, ip.c_str(), bytes) == 1) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0,
                                                  0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, kMapped, 12) == 0) {
      // An IPv4-mapped IPv6 client is an IPv4 client (5: "ip4"/"a" apply).
      std::memcpy(e.ip.data(), bytes + 12, 4);
    } else {
      std::memcpy(e.ip.data(), bytes, 16);
      e.ipv6 = true;
    }
  } else {
    result.result = SpfResult::kPermError;
    result.problem = "the client IP is not an IPv4 or IPv6 address";
    return result;
  }
  char text[INET6_ADDRSTRLEN];
  inet_ntop(e.ipv6 ? AF_INET6 : AF_INET, e.ip.data(), text, sizeof(text));
  e.ip_text = text;
  size_t at = request.sender.rfind('@');
  if (at == std::string::npos) {
    e.sender_domain = request.sender;
  } else {
    e.local_part = request.sender.substr(0, at);
    e.sender_domain = request.sender.substr(at + 1);
  }
  // 4.3: an empty local part is "postmaster".
  if (e.local_part.empty()) e.local_part = "postmaster";
  result.result = e.Check(request.domain, &result.trace, &result.explanation);
  if (result.result != SpfResult::kFail) result.explanation.clear();
  result.matched_term = result.trace.matched_term;
  result.problem = result.result == SpfResult::kTempError ||
                           result.result == SpfResult::kPermError ||
                           result.result == SpfResult::kNone
                       ? (e.problem.empty() ? result.trace.problem : e.problem)
                       : "";
  result.dns_lookups = e.lookups;
  result.void_lookups = e.voids;
  return result;
}

SpfCheckResult SpfEvaluator::CheckMailFrom(std::string_view ip,
                                           std::string_view mail_from,
                                           std::string_view helo) const {
  SpfRequest request;
  request.ip = std::string(ip);
  request.helo = std::string(helo);
  if (mail_from.empty()) {
    request.sender = absl::StrCat("postmaster@", std::string(helo));
    request.domain = std::string(helo);
  } else {
    request.sender = std::string(mail_from);
    size_t at = mail_from.rfind('@');
    request.domain = std::string(
        at == std::string_view::npos ? mail_from : mail_from.substr(at + 1));
  }
  return CheckHost(request);
}

}  // namespace deliverd::auth_checks::spf
