// Store-level benchmark: how fast SqliteStore commits messages, without gRPC.
// Reports single-message commit latency (one writer, one message per
// commit), group commit with concurrent writers, 1,000-message batches, and
// the queue's side of a delivery (claim 32, record each outcome the way the
// dispatcher does: an ATTEMPT and a SENT event, not waited for one by one)
// on the messages the first parts queued, with the process's CPU time per
// delivery.
//
// usage: store_bench [--dir DIR] [--seconds N] [--sync full|normal]
//                    [--only-deliveries]   (queues 200,000 first, untimed)
#include <stdlib.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "server/store/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;
using deliverd::store::Message;
using deliverd::store::NewMessage;
using deliverd::store::Recipient;

std::atomic<long> next_id{0};

NewMessage Sample(int64_t tenant) {
  NewMessage item;
  Message& m = item.message;
  long n = next_id.fetch_add(1);
  char id[32];
  std::snprintf(id, sizeof(id), "m_%026ld", n);
  m.id = id;
  m.tenant_id = tenant;
  m.status = deliverd::store::MessageStatus::kQueued;
  m.from_address = "sender@example.com";
  m.subject = "Benchmark message " + std::to_string(n);
  m.tags = {"bench"};
  m.create_time = m.update_time = absl::Now();
  m.next_attempt_time = m.create_time;
  m.rfc822_message_id = m.id + "@example.com";
  m.size_bytes = 1000;
  m.content = std::string(300, 'x');
  Recipient r;
  r.address = "user" + std::to_string(n % 1000) + "@example.org";
  m.recipients.push_back(r);
  deliverd::store::Event e;
  e.tenant_id = tenant;
  e.message_id = m.id;
  e.type = deliverd::store::EventType::kQueued;
  e.time = m.create_time;
  e.source = "api";
  e.detail = "accepted";
  item.events.push_back(e);
  return item;
}

template <typename Fn>
double Rate(int threads, double seconds, Fn fn) {
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      while (!stop.load()) done.fetch_add(fn());
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  return done.load() /
         std::chrono::duration<double>(Clock::now() - start).count();
}

double CpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// One claim of 32 and its outcomes; returns how many were recorded.
long DeliverOneClaim(deliverd::store::Store& store) {
  auto claimed = store.ClaimDueMessages("bench", absl::Now(), absl::Minutes(5),
                                        32);
  if (!claimed.ok() || claimed->empty()) return 0;
  std::mutex mu;
  std::condition_variable cv;
  size_t outstanding = claimed->size();
  std::atomic<long> recorded{0};
  for (Message& m : *claimed) {
    auto update = std::make_shared<deliverd::store::DeliveryUpdate>();
    update->tenant_id = m.tenant_id;
    update->message_id = m.id;
    update->lease_owner = "bench";
    update->attempt_count = m.attempt_count + 1;
    update->status = deliverd::store::MessageStatus::kSent;
    update->next_attempt_time = absl::InfiniteFuture();
    m.recipients[0].status = deliverd::store::MessageStatus::kSent;
    m.recipients[0].last_reply.code = 250;
    m.recipients[0].last_reply.enhanced_code = "2.0.0";
    m.recipients[0].last_reply.text = "2.0.0 Ok: queued as 4XyZ1abc";
    m.recipients[0].last_reply.remote_host = "127.0.0.1";
    update->recipients = m.recipients;
    update->events.push_back(deliverd::store::MessageEvent(
        m, deliverd::store::EventType::kAttempt, absl::Now(), "", "smtp-relay",
        "attempt 1 via smtp-relay"));
    update->events.push_back(deliverd::store::MessageEvent(
        m, deliverd::store::EventType::kSent, absl::Now(),
        m.recipients[0].address, "smtp-relay", "2.0.0 Ok: queued as 4XyZ1abc"));
    store.RecordDeliveryAsync(update, [&](absl::Status status) {
      if (status.ok()) recorded.fetch_add(1);
      std::lock_guard<std::mutex> lock(mu);
      if (--outstanding == 0) cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return outstanding == 0; });
  return recorded.load();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  double seconds = 2;
  bool only_deliveries = false;
  deliverd::store::SqliteOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (arg == "--sync" && i + 1 < argc) {
      std::string value = argv[++i];
      if (value != "full" && value != "normal") {
        std::fprintf(stderr, "--sync: full or normal\n");
        return 2;
      }
      options.full_sync = value == "full";
    } else if (arg == "--only-deliveries") {
      only_deliveries = true;
    } else {
      std::fprintf(stderr, "usage: store_bench [--dir DIR] [--seconds N] [--sync full|normal] [--only-deliveries]\n");
      return 2;
    }
  }
  bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/deliverd-store-bench-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  auto store = deliverd::store::SqliteStore::Open(dir + "/bench.db", options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  int64_t tenant = *(*store)->CreateTenant("bench");
  std::printf("SqliteStore in %s, synchronous=%s, %.1f s per point\n\n",
              dir.c_str(), options.full_sync ? "FULL" : "NORMAL", seconds);
  for (int i = 0; only_deliveries && i < 200; ++i) {
    std::vector<NewMessage> batch;
    for (int j = 0; j < 1000; ++j) batch.push_back(Sample(tenant));
    if (!(*store)->InsertMessagesAndWait(std::move(batch)).ok()) return 1;
  }
  for (int threads : {1, 8, 32}) {
    if (only_deliveries) break;
    double rate = Rate(threads, seconds, [&] {
      return (*store)->InsertMessagesAndWait({Sample(tenant)}).ok() ? 1 : 0;
    });
    std::printf("single-message inserts, %2d threads: %8.0f messages/s\n",
                threads, rate);
  }
  for (int threads : {1, 2}) {
    if (only_deliveries) break;
    double rate = Rate(threads, seconds, [&] {
      std::vector<NewMessage> batch;
      batch.reserve(1000);
      for (int i = 0; i < 1000; ++i) batch.push_back(Sample(tenant));
      return (*store)->InsertMessagesAndWait(std::move(batch)).ok() ? 1000 : 0;
    });
    std::printf("1,000-message batches, %d thread%s:   %8.0f messages/s\n",
                threads, threads == 1 ? " " : "s", rate);
  }
  {
    double cpu_before = CpuSeconds();
    std::atomic<long> delivered{0};
    double rate = Rate(8, seconds, [&] {
      long n = DeliverOneClaim(**store);
      delivered.fetch_add(n);
      return n;
    });
    double cpu = CpuSeconds() - cpu_before;
    std::printf("deliveries (claim 32, record async), 8 threads: %8.0f/s, "
                "%.1f us of CPU each\n",
                rate, delivered.load() > 0 ? cpu * 1e6 / delivered.load() : 0);
  }
  store->reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
