#include "testing/http_receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace deliverd::testing {
namespace {

// A request line or header line longer than this ends the connection.
constexpr size_t kMaxLine = 64 * 1024;
// At most this many header lines per request.
constexpr size_t kMaxHeaders = 1000;
// Larger bodies (declared or chunked) end the connection.
constexpr uint64_t kMaxBody = 64ull * 1024 * 1024;

// The reply to a malformed request; the connection is closed after it.
constexpr absl::string_view kBadRequest =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

// True if the comma-separated header value lists `token` (case-insensitive).
bool HasToken(absl::string_view value, absl::string_view token) {
  for (absl::string_view part : absl::StrSplit(value, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(part), token)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string HttpRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

// One accepted connection: buffered reads and whole writes on a blocking
// socket. Stop() shuts the socket down, which ends any blocked call.
class HttpReceiver::Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}

  // The next line without its line end ("\r\n" or "\n"); false on EOF,
  // error or an over-long line.
  bool ReadLine(std::string* line) {
    size_t scanned = 0;
    while (true) {
      size_t end = in_.find('\n', scanned);
      if (end != std::string::npos) {
        size_t len = end;
        if (len > 0 && in_[len - 1] == '\r') --len;
        line->assign(in_, 0, len);
        in_.erase(0, end + 1);
        return true;
      }
      if (in_.size() > kMaxLine) return false;
      scanned = in_.size();
      if (!Fill()) return false;
    }
  }

  // Exactly `n` bytes appended to `out`; false on EOF or error.
  bool ReadExactly(uint64_t n, std::string* out) {
    while (in_.size() < n) {
      out->append(in_);
      n -= in_.size();
      in_.clear();
      if (!Fill()) return false;
    }
    out->append(in_, 0, n);
    in_.erase(0, n);
    return true;
  }

  bool Write(absl::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

 private:
  bool Fill() {
    char buf[64 * 1024];
    while (true) {
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      in_.append(buf, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_;
  std::string in_;
};

absl::StatusOr<std::unique_ptr<HttpReceiver>> HttpReceiver::Start() {
  std::unique_ptr<HttpReceiver> receiver(new HttpReceiver());
  absl::Status status = receiver->Listen();
  if (!status.ok()) return status;  // The destructor closes what was opened.
  return receiver;
}

absl::Status HttpReceiver::Listen() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  }
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 128) != 0) {
    return absl::InternalError(
        absl::StrCat("bind/listen 127.0.0.1:0: ", std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return absl::InternalError(
        absl::StrCat("getsockname: ", std::strerror(errno)));
  }
  if (pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread(&HttpReceiver::AcceptLoop, this);
  return absl::OkStatus();
}

HttpReceiver::~HttpReceiver() { Stop(); }

void HttpReceiver::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int r = poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & (POLLERR | POLLNVAL)) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // EINTR, ECONNABORTED...: try again.
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    live_fds_.insert(fd);
    threads_.emplace_back(&HttpReceiver::Serve, this, fd);
  }
}

void HttpReceiver::Serve(int fd) {
  {
    Connection conn(fd);
    while (ServeRequest(&conn)) {
    }
  }
  {
    absl::MutexLock lock(&mu_);
    live_fds_.erase(fd);
  }
  // Half-close, so the peer reads EOF after the last reply.
  shutdown(fd, SHUT_WR);
  close(fd);
}

bool HttpReceiver::ServeRequest(Connection* connection) {
  Connection& conn = *connection;
  // Request line; empty lines before it are ignored (RFC 9112, 2.2).
  std::string line;
  do {
    if (!conn.ReadLine(&line)) return false;
  } while (line.empty());
  HttpRequest request;
  std::string version;
  {
    std::vector<std::string> parts =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (parts.size() != 3 || !absl::StartsWith(parts[2], "HTTP/1.")) {
      conn.Write(kBadRequest);
      return false;
    }
    request.method = parts[0];
    request.target = parts[1];
    version = parts[2];
  }
  // Header fields.
  bool bad = false;
  while (true) {
    if (!conn.ReadLine(&line)) return false;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0 ||
        request.headers.size() >= kMaxHeaders) {
      bad = true;
      continue;  // Read the rest of the head, then answer 400.
    }
    request.headers.emplace_back(
        line.substr(0, colon), std::string(absl::StripAsciiWhitespace(
                                   absl::string_view(line).substr(colon + 1))));
  }
  bool chunked = HasToken(request.Header("Transfer-Encoding"), "chunked");
  uint64_t length = 0;
  std::string length_header = request.Header("Content-Length");
  if (!chunked && !length_header.empty() &&
      (!absl::SimpleAtoi(length_header, &length) || length > kMaxBody)) {
    bad = true;
  }
  if (bad) {
    conn.Write(kBadRequest);
    return false;
  }
  std::string connection_header = request.Header("Connection");
  bool keep_alive = version == "HTTP/1.0"
                        ? HasToken(connection_header, "keep-alive")
                        : !HasToken(connection_header, "close");
  if (version != "HTTP/1.0" &&
      absl::EqualsIgnoreCase(
          absl::StripAsciiWhitespace(request.Header("Expect")),
          "100-continue") &&
      !conn.Write("HTTP/1.1 100 Continue\r\n\r\n")) {
    return false;
  }
  // Body.
  if (chunked) {
    while (true) {
      if (!conn.ReadLine(&line)) return false;
      absl::string_view size_text = line;
      size_text = size_text.substr(0, size_text.find(';'));  // Extensions.
      uint64_t size = 0;
      if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(size_text), &size) ||
          size > kMaxBody || request.body.size() + size > kMaxBody) {
        conn.Write(kBadRequest);
        return false;
      }
      if (size == 0) break;
      if (!conn.ReadExactly(size, &request.body)) return false;
      if (!conn.ReadLine(&line)) return false;  // The CRLF after the data.
    }
    // Trailer fields, up to the empty line; not recorded.
    do {
      if (!conn.ReadLine(&line)) return false;
    } while (!line.empty());
  } else if (!conn.ReadExactly(length, &request.body)) {
    return false;
  }

  bool head = request.method == "HEAD";
  HttpReply reply = Record(std::move(request));
  if (reply.delay > absl::ZeroDuration() && !Delay(reply.delay)) return false;

  std::string out = absl::StrCat("HTTP/1.1 ", reply.status, " ",
                                 ReasonPhrase(reply.status), "\r\n");
  bool has_length = false;
  for (const auto& [name, value] : reply.headers) {
    if (absl::EqualsIgnoreCase(name, "Content-Length")) has_length = true;
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  bool bodiless = (reply.status >= 100 && reply.status < 200) ||
                  reply.status == 204 || reply.status == 304;
  if (!has_length && !bodiless) {
    absl::StrAppend(&out, "Content-Length: ", reply.body.size(), "\r\n");
  }
  if (!keep_alive) absl::StrAppend(&out, "Connection: close\r\n");
  absl::StrAppend(&out, "\r\n");
  if (!head && !bodiless) absl::StrAppend(&out, reply.body);
  // A client gone mid-delay makes this fail: only this connection ends.
  return conn.Write(out) && keep_alive;
}

