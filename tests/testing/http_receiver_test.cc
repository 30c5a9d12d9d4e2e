#include "testing/http_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deliverd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::SizeIs;

constexpr absl::Duration kWait = absl::Seconds(10);

// A response as read by RawClient.
struct RawResponse {
  int status = 0;  // 0: nothing could be read.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string Header(absl::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (absl::EqualsIgnoreCase(key, name)) return value;
    }
    return "";
  }
};

// A raw HTTP/1.1 client over a loopback socket. Reads time out after 10 s so
// that a broken receiver fails the test instead of hanging it.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv = {10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    connect_errno_ = connected_ ? 0 : errno;
  }
  ~RawClient() { Close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  bool Send(absl::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One line without CRLF; false on EOF or error.
  bool ReadLine(std::string* line) {
    while (true) {
      size_t end = in_.find("\r\n");
      if (end != std::string::npos) {
        *line = in_.substr(0, end);
        in_.erase(0, end + 2);
        return true;
      }
      if (!Fill()) return false;
    }
  }

  // One response (status line, headers, Content-Length body).
  RawResponse ReadResponse() {
    RawResponse response;
    std::string line;
    if (!ReadLine(&line) || !absl::StartsWith(line, "HTTP/1.1 ") ||
        !absl::SimpleAtoi(line.substr(9, 3), &response.status)) {
      return RawResponse();
    }
    while (ReadLine(&line) && !line.empty()) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) return RawResponse();
      response.headers.emplace_back(
          line.substr(0, colon),
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
    }
    size_t length = 0;
    if (!absl::SimpleAtoi(response.Header("Content-Length"), &length)) {
      length = 0;
    }
    while (in_.size() < length) {
      if (!Fill()) return RawResponse();
    }
    response.body = in_.substr(0, length);
    in_.erase(0, length);
    return response;
  }

  // True if the receiver closed the connection (EOF) with nothing unread.
  bool ReadsEof() { return in_.empty() && !Fill() && eof_; }

 private:
  bool Fill() {
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) eof_ = true;
    if (n <= 0) return false;
    in_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  int connect_errno_ = 0;
  bool eof_ = false;
  std::string in_;
};

std::unique_ptr<HttpReceiver> StartReceiver() {
  absl::StatusOr<std::unique_ptr<HttpReceiver>> receiver =
      HttpReceiver::Start();
  EXPECT_TRUE(receiver.ok()) << receiver.status();
  return receiver.ok() ? std::move(*receiver) : nullptr;
}

std::string Post(absl::string_view target, absl::string_view body,
                 absl::string_view extra_headers = "") {
  return absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                      extra_headers, "Content-Length: ", body.size(),
                      "\r\n\r\n", body);
}

HttpReply Reply(int status, absl::Duration delay = absl::ZeroDuration()) {
  HttpReply reply;
  reply.status = status;
  reply.delay = delay;
  return reply;
}

TEST(HttpReceiverTest, UrlNamesLoopbackAndPort) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  EXPECT_GT(receiver->port(), 0);
  EXPECT_EQ(receiver->url("/hooks/a"),
            absl::StrCat("http://127.0.0.1:", receiver->port(), "/hooks/a"));
}

TEST(HttpReceiverTest, CapturesPostExactly) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  const std::string body =
      "{\"event\":\"delivered\",\"id\":\"m-1\",\"text\":\"a\\r\\nb \xc3\xa9\"}";
  ASSERT_TRUE(
      client.Send(absl::StrCat("POST /hooks/abc?x=1 HTTP/1.1\r\n"
                               "Host: 127.0.0.1\r\n"
                               "Content-Type: application/json\r\n"
                               "X-Deliverd-Signature:   sha256=ab12  \r\n"
                               "Content-Length: ",
                               body.size(), "\r\n\r\n", body)));
  RawResponse response = client.ReadResponse();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");

  absl::StatusOr<std::vector<HttpRequest>> requests =
      receiver->WaitForRequests(1, kWait);
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_THAT(*requests, SizeIs(1));
  const HttpRequest& request = (*requests)[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/hooks/abc?x=1");
  EXPECT_THAT(request.headers,
              ElementsAre(Pair("Host", "127.0.0.1"),
                          Pair("Content-Type", "application/json"),
                          Pair("X-Deliverd-Signature", "sha256=ab12"),
                          Pair("Content-Length", absl::StrCat(body.size()))));
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("X-Missing"), "");
  EXPECT_EQ(request.body, body);
  EXPECT_THAT(receiver->Requests(), SizeIs(1));
}

TEST(HttpReceiverTest, ChunkedBodyAfterExpectContinue) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(
      client.Send("POST /big HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"));
  std::string line;
  ASSERT_TRUE(client.ReadLine(&line));
  EXPECT_EQ(line, "HTTP/1.1 100 Continue");
  ASSERT_TRUE(client.ReadLine(&line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(
      client.Send("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
                  "X-Trailer: t\r\n\r\n"));
  EXPECT_EQ(client.ReadResponse().status, 200);
  absl::StatusOr<std::vector<HttpRequest>> requests =
      receiver->WaitForRequests(1, kWait);
  ASSERT_TRUE(requests.ok()) << requests.status();
  EXPECT_EQ((*requests)[0].body, "hello world");
}

TEST(HttpReceiverTest, LargeBodyOnKeptAliveConnection) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  std::string body(3 * 1024 * 1024, 'x');
  for (size_t i = 0; i < body.size(); i += 997) body[i] = '\0';
  ASSERT_TRUE(client.Send(Post("/one", body)));
  EXPECT_EQ(client.ReadResponse().status, 200);
  ASSERT_TRUE(client.Send(Post("/two", "{}")));
  EXPECT_EQ(client.ReadResponse().status, 200);
  absl::StatusOr<std::vector<HttpRequest>> requests =
      receiver->WaitForRequests(2, kWait);
  ASSERT_TRUE(requests.ok()) << requests.status();
  EXPECT_EQ((*requests)[0].body, body);
  EXPECT_EQ((*requests)[1].target, "/two");
  EXPECT_EQ((*requests)[1].body, "{}");
}

