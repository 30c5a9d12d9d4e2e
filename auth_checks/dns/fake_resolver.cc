#include "auth_checks/dns/fake_resolver.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace deliverd::auth_checks::dns {

std::string FakeResolver::Key(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
}

void FakeResolver::Add(std::string_view name, RrType type, std::string data,
                       uint16_t preference, uint32_t ttl) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = Key(name);
  records_[{key, type}].push_back(Record{std::move(data), preference, ttl});
  ++names_[key];
}

void FakeResolver::SetFailure(std::string_view name, RrType type,
                              Outcome outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  type_failures_[{Key(name), type}] = outcome;
}

void FakeResolver::SetFailure(std::string_view name, Outcome outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  name_failures_[Key(name)] = outcome;
}

Answer FakeResolver::Answer_(const std::string& key, RrType type) const {
  if (auto it = type_failures_.find({key, type}); it != type_failures_.end()) {
    return Answer::Of(it->second, "injected");
  }
  if (auto it = name_failures_.find(key); it != name_failures_.end()) {
    return Answer::Of(it->second, "injected");
  }
  if (auto it = records_.find({key, type}); it != records_.end()) {
    Answer a;
    a.outcome = Outcome::kOk;
    a.records = it->second;
    a.ttl = UINT32_MAX;
    for (const Record& r : a.records) a.ttl = std::min(a.ttl, r.ttl);
    return a;
  }
  if (names_.count(key)) {
    Answer a = Answer::Of(Outcome::kNoData);
    a.ttl = 60;
    return a;
  }
  // Empty non-terminal: some stored name ends with ".key".
  std::string suffix = absl::StrCat(".", key);
  for (const auto& [name, count] : names_) {
    if (absl::EndsWith(name, suffix)) return Answer::Of(Outcome::kNoData);
  }
  Answer a = Answer::Of(Outcome::kNxDomain);
  a.ttl = 60;
  return a;
}

void FakeResolver::LookupAsync(std::string_view name, RrType type,
                               Callback done) {
  Answer answer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string key = Key(name);
    log_.push_back(std::string(RrTypeName(type)) + " " + key);
    answer = Answer_(key, type);
  }
  done(std::move(answer));
}

int FakeResolver::query_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(log_.size());
}

std::vector<std::string> FakeResolver::query_log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

}  // namespace deliverd::auth_checks::dns