HttpReply HttpReceiver::Record(HttpRequest request) {
  absl::MutexLock lock(&mu_);
  requests_.push_back(std::move(request));
  changed_.SignalAll();
  if (script_.empty()) return HttpReply();
  HttpReply reply = std::move(script_.front());
  script_.pop_front();
  return reply;
}

bool HttpReceiver::Delay(absl::Duration delay) {
  absl::Time deadline = absl::Now() + delay;
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (changed_.WaitWithDeadline(&mu_, deadline)) break;
  }
  return !stopping_;
}

void HttpReceiver::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // Wakes every connection blocked in a read or write; each closes its
    // own socket once it has unregistered it. Delays end on the signal.
    for (int fd : live_fds_) shutdown(fd, SHUT_RDWR);
    changed_.SignalAll();
  }
  if (wake_pipe_[1] >= 0) {
    ssize_t ignored = write(wake_pipe_[1], "x", 1);
    (void)ignored;
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  // No accept can happen any more: later connects are refused.
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
  for (int& fd : wake_pipe_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

int HttpReceiver::port() const { return port_; }

std::string HttpReceiver::url(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

void HttpReceiver::Script(std::vector<HttpReply> replies) {
  absl::MutexLock lock(&mu_);
  script_.assign(std::make_move_iterator(replies.begin()),
                 std::make_move_iterator(replies.end()));
}

absl::StatusOr<std::vector<HttpRequest>> HttpReceiver::WaitForRequests(
    size_t n, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  while (requests_.size() < n) {
    if (changed_.WaitWithDeadline(&mu_, deadline) && requests_.size() < n) {
      return absl::DeadlineExceededError(
          absl::StrCat("waited ", absl::FormatDuration(timeout), " for ", n,
                       " HTTP requests; ", requests_.size(), " arrived"));
    }
  }
  return requests_;
}

std::vector<HttpRequest> HttpReceiver::Requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

}  // namespace deliverd::testing
