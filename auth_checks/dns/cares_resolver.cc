#include "auth_checks/dns/cares_resolver.h"

#include <arpa/inet.h>
#include <ares.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace deliverd::auth_checks::dns {
namespace {

constexpr int kTypeSoa = 6;

uint16_t Get16(const unsigned char* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
uint32_t Get32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Expands a (possibly compressed) name at `p`; sets *consumed. False when
// the name is malformed.
bool ExpandName(const unsigned char* p, const unsigned char* reply, int length,
                std::string* out, long* consumed) {
  char* name = nullptr;
  if (ares_expand_name(p, reply, length, &name, consumed) != ARES_SUCCESS) {
    return false;
  }
  if (out != nullptr) *out = name;
  ares_free_string(name);
  return true;
}

struct RawRr {
  int type;
  uint32_t ttl;
  const unsigned char* rdata;
  uint16_t rdlength;
};

// Walks the answer and authority sections. c-ares 1.18's parse functions
// drop TTLs for TXT, MX and PTR and know nothing of CNAME-only answers or the
// SOA's negative TTL, so this small walker supplies those; TXT strings
// themselves still come from ares_parse_txt_reply_ext.
bool WalkReply(const unsigned char* reply, int length, std::vector<RawRr>* answers,
               std::vector<RawRr>* authority) {
  if (reply == nullptr || length < 12) return false;
  int qdcount = Get16(reply + 4), ancount = Get16(reply + 6),
      nscount = Get16(reply + 8);
  const unsigned char* p = reply + 12;
  const unsigned char* end = reply + length;
  for (int i = 0; i < qdcount; ++i) {
    long consumed = 0;
    if (!ExpandName(p, reply, length, nullptr, &consumed)) return false;
    p += consumed;
    if (end - p < 4) return false;
    p += 4;
  }
  for (int i = 0; i < ancount + nscount; ++i) {
    long consumed = 0;
    if (!ExpandName(p, reply, length, nullptr, &consumed)) return false;
    p += consumed;
    if (end - p < 10) return false;
    RawRr rr{Get16(p), Get32(p + 4), p + 10, Get16(p + 8)};
    p += 10;
    if (end - p < rr.rdlength) return false;
    p += rr.rdlength;
    (i < ancount ? answers : authority)->push_back(rr);
  }
  return true;
}

// RFC 2308: the negative TTL is min(SOA TTL, SOA MINIMUM).
uint32_t NegativeTtl(const unsigned char* reply, int length) {
  std::vector<RawRr> answers, authority;
  if (!WalkReply(reply, length, &answers, &authority)) return 0;
  for (const RawRr& rr : authority) {
    if (rr.type == kTypeSoa && rr.rdlength >= 20) {
      return std::min(rr.ttl, Get32(rr.rdata + rr.rdlength - 4));
    }
  }
  return 0;
}

Answer ParseSuccess(RrType type, const unsigned char* reply, int length) {
  std::vector<RawRr> answers, authority;
  if (!WalkReply(reply, length, &answers, &authority)) {
    return Answer::Of(Outcome::kMalformed, "unparsable reply");
  }
  const int want = RrTypeNumber(type);
  Answer result;
  result.outcome = Outcome::kOk;
  result.ttl = UINT32_MAX;
  for (const RawRr& rr : answers) {
    if (rr.type != want) continue;  // CNAMEs on the way to the answer.
    Record record;
    record.ttl = rr.ttl;
    result.ttl = std::min(result.ttl, rr.ttl);
    switch (type) {
      case RrType::kA:
      case RrType::kAaaa: {
        const size_t size = type == RrType::kA ? 4 : 16;
        if (rr.rdlength != size) {
          return Answer::Of(Outcome::kMalformed, "bad address length");
        }
        char text[INET6_ADDRSTRLEN];
        inet_ntop(type == RrType::kA ? AF_INET : AF_INET6, rr.rdata, text,
                  sizeof(text));
        record.data = text;
        break;
      }
      case RrType::kMx: {
        long consumed = 0;
        if (rr.rdlength < 3 || !ExpandName(rr.rdata + 2, reply, length,
                                           &record.data, &consumed)) {
          return Answer::Of(Outcome::kMalformed, "bad MX record");
        }
        record.preference = Get16(rr.rdata);
        break;
      }
      case RrType::kPtr:
      case RrType::kCname: {
        long consumed = 0;
        if (!ExpandName(rr.rdata, reply, length, &record.data, &consumed)) {
          return Answer::Of(Outcome::kMalformed, "bad name in record");
        }
        break;
      }
      case RrType::kTxt:
        break;  // Below, from c-ares' own parser.
    }
    result.records.push_back(std::move(record));
  }
  if (type == RrType::kTxt && !result.records.empty()) {
    ares_txt_ext* txt = nullptr;
    int status = ares_parse_txt_reply_ext(reply, length, &txt);
    if (status != ARES_SUCCESS) {
      return Answer::Of(Outcome::kMalformed, ares_strerror(status));
    }
    // A TXT record may arrive as several character-strings; record_start
    // marks the first of each record, and SPF/DKIM/DMARC want them joined
    // with nothing in between (RFC 7208 3.3).
    std::vector<std::string> joined;
    for (ares_txt_ext* t = txt; t != nullptr; t = t->next) {
      if (t->record_start || joined.empty()) joined.emplace_back();
      joined.back().append(reinterpret_cast<const char*>(t->txt), t->length);
    }
    ares_free_data(txt);
    if (joined.size() != result.records.size()) {
      return Answer::Of(Outcome::kMalformed, "TXT record count mismatch");
    }
    for (size_t i = 0; i < joined.size(); ++i) {
      result.records[i].data = std::move(joined[i]);
    }
  }
  if (result.records.empty()) {
    // NOERROR whose answer section holds only a CNAME chain: no data of the
    // asked type.
    Answer a = Answer::Of(Outcome::kNoData);
    a.ttl = NegativeTtl(reply, length);
    return a;
  }
  return result;
}

std::once_flag library_once;

}  // namespace

Answer ParseReply(int status, RrType type, const unsigned char* reply,
                  int length) {
  switch (status) {
    case ARES_SUCCESS:
      return ParseSuccess(type, reply, length);
    case ARES_ENODATA: {
      Answer a = Answer::Of(Outcome::kNoData);
      a.ttl = NegativeTtl(reply, length);
      return a;
    }
    case ARES_ENOTFOUND: {
      Answer a = Answer::Of(Outcome::kNxDomain);
      a.ttl = NegativeTtl(reply, length);
      return a;
    }
    case ARES_ESERVFAIL:
      return Answer::Of(Outcome::kServFail, "SERVFAIL");
    case ARES_EREFUSED:
      return Answer::Of(Outcome::kRefused, "REFUSED");
    case ARES_ETIMEOUT:
      return Answer::Of(Outcome::kTimeout, "timeout");
    case ARES_EBADRESP:
      return Answer::Of(Outcome::kMalformed, ares_strerror(status));
    default:
      return Answer::Of(Outcome::kError, ares_strerror(status));
  }
}

namespace {

// Adds the sockets `channel` waits on to `fds`; returns how long to poll
// (c-ares' next timeout, at most a second).
int AddChannelSockets(ares_channel channel, std::vector<pollfd>* fds) {
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  int mask = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
  for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
    short events = 0;
    if (ARES_GETSOCK_READABLE(mask, i)) events |= POLLIN;
    if (ARES_GETSOCK_WRITABLE(mask, i)) events |= POLLOUT;
    if (events != 0) fds->push_back(pollfd{socks[i], events, 0});
  }
  timeval max_tv{1, 0}, tv{};
  timeval* next = ares_timeout(channel, &max_tv, &tv);
  return static_cast<int>(next->tv_sec * 1000 + (next->tv_usec + 999) / 1000);
}

// Hands the ready sockets of `fds` (from index `first`) to c-ares, then
// lets it retry or expire queries whose time is up.
void ProcessReady(ares_channel channel, const std::vector<pollfd>& fds,
                  size_t first) {
  for (size_t i = first; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    bool readable = fds[i].revents & (POLLIN | POLLERR | POLLHUP);
    bool writable = fds[i].revents & POLLOUT;
    ares_process_fd(channel, readable ? fds[i].fd : ARES_SOCKET_BAD,
                    writable ? fds[i].fd : ARES_SOCKET_BAD);
  }
  ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

}  // namespace

struct CaresResolver::Impl {
  struct Pending {
    Impl* impl;
    RrType type;
    Callback done;
  };

