// End-to-end test harness: runs deliverd as a real process and drives it
// through the generated C++ stubs, raw (generic) gRPC calls and deliverctl.
//
//   absl::StatusOr<std::unique_ptr<Deliverd>> server =
//       Deliverd::Start({"--max-recipients", "3"});
//   Client client = (*server)->NewClient();          // first key, tenant "default"
//   Client other = (*server)->NewClient(*(*server)->CreateKey("tenant-b"));
//   absl::StatusOr<v1::Message> sent = client.Send(MakeSend(...));
//   absl::StatusOr<v1::Message> done =
//       client.WaitForStatus(sent->id(), v1::MESSAGE_STATUS_SENT);
//   ProcessResult ctl = (*server)->Deliverctl({"status", sent->id()});
//
// Layout of a server's temporary folder (mkdtemp under $TEST_TMPDIR, else
// /tmp; removed by the destructor unless $DELIVERD_E2E_KEEP is set):
//   <dir>/port                deliverd --port-file
//   <dir>/data/               deliverd --data-dir (api-key, deliverd.db, outbox/)
//   <dir>/deliverd.N.out/.err stdout/stderr of the N-th start
//   <dir>/ctl/                deliverctl's working folder (empty, so it never
//                             falls back to ./data/api-key)
//
// Synchronisation never relies on fixed sleeps: the port file is polled with
// short waits up to a bounded deadline, process exits are awaited through a
// pidfd (poll with a timeout), asynchronous outcomes are awaited by polling
// GetMessage with a deadline or by reading WatchEvents.
#ifndef DELIVERD_TESTS_E2E_TESTING_DELIVERD_H_
#define DELIVERD_TESTS_E2E_TESTING_DELIVERD_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "absl/status/statusor.h"
#include "deliverd/v1/hygiene.grpc.pb.h"
#include "deliverd/v1/messages.grpc.pb.h"
#include "deliverd/v1/subscriptions.grpc.pb.h"

namespace deliverd::e2e {

namespace v1 = ::deliverd::v1;

using Seconds = std::chrono::seconds;
using Millis = std::chrono::milliseconds;

// Paths of the binaries under test.
std::string DeliverdBinary();
std::string DeliverctlBinary();

// The outcome of a child process.
struct ProcessResult {
  // The exit status when the process exited normally, else -1.
  int exit_code = -1;
  // The signal that ended the process, else 0.
  int term_signal = 0;
  // True when the harness killed it because it ran past its deadline.
  bool timed_out = false;
  std::string out;
  std::string err;
};
std::ostream& operator<<(std::ostream& os, const ProcessResult& r);
std::string Describe(const ProcessResult& r);

// Runs `argv` (argv[0] is the program path) to completion with stdin from
// `stdin_data`, stdout/stderr captured through files in `scratch_dir`, the
// environment `env` (exactly these variables) and working folder `cwd`.
// A process still running after `timeout` is killed (timed_out = true).
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         const std::string& cwd, const std::string& scratch_dir,
                         const std::string& stdin_data = "",
                         Millis timeout = Seconds(30));

// Converts a gRPC status to an absl::Status with the same code and message.
absl::Status FromGrpc(const grpc::Status& status);

// A client of one deliverd as one tenant (one API key). Every call carries
// "authorization: Bearer <key>" (none when the key is empty) and a deadline.
class Client {
 public:
  Client(std::shared_ptr<grpc::Channel> channel, std::string api_key);

