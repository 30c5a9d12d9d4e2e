// Send throughput benchmark: starts a real deliverd (SQLite store, durable
// commits, or the --store given; dispatcher off so only the API path is
// measured) and reports, in one run and side by side:
//   - the ceiling: an empty unary call (grpc.health.v1.Health/Check) on the
//     same server, at 1, 8 and 32 concurrent callers;
//   - Send at 1, 8 and 32 concurrent callers;
//   - SendBatch (1,000 messages per call) in messages per second;
// and for each, the CPU time per call of the server and of this process.
// Each caller has its own connection and waits for each call's answer.
// The ceiling and Send are called the same way: the generic stub's
// callback API, waited for, with requests serialized before the clock
// starts and answers checked by their status, as a load generator does.
// --typed-send calls Send with the generated stub instead (a request built
// and an answer parsed per call), --blocking-send with its blocking form.
//
// usage: send_bench [--deliverd PATH] [--seconds N] [--only-batch]
//                   [--sync full|normal] [--callers 1|8|32] [--skip-ceiling]
//                   [--skip-batch] [--typed-send | --blocking-send]
//                   [--rounds N]   (ceiling and Send N times, alternating;
//                                   prints the median ratio)
//                   [--store mysql://U@H:P/EMPTY_DB]
//                   [--target HOST:PORT --api-key KEY]   (an existing server)
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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
            (s.dir + "/data").c_str(), "--dispatcher-workers", "0", "--store",
            store.c_str(), static_cast<char*>(nullptr));
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

// CPU seconds (user + system) used so far by process `pid`, from
// /proc/PID/stat; 0 when unreadable (a --target server on another host).
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; count fields after its ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::atof(field.c_str());  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Rate {
  double calls_per_second = 0;
  // CPU per completed call, in microseconds: the server's (0 when not
  // started here) and this process's (the callers and their gRPC threads).
  double server_us = 0;
  double client_us = 0;
};

// Runs `callers` threads doing `call` in a loop for `seconds`; returns
// completed calls per second and the CPU each call took. Each thread gets
// its own channel, as separate client processes would.
template <typename MakeCall>
Rate Measure(int callers, double seconds, const std::string& target,
             pid_t server_pid, MakeCall make_call) {
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
  double server_cpu = server_pid > 0 ? ProcessCpuSeconds(server_pid) : 0;
  double client_cpu = ProcessCpuSeconds(getpid());
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
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed.load() > 0) {
    std::cerr << "warning: " << failed.load() << " calls failed\n";
  }
  Rate rate;
  rate.calls_per_second = done.load() / elapsed;
  if (done.load() > 0) {
    double per_call = 1e6 / static_cast<double>(done.load());
    if (server_pid > 0) {
      rate.server_us = (ProcessCpuSeconds(server_pid) - server_cpu) * per_call;
    }
    rate.client_us = (ProcessCpuSeconds(getpid()) - client_cpu) * per_call;
  }
  return rate;
}

// Waits for a callback-API call started by `start(done)`: the calling
// style of both the ceiling and Send, so the two are measured alike.
template <typename Start>
bool CallAndWait(Start start) {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  grpc::Status status;
  start([&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = std::move(s);
    finished = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return finished; });
  return status.ok();
}

// How Send is called: kEncoded as the ceiling is (generic stub, bytes
// serialized beforehand, answer checked by status); kTyped builds each
// request and parses each answer with the generated stub's callback API;
// kBlocking does the same with the blocking stub.
enum class SendClient { kEncoded, kTyped, kBlocking };