  ares_channel channel = nullptr;
  int wake_read = -1;
  int wake_write = -1;
  std::mutex mu;
  bool stopping = false;  // Guarded by mu.
  // Answers waiting for their callbacks to run outside the lock (mu).
  std::vector<std::pair<Callback, Answer>> completed;
  std::thread loop;
  // Duplicates of `channel` for blocking lookups, each used by one thread
  // at a time (guarded by pool_mu).
  std::mutex pool_mu;
  std::vector<ares_channel> pool;

  static void OnReply(void* arg, int status, int timeouts,
                      unsigned char* reply, int length) {
    auto* pending = static_cast<Pending*>(arg);
    Answer answer = status == ARES_EDESTRUCTION
                        ? Answer::Of(Outcome::kError, "resolver destroyed")
                        : ParseReply(status, pending->type, reply, length);
    pending->impl->completed.emplace_back(std::move(pending->done),
                                          std::move(answer));
    delete pending;
  }

  void Wake() {
    char byte = 1;
    // A full pipe already guarantees a wake-up; the result can be ignored.
    [[maybe_unused]] ssize_t n = write(wake_write, &byte, 1);
  }

  void RunCompleted() {
    std::vector<std::pair<Callback, Answer>> ready;
    {
      std::lock_guard<std::mutex> lock(mu);
      ready.swap(completed);
    }
    for (auto& [done, answer] : ready) done(std::move(answer));
  }