TEST(HttpReceiverTest, ScriptedRepliesInOrderThenDefault) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  HttpReply error = Reply(500);
  error.body = "boom";
  HttpReply throttled = Reply(429);
  throttled.headers = {{"Retry-After", "2"}};
  receiver->Script({error, throttled});

  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Post("/h", "1")));
  RawResponse first = client.ReadResponse();
  EXPECT_EQ(first.status, 500);
  EXPECT_EQ(first.body, "boom");
  // A new connection takes the next scripted reply.
  RawClient second_client(receiver->port());
  ASSERT_TRUE(second_client.connected());
  ASSERT_TRUE(second_client.Send(Post("/h", "2")));
  RawResponse second = second_client.ReadResponse();
  EXPECT_EQ(second.status, 429);
  EXPECT_EQ(second.Header("Retry-After"), "2");
  ASSERT_TRUE(client.Send(Post("/h", "3")));
  RawResponse third = client.ReadResponse();
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.body, "");
  EXPECT_THAT(receiver->Requests(), SizeIs(3));
}

TEST(HttpReceiverTest, ConnectionCloseEndsConnectionAfterReply) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Post("/h", "x", "Connection: close\r\n")));
  RawResponse response = client.ReadResponse();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("Connection"), "close");
  EXPECT_TRUE(client.ReadsEof());
}

TEST(HttpReceiverTest, DelayedReplyComesAfterTheDelay) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  const absl::Duration delay = absl::Milliseconds(400);
  receiver->Script({Reply(202, delay)});
  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  absl::Time sent = absl::Now();
  ASSERT_TRUE(client.Send(Post("/slow", "{}")));
  // Recorded once read, before the delay.
  ASSERT_TRUE(receiver->WaitForRequests(1, kWait).ok());
  RawResponse response = client.ReadResponse();
  EXPECT_EQ(response.status, 202);
  EXPECT_GE(absl::Now() - sent, delay);
}

TEST(HttpReceiverTest, ClientGoneMidDelayOnlyEndsItsConnection) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  // The second reply is due after the receiver wrote to the gone client.
  receiver->Script({Reply(200, absl::Milliseconds(200)),
                    Reply(201, absl::Milliseconds(400))});
  {
    RawClient client(receiver->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Send(Post("/slow", "1")));
    ASSERT_TRUE(receiver->WaitForRequests(1, kWait).ok());
  }  // Disconnects while the receiver waits.
  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Post("/next", "2")));
  EXPECT_EQ(client.ReadResponse().status, 201);
  EXPECT_THAT(receiver->Requests(), SizeIs(2));
}

TEST(HttpReceiverTest, StopInterruptsLongDelay) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  receiver->Script({Reply(200, absl::Minutes(5))});
  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Post("/slow", "1")));
  ASSERT_TRUE(receiver->WaitForRequests(1, kWait).ok());
  absl::Time start = absl::Now();
  receiver->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(client.ReadResponse().status, 0);  // Closed without a reply.
}

TEST(HttpReceiverTest, StopRefusesConnectionsAndEndsOpenOnes) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  RawClient open(receiver->port());
  ASSERT_TRUE(open.connected());
  ASSERT_TRUE(open.Send(Post("/h", "1")));
  EXPECT_EQ(open.ReadResponse().status, 200);
  receiver->Stop();
  EXPECT_TRUE(open.ReadsEof());
  RawClient late(receiver->port());
  EXPECT_FALSE(late.connected());
  EXPECT_EQ(late.connect_errno(), ECONNREFUSED);
  receiver->Stop();  // Idempotent.
  EXPECT_THAT(receiver->Requests(), SizeIs(1));
}

TEST(HttpReceiverTest, MalformedRequestGets400AndIsNotRecorded) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("POST /h HTTP/1.1\r\nno colon here\r\n\r\n"));
  EXPECT_EQ(client.ReadResponse().status, 400);
  EXPECT_TRUE(client.ReadsEof());
  EXPECT_THAT(receiver->Requests(), SizeIs(0));
}

TEST(HttpReceiverTest, WaitForRequestsTimesOutNamingTheCount) {
  std::unique_ptr<HttpReceiver> receiver = StartReceiver();
  ASSERT_NE(receiver, nullptr);
  RawClient client(receiver->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Post("/h", "1")));
  EXPECT_EQ(client.ReadResponse().status, 200);
  absl::StatusOr<std::vector<HttpRequest>> requests =
      receiver->WaitForRequests(2, absl::Milliseconds(200));
  ASSERT_FALSE(requests.ok());
  EXPECT_EQ(requests.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(requests.status().message(), HasSubstr("1 arrived"));
}

}  // namespace
}  // namespace deliverd::testing