  const std::string& api_key() const { return api_key_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // A context with the key and a deadline `timeout` from now.
  std::unique_ptr<grpc::ClientContext> Context(Millis timeout = Seconds(10)) const;

  v1::Messages::Stub& messages() { return *messages_; }
  v1::Subscriptions::Stub& subscriptions() { return *subscriptions_; }
  v1::Hygiene::Stub& hygiene() { return *hygiene_; }

  // Messages.
  absl::StatusOr<v1::Message> Send(const v1::SendRequest& request);
  absl::StatusOr<v1::SendBatchResponse> SendBatch(
      const v1::SendBatchRequest& request);
  absl::StatusOr<v1::Message> GetMessage(const std::string& name_or_id);
  absl::StatusOr<v1::ListMessagesResponse> ListMessages(
      const v1::ListMessagesRequest& request);
  // Follows next_page_token to the end (at most `max_pages` pages).
  absl::StatusOr<std::vector<v1::Message>> ListAllMessages(
      v1::ListMessagesRequest request, int max_pages = 1000);
  absl::StatusOr<v1::ResendResponse> Resend(const v1::ResendRequest& request);

  // Subscriptions.
  absl::StatusOr<v1::Suppression> AddSuppression(
      const v1::AddSuppressionRequest& request);
  absl::StatusOr<v1::Suppression> RemoveSuppression(
      const v1::RemoveSuppressionRequest& request);
  absl::StatusOr<v1::CheckSuppressionResponse> CheckSuppression(
      const v1::CheckSuppressionRequest& request);
  absl::StatusOr<v1::ListSuppressionsResponse> ListSuppressions(
      const v1::ListSuppressionsRequest& request);

  // Polls GetMessage (short waits, bounded by `timeout`) until the message
  // is no longer queued (its first attempt is recorded: waiting counts as
  // settled), and returns it. Returns DEADLINE_EXCEEDED (with the last
  // status seen) if it never does.
  absl::StatusOr<v1::Message> WaitUntilSettled(const std::string& id,
                                              Millis timeout = Seconds(15));
  // Polls until the message's status is `want`, through any number of
  // queued and waiting rounds (retries); FAILED_PRECONDITION as soon as it
  // reaches another final status, DEADLINE_EXCEEDED when time runs out.
  absl::StatusOr<v1::Message> WaitUntilStatus(const std::string& id,
                                             v1::MessageStatus want,
                                             Millis timeout = Seconds(15));
  // Like WaitUntilSettled, then checks the status is `want`
  // (FAILED_PRECONDITION naming both statuses otherwise).
  absl::StatusOr<v1::Message> WaitForStatus(const std::string& id,
                                           v1::MessageStatus want,
                                           Millis timeout = Seconds(15));

  // Opens WatchEvents with `request` and reads events until `done(events)`
  // returns true, then cancels the stream and returns them. If the stream
  // ends or `timeout` passes first, returns the error (DEADLINE_EXCEEDED
  // when the deadline passed) with the number of events read.
  absl::StatusOr<std::vector<v1::Event>> Watch(
      const v1::WatchEventsRequest& request,
      const std::function<bool(const std::vector<v1::Event>&)>& done,
      Millis timeout = Seconds(15));

 private:
  // One unary call with this client's key and deadline; the gRPC error as
  // an absl::Status.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(
      Stub& stub,
      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                   Response*),
      const Request& request, Millis timeout = Seconds(10)) {
    Response response;
    grpc::Status s = (stub.*method)(Context(timeout).get(), request, &response);
    if (!s.ok()) return FromGrpc(s);
    return response;
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::string api_key_;
  std::unique_ptr<v1::Messages::Stub> messages_;
  std::unique_ptr<v1::Subscriptions::Stub> subscriptions_;
  std::unique_ptr<v1::Hygiene::Stub> hygiene_;
};

// Options of one deliverctl run.
struct CtlOptions {
  // DELIVERD_API_KEY for the child; nullopt: the server's first key; "":
  // the variable is not set at all.
  std::optional<std::string> api_key_env;
  // Set DELIVERD_SERVER to the server's address.
  bool server_env = true;
  // More environment variables (override the ones above).
  std::map<std::string, std::string> env;
  std::string stdin_data;
  Millis timeout = Seconds(30);
};

// One deliverd process over a temporary folder.
class Deliverd {
 public:
  // Creates a fresh folder and starts `deliverd --listen 127.0.0.1:0
  // --port-file <dir>/port --data-dir <dir>/data <extra_flags>`, waiting
  // (bounded, ~20 s) for the port file and then the API key file.
  static absl::StatusOr<std::unique_ptr<Deliverd>> Start(
      std::vector<std::string> extra_flags = {});
  // Like Start(), for a further replica on a shared store (--store
  // mysql://...): only the first deliverd on an empty database creates the
  // first key and writes <data>/api-key, so this one is given the key
  // (typically the first replica's api_key()) instead of reading the file.
  static absl::StatusOr<std::unique_ptr<Deliverd>> StartWithKey(
      std::string api_key, std::vector<std::string> extra_flags = {});