  void Loop() {
    for (;;) {
      std::vector<pollfd> fds;
      fds.push_back(pollfd{wake_read, POLLIN, 0});
      int timeout_ms = 1000;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stopping) return;
        timeout_ms = AddChannelSockets(channel, &fds);
      }
      poll(fds.data(), fds.size(), timeout_ms);
      if (fds[0].revents & POLLIN) {
        char buffer[64];
        while (read(wake_read, buffer, sizeof(buffer)) > 0) {
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        ProcessReady(channel, fds, /*first=*/1);
      }
      RunCompleted();
    }
  }

  ~Impl() {
    if (loop.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu);
        stopping = true;
      }
      Wake();
      loop.join();
    }
    if (channel != nullptr) {
      {
        std::lock_guard<std::mutex> lock(mu);
        ares_destroy(channel);  // Completes pending queries (EDESTRUCTION).
      }
      RunCompleted();
    }
    for (ares_channel c : pool) ares_destroy(c);
    if (wake_read >= 0) close(wake_read);
    if (wake_write >= 0) close(wake_write);
  }

  // A private channel for the calling thread, or null when none can be made.
  ares_channel Borrow() {
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      if (!pool.empty()) {
        ares_channel c = pool.back();
        pool.pop_back();
        return c;
      }
    }
    ares_channel dup = nullptr;
    std::lock_guard<std::mutex> lock(mu);  // ares_dup reads `channel`
    if (ares_dup(&dup, channel) != ARES_SUCCESS) return nullptr;
    return dup;
  }

  void Return(ares_channel c) {
    std::lock_guard<std::mutex> lock(pool_mu);
    pool.push_back(c);
  }
};

