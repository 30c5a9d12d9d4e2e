#include "server/api/send_gate.h"

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "auth_checks/domain_check.h"
#include "hygiene/domain_name.h"

namespace deliverd::api {
namespace {

bool Gated(const std::string& code) {
  return code.rfind("spf.", 0) == 0 || code.rfind("dkim.", 0) == 0 ||
         code.rfind("dmarc.", 0) == 0;
}

std::string CacheKey(const std::string& domain,
                     const store::TenantSendPolicy& policy) {
  return absl::StrCat(domain, "|", absl::StrJoin(policy.dkim_selectors, ","));
}

}  // namespace

std::string FromDomain(const std::string& address) {
  size_t at = address.rfind('@');
  if (at == std::string::npos) return "";
  absl::StatusOr<std::string> domain =
      hygiene::NormalizeDomain(address.substr(at + 1));
  return domain.ok() ? *domain : "";
}

SendGate::SendGate(store::Store* store, auth_checks::dns::Resolver* resolver)
    : store_(store), resolver_(resolver) {}

SendGate::~SendGate() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return running_ == 0; });
}

absl::StatusOr<store::TenantSendPolicy> SendGate::Policy(int64_t tenant_id) {
  absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = policies_.find(tenant_id);
    if (it != policies_.end() && it->second.expires > now) {
      return it->second.policy;
    }
  }
  absl::StatusOr<store::TenantSendPolicy> policy =
      store_->GetSendPolicy(tenant_id);
  if (!policy.ok()) return policy.status();
  std::lock_guard<std::mutex> lock(mu_);
  policies_[tenant_id] = {*policy, now + kPolicyAge};
  return policy;
}

bool SendGate::Cached(const std::string& key,
                      std::vector<auth_checks::Finding>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = reports_.find(key);
  if (it == reports_.end()) return false;
  if (it->second.expires <= absl::Now()) {
    reports_.erase(it);
    return false;
  }
  *out = it->second.blocking;
  return true;
}

std::vector<auth_checks::Finding> SendGate::CheckNow(
    const std::string& domain, const store::TenantSendPolicy& policy) {
  auth_checks::DomainCheckOptions options;
  options.dkim_selectors = policy.dkim_selectors;
  auth_checks::DomainReport report =
      auth_checks::CheckDomain(*resolver_, domain, options);
  std::vector<auth_checks::Finding> blocking;
  for (const auth_checks::Finding& f : report.findings) {
    if (f.severity == auth_checks::Finding::kError && Gated(f.code)) {
      blocking.push_back(f);
    }
  }
  if (report.ttl > 0) {
    absl::Duration age =
        std::min(absl::Seconds(report.ttl), kMaxReportAge);
    std::lock_guard<std::mutex> lock(mu_);
    reports_[CacheKey(domain, policy)] = {blocking, absl::Now() + age};
  }
  return blocking;
}

std::vector<absl::Status> SendGate::Verdicts(
    const std::vector<std::string>& from_addresses,
    const std::map<std::string, std::vector<auth_checks::Finding>>& findings) {
  std::vector<absl::Status> out;
  for (const std::string& from : from_addresses) {
    std::string domain = FromDomain(from);
    auto it = findings.find(domain);
    if (it == findings.end() || it->second.empty()) {
      out.push_back(absl::OkStatus());
      continue;
    }
    std::vector<std::string> parts;
    for (const auth_checks::Finding& f : it->second) {
      parts.push_back(absl::StrCat(f.code, " (", f.message, ")"));
    }
    out.push_back(absl::FailedPreconditionError(absl::StrCat(
        "content.from: ", domain,
        " fails sender authentication and this tenant's policy requires "
        "it: ",
        absl::StrJoin(parts, "; "),
        " (deliverctl check-domain shows the fixes)")));
  }
  return out;
}

void SendGate::Check(int64_t tenant_id, std::vector<std::string> from_addresses,
                     std::function<void(std::vector<absl::Status>)> done) {
  absl::StatusOr<store::TenantSendPolicy> policy = Policy(tenant_id);
  if (!policy.ok()) {
    done(std::vector<absl::Status>(from_addresses.size(), policy.status()));
    return;
  }
  if (!policy->require_domain_auth) {
    done(std::vector<absl::Status>(from_addresses.size(), absl::OkStatus()));
    return;
  }
  if (resolver_ == nullptr) {
    done(std::vector<absl::Status>(
        from_addresses.size(),
        absl::UnavailableError("the tenant requires domain authentication "
                               "and this server has no DNS resolver")));
    return;
  }
  std::map<std::string, std::vector<auth_checks::Finding>> findings;
  std::set<std::string> missing;
  for (const std::string& from : from_addresses) {
    std::string domain = FromDomain(from);
    if (domain.empty() || findings.count(domain) > 0) continue;
    std::vector<auth_checks::Finding> cached;
    if (Cached(CacheKey(domain, *policy), &cached)) {
      findings[domain] = std::move(cached);
    } else {
      missing.insert(domain);
    }
  }
  if (missing.empty()) {
    done(Verdicts(from_addresses, findings));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ >= kMaxChecks) {
      done(std::vector<absl::Status>(
          from_addresses.size(),
          absl::ResourceExhaustedError(
              "too many sender-domain checks running; retry shortly")));
      return;
    }
    ++running_;
  }
  std::thread([this, policy = *policy, from_addresses = std::move(from_addresses),
               findings = std::move(findings), missing = std::move(missing),
               done = std::move(done)]() mutable {
    for (const std::string& domain : missing) {
      findings[domain] = CheckNow(domain, policy);
    }
    done(Verdicts(from_addresses, findings));
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    idle_.notify_all();
  }).detach();
}

}  // namespace deliverd::api