deliverd::v1::SendRequest SampleSend(long n) {
  deliverd::v1::SendRequest request;
  auto* c = request.mutable_content();
  c->mutable_from()->set_address("sender@example.com");
  c->add_to()->set_address("user" + std::to_string(n % 1000) + "@example.org");
  c->set_subject("Benchmark message " + std::to_string(n));
  c->set_text_body(
      "Hello,\n\nThis is a benchmark message of a typical transactional "
      "size, with a couple of lines of text.\n\nRegards\n");
  request.add_tags("bench");
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
  SendClient send_client = SendClient::kEncoded;
  int only_callers = 0;
  int rounds = 1;
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
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, atoi(argv[++i]));
    } else if (arg == "--callers" && i + 1 < argc) {
      only_callers = atoi(argv[++i]);
    } else if (arg == "--skip-batch") {
      skip_batch = true;
    } else if (arg == "--blocking-send") {
      send_client = SendClient::kBlocking;
    } else if (arg == "--typed-send") {
      send_client = SendClient::kTyped;
    } else if (arg == "--skip-ceiling") {
      skip_ceiling = true;
    } else if (arg == "--only-batch") {
      only_batch = true;
    } else if (arg == "--target" && i + 1 < argc) {
      target = argv[++i];
    } else if (arg == "--api-key" && i + 1 < argc) {
      api_key = argv[++i];
    } else {
      std::cerr
          << "usage: send_bench [--deliverd PATH] [--seconds N] "
             "[--only-batch] [--callers N] [--skip-ceiling] [--skip-batch] "
             "[--typed-send | --blocking-send] [--rounds N] "
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
                    : "MySQL/MariaDB at " + store.substr(store.find('@') + 1);
  std::cout << "deliverd " << server.target << ", " << store_name
            << ", dispatcher off, " << seconds << " s per point, "
            << std::thread::hardware_concurrency() << " cores\n\n";
  std::printf("%-8s %14s %14s %7s   %s\n", "callers", "empty call/s", "Send/s",
              "ratio", "CPU us per call, server+bench: empty call | Send");
  pid_t server_pid = target.empty() ? server.pid : -1;
  for (int callers : {1, 8, 32}) {
    if (only_batch) break;
    if (only_callers != 0 && callers != only_callers) continue;
    std::vector<double> ratios;
    for (int round = 0; round < rounds; ++round) {
      Rate ceiling;
      if (!skip_ceiling) {
        ceiling = Measure(
            callers, seconds, server.target, server_pid, [](auto channel) {
              auto stub = std::make_shared<grpc::GenericStub>(channel);
              return [stub](long) {
                grpc::ClientContext ctx;
                grpc::Slice empty("", 0);
                grpc::ByteBuffer request(&empty, 1), response;
                return CallAndWait([&](auto done) {
                  stub->UnaryCall(&ctx, "/grpc.health.v1.Health/Check", {},
                                  &request, &response, std::move(done));
                });
              };
            });
      }
      Rate sends;
      if (send_client == SendClient::kEncoded) {
        sends = Measure(
            callers, seconds, server.target, server_pid, [&](auto channel) {
              // As a load generator does: the requests are serialized before
              // the clock starts (256 different ones, cycled), and an answer is
              // checked by its status, so the bench's CPU per call is the same
              // machinery as the ceiling's.
              auto stub = std::make_shared<grpc::GenericStub>(channel);
              auto requests = std::make_shared<std::vector<std::string>>();
              for (long n = 0; n < 256; ++n) {
                requests->push_back(SampleSend(n).SerializeAsString());
              }
              return [stub, requests, &bearer](long n) {
                grpc::ClientContext ctx;
                ctx.AddMetadata("authorization", bearer);
                const std::string& bytes = (*requests)[n % requests->size()];
                grpc::Slice slice(bytes.data(), bytes.size());
                grpc::ByteBuffer request(&slice, 1), response;
                return CallAndWait([&](auto done) {
                  stub->UnaryCall(&ctx, "/deliverd.v1.Messages/Send", {},
                                  &request, &response, std::move(done));
                });
              };
            });
      } else {
        sends = Measure(
            callers, seconds, server.target, server_pid, [&](auto channel) {
              auto stub = std::shared_ptr<deliverd::v1::Messages::Stub>(
                  deliverd::v1::Messages::NewStub(channel));
              return [stub, &bearer, send_client](long n) {
                grpc::ClientContext ctx;
                ctx.AddMetadata("authorization", bearer);
                deliverd::v1::SendRequest request = SampleSend(n);
                deliverd::v1::SendResponse response;
                if (send_client == SendClient::kBlocking) {
                  return stub->Send(&ctx, request, &response).ok();
                }
                return CallAndWait([&](auto done) {
                  stub->async()->Send(&ctx, &request, &response,
                                      std::move(done));
                });
              };
            });
      }
      std::printf("%-8d %14.0f %14.0f %7.2f   %.0f+%.0f | %.0f+%.0f\n", callers,
                  ceiling.calls_per_second, sends.calls_per_second,
                  sends.calls_per_second / ceiling.calls_per_second,
                  ceiling.server_us, ceiling.client_us, sends.server_us,
                  sends.client_us);
      std::fflush(stdout);
      ratios.push_back(sends.calls_per_second / ceiling.calls_per_second);
    }
    if (rounds > 1) {
      std::sort(ratios.begin(), ratios.end());
      std::printf("%-8d median ratio over %d rounds: %.2f (%.2f to %.2f)\n",
                  callers, rounds, ratios[ratios.size() / 2], ratios.front(),
                  ratios.back());
    }
  }

  deliverd::v1::SendBatchRequest batch;
  for (int i = 0; i < 1000; ++i) *batch.add_messages() = SampleSend(i);
  for (int callers : {1, 2}) {
    if (skip_batch) break;
    Rate calls =
        Measure(callers, seconds, server.target, server_pid, [&](auto channel) {
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
    std::printf(
        "\nSendBatch (1,000 per call, %d caller%s): %.0f messages/s "
        "(CPU us per message, server+bench: %.1f+%.1f)\n",
        callers, callers == 1 ? "" : "s", calls.calls_per_second * 1000,
        calls.server_us / 1000, calls.client_us / 1000);
  }
  if (target.empty()) StopServer(server);
  return 0;
}
