// Send throughput benchmark: starts a real deliverd (SQLite store, durable
// commits, or the --store given; dispatcher off so only the API path is
// measured) and reports, in
// one run and side by side:
//   - the ceiling: an empty unary call (grpc.health.v1.Health/Check) on the
//     same server, at 1, 8 and 32 concurrent callers;
//   - Send at 1, 8 and 32 concurrent callers;
//   - SendBatch (1,000 messages per call) in messages per second.
//
// usage: send_bench [--deliverd PATH] [--seconds N] [--only-batch]
//                   [--sync full|normal] [--callers 1|8|32] [--skip-ceiling]
//                   [--skip-batch] [--store mysql://U@H:P/EMPTY_DB]
//                   [--target HOST:PORT --api-key KEY]   (an existing server)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "deliverd/v1/messages.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Server {
  pid_t pid = -1;
  std::string target;
  std::string key;
  std::string dir;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

// `store` empty: SQLite under the temporary folder with `sync`; else the
// --store URI (a MySQL database that must be empty, so deliverd writes its
// first API key).
Server StartServer(const std::string& binary, const std::string& sync,
                   const std::string& store) {
  Server s;
  char tmpl[] = "/tmp/deliverd-bench-XXXXXX";
  s.dir = mkdtemp(tmpl);
  std::string port_file = s.dir + "/port";
  s.pid = fork();
  if (s.pid == 0) {
    freopen((s.dir + "/deliverd.log").c_str(), "w", stdout);
    freopen((s.dir + "/deliverd.err").c_str(), "w", stderr);
    if (store.empty()) {
      execl(binary.c_str(), binary.c_str(), "--listen", "127.0.0.1:0",
            "--port-file", port_file.c_str(), "--data-dir",
            (s.dir + "/data").c_str(), "--dispatcher-workers", "0",
            "--sqlite-sync", sync.c_str(), static_cast<char*>(nullptr));
    } else {
      execl(binary.c_str(), binary.c_str(), "--listen", "127.0.0.1:0",
            "--port-file", port_file.c_str(), "--data-dir",
            (s.dir + "/data").c_str(), "--dispatcher-workers", "0",
            "--store", store.c_str(), static_cast<char*>(nullptr));
    }
    _exit(127);
  }
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (access(port_file.c_str(), F_OK) != 0) {
    if (Clock::now() > deadline) {
      std::cerr << "deliverd did not start; see " << s.dir << "\n";
      exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  s.target = "127.0.0.1:" + ReadFile(port_file);
  s.key = ReadFile(s.dir + "/data/api-key");
  return s;
}

void StopServer(Server& s) {
  kill(s.pid, SIGTERM);
  int status = 0;
  waitpid(s.pid, &status, 0);
  std::string cleanup = "rm -rf '" + s.dir + "'";
  if (system(cleanup.c_str()) != 0) std::cerr << "cleanup failed\n";
}

// Runs `callers` threads doing `call` in a loop for `seconds`; returns
// completed calls per second. Each thread gets its own channel, as separate
// client processes would.
template <typename MakeCall>
double Measure(int callers, double seconds, const std::string& target,
               MakeCall make_call) {
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::atomic<long> failed{0};
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < callers; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("channel_id", i);  // distinct connections
    channels.push_back(grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args));
  }
  auto start = Clock::now();
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&, i] {
      auto call = make_call(channels[i]);
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (call(n++)) {
          done.fetch_add(1, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  if (failed.load() > 0) {
    std::cerr << "warning: " << failed.load() << " calls failed\n";
  }
  return done.load() / elapsed;
}

deliverd::v1::SendRequest SampleSend(long n, int thread_salt) {
  deliverd::v1::SendRequest request;
  auto* c = request.mutable_content();
  c->mutable_from()->set_address("sender@example.com");
  c->add_to()->set_address("user" + std::to_string(n % 1000) + "@example.org");
  c->set_subject("Benchmark message " + std::to_string(n));
  c->set_text_body(
      "Hello,\n\nThis is a benchmark message of a typical transactional "
      "size, with a couple of lines of text.\n\nRegards\n");
  request.add_tags("bench");
  (void)thread_salt;
  return request;
}

}  // namespace

int main(int argc, char** argv) {
  // As in deliverd (server/main.cc): gRPC's locks are absl::Mutex, and
  // Debian's absl does cycle detection on every acquisition unless told not
  // to; the callers' side of the measurement should not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string binary = DELIVERD_BENCH_SERVER;
  double seconds = 3;
  bool only_batch = false;
  bool skip_ceiling = false;
  bool skip_batch = false;
  int only_callers = 0;
  std::string sync = "full";
  std::string store;
  std::string target, api_key;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--deliverd" && i + 1 < argc) {
      binary = argv[++i];
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (arg == "--store" && i + 1 < argc) {
      store = argv[++i];
    } else if (arg == "--sync" && i + 1 < argc) {
      sync = argv[++i];
    } else if (arg == "--callers" && i + 1 < argc) {
      only_callers = atoi(argv[++i]);
    } else if (arg == "--skip-batch") {
      skip_batch = true;
    } else if (arg == "--skip-ceiling") {
      skip_ceiling = true;
    } else if (arg == "--only-batch") {
      only_batch = true;
    } else if (arg == "--target" && i + 1 < argc) {
      target = argv[++i];
    } else if (arg == "--api-key" && i + 1 < argc) {
      api_key = argv[++i];
    } else {
      std::cerr << "usage: send_bench [--deliverd PATH] [--seconds N] "
                   "[--only-batch] [--callers N] [--skip-ceiling] [--skip-batch] "
                   "[--sync full|normal] [--store URI] "
                   "[--target HOST:PORT "
                   "--api-key KEY]\n";
      return 2;
    }
  }
  Server server;
  if (target.empty()) {
    server = StartServer(binary, sync, store);
  } else {
    server.target = target;
    server.key = api_key;
  }
  std::string bearer = "Bearer " + server.key;
  // The store is named without the URI's user or password.
  std::string store_name =
      store.empty() ? "SQLite WAL sqlite-sync=" + sync
                    : "MySQL/MariaDB at " +
                          store.substr(store.find('@') + 1);
  std::cout << "deliverd " << server.target << ", " << store_name
            << ", dispatcher off, "
            << seconds
            << " s per point, " << std::thread::hardware_concurrency()
            << " cores\n\n";
  std::printf("%-9s %16s %16s %8s\n", "callers", "empty call/s", "Send/s",
              "ratio");
  for (int callers : {1, 8, 32}) {
    if (only_batch) break;
    if (only_callers != 0 && callers != only_callers) continue;
    double ceiling = skip_ceiling ? 0 : Measure(callers, seconds, server.target, [](auto channel) {
      auto stub = std::make_shared<grpc::GenericStub>(channel);
      return [stub](long) {
        grpc::ClientContext ctx;
        grpc::ByteBuffer request, response;
        grpc::Slice empty("", 0);
        request = grpc::ByteBuffer(&empty, 1);
        grpc::Status status;
        std::mutex mu;
        std::condition_variable cv;
        bool finished = false;
        stub->UnaryCall(&ctx, "/grpc.health.v1.Health/Check", {}, &request,
                        &response, [&](grpc::Status s) {
                          std::lock_guard<std::mutex> lock(mu);
                          status = s;
                          finished = true;
                          cv.notify_one();
                        });
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return finished; });
        return status.ok();
      };
    });
    double sends = Measure(callers, seconds, server.target, [&](auto channel) {
      auto stub = deliverd::v1::Messages::NewStub(channel);
      return [stub = std::shared_ptr<deliverd::v1::Messages::Stub>(
                  std::move(stub)),
              &bearer](long n) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", bearer);
        deliverd::v1::SendResponse response;
        return stub->Send(&ctx, SampleSend(n, 0), &response).ok();
      };
    });
    std::printf("%-9d %16.0f %16.0f %8.2f\n", callers, ceiling, sends,
                sends / ceiling);
  }

  deliverd::v1::SendBatchRequest batch;
  for (int i = 0; i < 1000; ++i) *batch.add_messages() = SampleSend(i, 0);
  for (int callers : {1, 2}) {
    if (skip_batch) break;
    double calls = Measure(callers, seconds, server.target, [&](auto channel) {
      auto stub = std::shared_ptr<deliverd::v1::Messages::Stub>(
          deliverd::v1::Messages::NewStub(channel));
      return [stub, &bearer, &batch](long) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", bearer);
        deliverd::v1::SendBatchResponse response;
        grpc::Status status = stub->SendBatch(&ctx, batch, &response);
        return status.ok() && response.accepted_count() == 1000;
      };
    });
    std::printf("\nSendBatch (1,000 per call, %d caller%s): %.0f messages/s\n",
                callers, callers == 1 ? "" : "s", calls * 1000);
  }
  if (target.empty()) StopServer(server);
  return 0;
}