  // Kills a running server and removes the folder (kept when the
  // environment variable DELIVERD_E2E_KEEP is set).
  ~Deliverd();

  Deliverd(const Deliverd&) = delete;
  Deliverd& operator=(const Deliverd&) = delete;

  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string outbox_dir() const { return dir_ + "/data/outbox"; }
  // The outbox file of a message ("<data>/outbox/<id>.eml").
  std::string OutboxFile(const std::string& id) const;
  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // The first key (tenant "default"), read from <data>/api-key (or the key
  // given to StartWithKey).
  const std::string& api_key() const { return api_key_; }

  // A fresh channel to the current process (a restart changes the port).
  std::shared_ptr<grpc::Channel> NewChannel() const;
  Client NewClient() const { return NewClient(api_key_); }
  Client NewClient(const std::string& api_key) const;

  // Runs `deliverd keys create --tenant NAME --data-dir <data>` and returns
  // the key it prints. Creates the tenant if it is new.
  absl::StatusOr<std::string> CreateKey(const std::string& tenant) const;
  // A client of a new tenant whose name is `prefix` plus a unique suffix.
  absl::StatusOr<Client> NewTenantClient(const std::string& prefix) const;

  // Runs `deliverd <args> --data-dir <data>` (an admin subcommand such as
  // "tenants policy") on this server's data and returns what it did.
  ProcessResult Admin(const std::vector<std::string>& args) const;

  // Runs deliverctl with `args` against this server.
  ProcessResult Deliverctl(const std::vector<std::string>& args,
                           const CtlOptions& options = {}) const;

  // SIGTERM, then waits (bounded by `timeout`) for the exit. Returns the
  // exit status; an error when it was ended by a signal or did not exit in
  // time (then it is killed).
  //
  // Destroy idle Clients first: deliverd's graceful shutdown waits for
  // connections to close, and an idle gRPC client (no call in progress)
  // notices the server's GOAWAY only through its backup poller, every 5 s,
  // so each idle connection can hold the exit back by up to 5 s.
  absl::StatusOr<int> Stop(Millis timeout = Seconds(20));
  // SIGKILL and reap.
  void Kill();
  // Starts again on the same folder with the same flags (after Stop/Kill).
  absl::Status Restart();

  // stdout / stderr of the current (or last) process.
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  Deliverd(std::string dir, std::vector<std::string> extra_flags);
  static absl::StatusOr<std::unique_ptr<Deliverd>> Create(
      std::string api_key, std::vector<std::string> extra_flags);
  absl::Status Launch();

  std::string dir_;
  std::vector<std::string> extra_flags_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int port_ = 0;
  int runs_ = 0;
  std::string api_key_;
  // StartWithKey's key; empty: read <data>/api-key.
  std::string given_api_key_;
};

// Waits (bounded) for process `pid` (with its pidfd, or -1) to end.
// Returns the wait status, or nullopt when it is still running at the
// deadline.
std::optional<int> WaitForExit(pid_t pid, int pidfd, Millis timeout);

// ---------------------------------------------------------------------------
// Raw gRPC calls with serialized bytes (for services without C++ stubs:
// grpc.health.v1, server reflection).

struct RawResult {
  grpc::Status status;
  std::vector<std::string> responses;
};

// A unary call of `method` ("/package.Service/Method") with raw bytes.
RawResult RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& method, const std::string& request,
                       const std::multimap<std::string, std::string>& metadata =
                           {},
                       Millis timeout = Seconds(10));

// A bidi-streaming call: writes every request, half-closes, reads every
// response until the server ends the call.
RawResult RawBidiCall(const std::shared_ptr<grpc::Channel>& channel,
                      const std::string& method,
                      const std::vector<std::string>& requests,
                      const std::multimap<std::string, std::string>& metadata =
                          {},
                      Millis timeout = Seconds(10));

