// A scriptable local HTTP receiver for tests: it stands in for a webhook or
// any HTTP endpoint deliverd posts to, records every request exactly as
// received and answers with scripted replies (statuses, headers, bodies,
// delays), so tests can check what was sent and how failures, throttling
// (429 + Retry-After) and slow or dead receivers are handled.
//
//   absl::StatusOr<std::unique_ptr<HttpReceiver>> receiver =
//       HttpReceiver::Start();
//   ASSERT_TRUE(receiver.ok()) << receiver.status();
//   HttpReply throttled;
//   throttled.status = 429;
//   throttled.headers = {{"Retry-After", "2"}};
//   (*receiver)->Script({throttled});  // Then 200 with an empty body.
//   ... point the client at (*receiver)->url("/hooks/abc") ...
//   absl::StatusOr<std::vector<HttpRequest>> requests =
//       (*receiver)->WaitForRequests(2, absl::Seconds(10));
//   ASSERT_TRUE(requests.ok()) << requests.status();
//   EXPECT_EQ((*requests)[0].body, R"({"event":"delivered"})");
//
// Contract:
//  - It listens on 127.0.0.1, on a free port chosen by the kernel at
//    Start(). Each accepted connection is served by its own thread:
//    HTTP/1.1 with keep-alive (several requests per connection), closed
//    after the reply when the request says "Connection: close" (or is
//    HTTP/1.0 without "Connection: keep-alive"). "Expect: 100-continue" is
//    answered with "100 Continue" before the body is read. Bodies come with
//    Content-Length or chunked transfer encoding (up to 64 MiB); a request
//    without either has an empty body. A malformed request gets 400 and the
//    connection is closed; it is not recorded.
//  - A request is recorded once fully read, before its scripted delay: a
//    test may see it in Requests() while the client still waits.
//  - Replies are taken from the script in arrival order across all
//    connections; once the script runs out, each reply is 200 with an empty
//    body. Content-Length is added unless the scripted headers have one
//    (none for 1xx, 204 and 304), and "Connection: close" when closing.
//  - All public methods are thread-safe. Waits are bounded and use a
//    condition variable (no sleeps).
//  - Stop() (also run by the destructor) closes the listener, so later
//    connects are refused, ends every open connection (interrupting scripted
//    delays and blocked reads or writes) and joins all threads; it never
//    hangs on a silent or stuck client. Idempotent; records stay readable.
//    A client that disconnects mid-delay only ends its own connection.
//  - The receiver owns its threads and sockets; it is neither copyable nor
//    movable.
#ifndef DELIVERD_TESTS_TESTING_HTTP_RECEIVER_H_
#define DELIVERD_TESTS_TESTING_HTTP_RECEIVER_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace deliverd::testing {

// One fully read request.
struct HttpRequest {
  std::string method;  // "POST"
  std::string target;  // Path and query, e.g. "/hooks/abc?x=1".
  // As received, in order (values without surrounding whitespace).
  std::vector<std::pair<std::string, std::string>> headers;
  // Exactly the body bytes received (decoded if chunked).
  std::string body;

  // The first header with this name (case-insensitive), or "".
  std::string Header(absl::string_view name) const;
};

// A scripted reply.
struct HttpReply {
  int status = 200;
  // Sent in order, e.g. {"Retry-After", "2"}.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Wait this long before replying (a slow receiver).
  absl::Duration delay = absl::ZeroDuration();
};

class HttpReceiver {
 public:
  // Listens on 127.0.0.1 and a free port and starts accepting.
  static absl::StatusOr<std::unique_ptr<HttpReceiver>> Start();
  // Stops (see Stop()).
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  int port() const;
  // "http://127.0.0.1:PORT" + path.
  std::string url(absl::string_view path) const;

  // Replies for the next requests, in order (replacing what is left of any
  // earlier script); when the script runs out, 200 with an empty body.
  void Script(std::vector<HttpReply> replies);

  // Waits until at least `n` requests arrived or `timeout` passes; returns
  // all requests so far, or DEADLINE_EXCEEDED naming how many arrived.
  absl::StatusOr<std::vector<HttpRequest>> WaitForRequests(
      size_t n, absl::Duration timeout);
  // All requests so far, in arrival order.
  std::vector<HttpRequest> Requests() const;

  // Closes the listening socket (later connections are refused) and ends
  // open connections: a receiver that is down. Joins all threads.
  void Stop();

 private:
  class Connection;

  HttpReceiver() = default;
  absl::Status Listen();
  void AcceptLoop();
  // Serves one connection, then unregisters and closes `fd`.
  void Serve(int fd);
  // Reads one request and replies; false when the connection is to end.
  bool ServeRequest(Connection* conn);
  // Records `request` and returns the reply for it (from the script).
  HttpReply Record(HttpRequest request);
  // Waits `delay` unless Stop() comes first; false if stopping.
  bool Delay(absl::Duration delay);

  absl::Mutex stop_mu_;  // Serialises Stop() calls.
  mutable absl::Mutex mu_;
  mutable absl::CondVar changed_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<HttpReply> script_ ABSL_GUARDED_BY(mu_);
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::set<int> live_fds_ ABSL_GUARDED_BY(mu_);
  // Set by Listen() before any thread runs, read-only afterwards (the fds
  // are closed by Stop() after the threads are joined).
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::thread accept_thread_;
};

}  // namespace deliverd::testing

#endif  // DELIVERD_TESTS_TESTING_HTTP_RECEIVER_H_
