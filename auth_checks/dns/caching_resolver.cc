#include "auth_checks/dns/caching_resolver.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace deliverd::auth_checks::dns {
namespace {

// DNS names compare without case and without a trailing dot.
std::string CacheName(std::string_view name) {
  std::string key(name);
  if (!key.empty() && key.back() == '.') key.pop_back();
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return key;
}

}  // namespace

CachingResolver::CachingResolver(Resolver* inner, uint32_t max_ttl_seconds,
                                 size_t max_entries, Clock clock)
    : inner_(inner),
      max_ttl_(max_ttl_seconds),
      max_entries_(max_entries),
      clock_(std::move(clock)) {}

size_t CachingResolver::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

std::optional<Answer> CachingResolver::Cached(const Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  auto now = clock_();
  if (it->second.expires <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  Answer cached = it->second.answer;
  // The caller sees how long the answer has left, as a cache would.
  auto left = std::chrono::duration_cast<std::chrono::seconds>(
      it->second.expires - now);
  cached.ttl = static_cast<uint32_t>(std::max<int64_t>(0, left.count()));
  return cached;
}

void CachingResolver::LookupAsync(std::string_view name, RrType type,
                                  Callback done) {
  Key key{CacheName(name), type};
  std::optional<Answer> cached = Cached(key);
  // Callbacks run outside the lock: one may start another lookup.
  if (cached.has_value()) {
    done(std::move(*cached));
    return;
  }
  inner_->LookupAsync(name, type,
                      [this, key, done = std::move(done)](Answer answer) {
                        Store(key, answer);
                        done(std::move(answer));
                      });
}

std::vector<Answer> CachingResolver::LookupAll(
    const std::vector<Query>& queries) {
  std::vector<Answer> answers(queries.size());
  std::vector<Query> misses;
  std::vector<size_t> miss_index;
  for (size_t i = 0; i < queries.size(); ++i) {
    std::optional<Answer> cached =
        Cached(Key{CacheName(queries[i].name), queries[i].type});
    if (cached.has_value()) {
      answers[i] = std::move(*cached);
    } else {
      misses.push_back(queries[i]);
      miss_index.push_back(i);
    }
  }
  if (misses.empty()) return answers;
  std::vector<Answer> fetched = inner_->LookupAll(misses);
  for (size_t k = 0; k < misses.size(); ++k) {
    Store(Key{CacheName(misses[k].name), misses[k].type}, fetched[k]);
    answers[miss_index[k]] = std::move(fetched[k]);
  }
  return answers;
}

void CachingResolver::Store(const Key& key, const Answer& answer) {
  bool cacheable = answer.outcome == Outcome::kOk || IsVoid(answer.outcome);
  if (!cacheable || answer.ttl == 0) return;
  uint32_t ttl = std::min(answer.ttl, max_ttl_);
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= max_entries_) {
    // Drop what has expired; if that is not enough, start over rather than
    // grow without bound.
    auto now = clock_();
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
    }
    if (entries_.size() >= max_entries_) entries_.clear();
  }
  entries_[key] = Entry{answer, clock_() + std::chrono::seconds(ttl)};
}

}  // namespace deliverd::auth_checks::dns
