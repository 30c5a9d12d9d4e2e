// Store-level benchmark: how fast SqliteStore commits messages, without gRPC.
// Reports single-message commit latency (one writer, one message per
// commit), group commit with concurrent writers, and 1,000-message batches.
//
// usage: store_bench [--dir DIR] [--seconds N] [--sync full|normal]
#include <stdlib.h>

#include <atomic>
#include <chrono>
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

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  double seconds = 2;
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
    } else {
      std::fprintf(stderr, "usage: store_bench [--dir DIR] [--seconds N] [--sync full|normal]\n");
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
  for (int threads : {1, 8, 32}) {
    double rate = Rate(threads, seconds, [&] {
      return (*store)->InsertMessagesAndWait({Sample(tenant)}).ok() ? 1 : 0;
    });
    std::printf("single-message inserts, %2d threads: %8.0f messages/s\n",
                threads, rate);
  }
  for (int threads : {1, 2}) {
    double rate = Rate(threads, seconds, [&] {
      std::vector<NewMessage> batch;
      batch.reserve(1000);
      for (int i = 0; i < 1000; ++i) batch.push_back(Sample(tenant));
      return (*store)->InsertMessagesAndWait(std::move(batch)).ok() ? 1000 : 0;
    });
    std::printf("1,000-message batches, %d thread%s:   %8.0f messages/s\n",
                threads, threads == 1 ? " " : "s", rate);
  }
  store->reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