namespace {

struct BlockingSlot {
  RrType type;
  Answer* answer;
  size_t* remaining;
};

void OnBlockingReply(void* arg, int status, int timeouts, unsigned char* reply,
                     int length) {
  auto* slot = static_cast<BlockingSlot*>(arg);
  *slot->answer = status == ARES_EDESTRUCTION
                      ? Answer::Of(Outcome::kError, "resolver destroyed")
                      : ParseReply(status, slot->type, reply, length);
  --*slot->remaining;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CaresResolver>> CaresResolver::Create(
    const CaresOptions& options) {
  int init_status = ARES_SUCCESS;
  std::call_once(library_once,
                 [&] { init_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (init_status != ARES_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("ares_library_init: ", ares_strerror(init_status)));
  }
  auto impl = std::make_unique<Impl>();
  ares_options opts{};
  opts.flags = ARES_FLAG_NOCHECKRESP;
  opts.timeout = std::max(1, options.timeout_ms);
  opts.tries = std::max(1, options.tries);
  int status = ares_init_options(
      &impl->channel, &opts, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (status != ARES_SUCCESS) {
    impl->channel = nullptr;
    return absl::InternalError(
        absl::StrCat("ares_init_options: ", ares_strerror(status)));
  }
  if (!options.server.empty()) {
    status = ares_set_servers_ports_csv(impl->channel, options.server.c_str());
    if (status != ARES_SUCCESS) {
      return absl::InvalidArgumentError(absl::StrCat(
          "DNS server \"", options.server, "\": ", ares_strerror(status)));
    }
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  impl->wake_read = pipe_fds[0];
  impl->wake_write = pipe_fds[1];
  Impl* raw = impl.get();
  impl->loop = std::thread([raw] { raw->Loop(); });
  return std::unique_ptr<CaresResolver>(new CaresResolver(std::move(impl)));
}

CaresResolver::CaresResolver(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

CaresResolver::~CaresResolver() = default;

void CaresResolver::LookupAsync(std::string_view name, RrType type,
                                Callback done) {
  std::string query(name);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto* pending = new Impl::Pending{impl_.get(), type, std::move(done)};
    // ares_query may complete at once (bad name); OnReply then only queues.
    ares_query(impl_->channel, query.c_str(), /*dnsclass=*/1,
               RrTypeNumber(type), &Impl::OnReply, pending);
  }
  impl_->Wake();
}

}  // namespace deliverd::auth_checks::dns

namespace deliverd::auth_checks::dns {

std::vector<Answer> CaresResolver::LookupAll(const std::vector<Query>& queries) {
  if (queries.empty()) return {};
  ares_channel channel = impl_->Borrow();
  if (channel == nullptr) return Resolver::LookupAll(queries);
  std::vector<Answer> answers(queries.size());
  std::vector<BlockingSlot> slots(queries.size());
  size_t remaining = queries.size();
  size_t issued = 0;
  // At most kMaxLookupsInFlight outstanding (resolver.h says why).
  auto issue_more = [&] {
    while (issued < queries.size() &&
           issued - (queries.size() - remaining) < kMaxLookupsInFlight) {
      size_t i = issued++;
      slots[i] = BlockingSlot{queries[i].type, &answers[i], &remaining};
      // May complete at once (a bad name): the slot is filled either way.
      ares_query(channel, queries[i].name.c_str(), /*dnsclass=*/1,
                 RrTypeNumber(queries[i].type), &OnBlockingReply, &slots[i]);
    }
  };
  issue_more();
  while (remaining > 0) {
    issue_more();
    std::vector<pollfd> fds;
    int timeout_ms = AddChannelSockets(channel, &fds);
    poll(fds.data(), fds.size(), timeout_ms);
    ProcessReady(channel, fds, /*first=*/0);
  }
  impl_->Return(channel);
  return answers;
}

}  // namespace deliverd::auth_checks::dns
