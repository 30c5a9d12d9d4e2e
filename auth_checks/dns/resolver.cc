#include "auth_checks/dns/resolver.h"

#include <algorithm>
#include <atomic>
#include <functional>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace deliverd::auth_checks::dns {

int RrTypeNumber(RrType type) {
  switch (type) {
    case RrType::kA: return 1;
    case RrType::kAaaa: return 28;
    case RrType::kTxt: return 16;
    case RrType::kMx: return 15;
    case RrType::kPtr: return 12;
    case RrType::kCname: return 5;
  }
  return 0;
}

std::string_view RrTypeName(RrType type) {
  switch (type) {
    case RrType::kA: return "A";
    case RrType::kAaaa: return "AAAA";
    case RrType::kTxt: return "TXT";
    case RrType::kMx: return "MX";
    case RrType::kPtr: return "PTR";
    case RrType::kCname: return "CNAME";
  }
  return "?";
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk: return "NOERROR";
    case Outcome::kNoData: return "NODATA";
    case Outcome::kNxDomain: return "NXDOMAIN";
    case Outcome::kServFail: return "SERVFAIL";
    case Outcome::kRefused: return "REFUSED";
    case Outcome::kTimeout: return "TIMEOUT";
    case Outcome::kMalformed: return "MALFORMED";
    case Outcome::kError: return "ERROR";
  }
  return "?";
}

namespace {
// Shared by the waiting caller and the callbacks; shared_ptr because a
// callback may in principle outlive nothing here, but it keeps the lifetime
// obviously correct whichever thread finishes last.
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  size_t remaining = 0;
  std::vector<Answer> answers;
};
}  // namespace

Answer Resolver::Lookup(std::string_view name, RrType type) {
  return std::move(LookupAll({Query{std::string(name), type}})[0]);
}

std::vector<Answer> Resolver::LookupAll(const std::vector<Query>& queries) {
  auto waiter = std::make_shared<Waiter>();
  waiter->remaining = queries.size();
  waiter->answers.resize(queries.size());
  // Each answer issues the next query, so at most kMaxLookupsInFlight are
  // outstanding. A callback may call LookupAsync again (the contract).
  auto next = std::make_shared<std::atomic<size_t>>(0);
  auto issue = std::make_shared<std::function<void()>>();
  *issue = [this, &queries, waiter, next, weak = std::weak_ptr<std::function<void()>>(issue)] {
    size_t i = next->fetch_add(1);
    if (i >= queries.size()) return;
    LookupAsync(queries[i].name, queries[i].type,
                [waiter, i, weak](Answer answer) {
                  {
                    std::lock_guard<std::mutex> lock(waiter->mu);
                    waiter->answers[i] = std::move(answer);
                  }
                  if (std::shared_ptr<std::function<void()>> go = weak.lock()) {
                    (*go)();
                  }
                  std::lock_guard<std::mutex> lock(waiter->mu);
                  if (--waiter->remaining == 0) waiter->cv.notify_all();
                });
  };
  for (size_t k = 0; k < std::min(queries.size(), kMaxLookupsInFlight); ++k) {
    (*issue)();
  }
  std::unique_lock<std::mutex> lock(waiter->mu);
  waiter->cv.wait(lock, [&] { return waiter->remaining == 0; });
  return std::move(waiter->answers);
}

}  // namespace deliverd::auth_checks::dns