// ---------------------------------------------------------------------------
// Request builders and small helpers.

// A valid one-recipient plain-text message.
v1::SendRequest MakeSend(const std::string& from, const std::string& to,
                         const std::string& subject, const std::string& text);

// The current time as a protobuf Timestamp.
google::protobuf::Timestamp NowTimestamp();

// Event types of `events`, in order.
std::vector<v1::EventType> TypesOf(const std::vector<v1::Event>& events);
std::vector<v1::EventType> TypesOf(const v1::Message& message);

// The contents of a file, or nullopt when it cannot be read.
std::optional<std::string> ReadFile(const std::string& path);

// A tenant name unique within this test binary run.
std::string UniqueName(const std::string& prefix);

// Runs `launch` (which chooses a fresh free port each time) again when it
// failed because the port was taken between its choice and the server's
// bind ("already in use": tests run side by side); at most 5 attempts.
// Returns the last attempt's status.
absl::Status LaunchRetryingTakenPorts(const std::function<absl::Status()>& launch);

// Readable values in failure messages.
std::string StatusName(v1::MessageStatus status);
std::string EventTypeName(v1::EventType type);

// ---------------------------------------------------------------------------
// Assertions on absl::Status / absl::StatusOr.

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

#define E2E_CONCAT_INNER(a, b) a##b
#define E2E_CONCAT(a, b) E2E_CONCAT_INNER(a, b)

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const auto& e2e_assert_ok_value = (expr);                            \
    ASSERT_TRUE(::deliverd::e2e::StatusOf(e2e_assert_ok_value).ok())     \
        << #expr << ": " << ::deliverd::e2e::StatusOf(e2e_assert_ok_value); \
  } while (0)

#define EXPECT_OK(expr)                                                  \
  do {                                                                   \
    const auto& e2e_expect_ok_value = (expr);                            \
    EXPECT_TRUE(::deliverd::e2e::StatusOf(e2e_expect_ok_value).ok())     \
        << #expr << ": " << ::deliverd::e2e::StatusOf(e2e_expect_ok_value); \
  } while (0)

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL(E2E_CONCAT(e2e_statusor_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL(statusor, lhs, rexpr)                  \
  auto statusor = (rexpr);                                               \
  ASSERT_TRUE(statusor.ok()) << #rexpr << ": " << statusor.status();     \
  lhs = std::move(*statusor)

// ---------------------------------------------------------------------------
// A test suite sharing one server across its tests:
//
//   class SendTest : public SharedDeliverdTest<SendTest> {
//    public:
//     static std::vector<std::string> Flags() { return {"--max-recipients", "3"}; }
//   };
//
// Tests isolate themselves with their own tenants (NewTenant()).
template <typename Derived>
class SharedDeliverdTest : public ::testing::Test {
 public:
  static std::vector<std::string> Flags() { return {}; }

  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<Deliverd>> started =
        Deliverd::Start(Derived::Flags());
    if (started.ok()) {
      server_ = std::move(*started);
    } else {
      start_error_ = started.status().ToString();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

 protected:
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "deliverd did not start: " << start_error_;
  }

  static Deliverd& server() { return *server_; }

  // A client of a fresh tenant named after the running test.
  static absl::StatusOr<Client> NewTenant() {
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info != nullptr ? info->name() : "tenant";
    for (char& c : name) {
      if (!isalnum(static_cast<unsigned char>(c))) c = '-';
    }
    return server_->NewTenantClient(name);
  }

  static inline std::unique_ptr<Deliverd> server_;
  static inline std::string start_error_;
};

}  // namespace deliverd::e2e

namespace deliverd::v1 {
// gtest prints enums through these (found by ADL).
void PrintTo(MessageStatus status, std::ostream* os);
void PrintTo(EventType type, std::ostream* os);
}  // namespace deliverd::v1

#endif  // DELIVERD_TESTS_E2E_TESTING_DELIVERD_H_
