// A scriptable SMTP server for tests: unit tests of deliverd's SMTP client
// (in-process) and end-to-end tests where a separate deliverd process
// connects to it over loopback.
//
//   SmtpServerOptions options;
//   options.rcpt_reply = [](const std::string& rcpt) {
//     return rcpt == "bad@example.com" ? "550 5.1.1 No such user"
//                                      : "250 2.1.5 Ok";
//   };
//   SmtpServer server(options);
//   ASSERT_TRUE(server.Start().ok());
//   ... point the client at 127.0.0.1:server.port() ...
//   ASSERT_TRUE(server.WaitForMessages(1, absl::Seconds(10)));
//   EXPECT_EQ(server.messages()[0].data, "Subject: hi\r\n\r\nbody\r\n");
//
// Contract:
//  - It listens on 127.0.0.1, on a free port chosen by the kernel at Start().
//    Each accepted connection is served by its own thread; Stop() (also run
//    by the destructor) closes the listener, shuts down every live
//    connection and joins all threads, so it never hangs on a silent or
//    stuck client.
//  - All public methods are thread-safe. The options may be replaced at any
//    time (SetOptions() and the setters); a session reads the current options
//    at each command, so a change applies from the next command on. The
//    reply functions are called on connection threads, without the server's
//    lock held: they may call the server's accessors, and must be thread-safe
//    themselves if several clients connect at once.
//  - Records are written before the reply that reports them is sent: once a
//    client has read the reply to DATA, messages() already holds the message.
//  - Waits are bounded and use condition variables (no sleeps).
//  - The server owns its threads, sockets and the temporary folder holding
//    the certificate (removed by the destructor). It is neither copyable nor
//    movable and can be started once.
//  - Connections are closed gracefully (the peer reads EOF after the last
//    reply, never a reset): the server half-closes, then discards input until
//    the peer closes, Stop() or an idle bound of a few seconds.
//
// Protocol: RFC 5321 commands EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT,
// STARTTLS (RFC 3207) and AUTH PLAIN / LOGIN (RFC 4954); anything else gets
// "500 5.5.2". Command lines must end with CRLF (a bare LF gets "500 5.5.2").
// A configured reply is sent verbatim and may hold several lines separated
// by "\r\n" (or "\n"), e.g. "250-first\r\n250 second". Any reply whose code
// is 421 closes the connection after it is sent.
#ifndef DELIVERD_TESTS_TESTING_SMTP_SERVER_H_
#define DELIVERD_TESTS_TESTING_SMTP_SERVER_H_

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace deliverd::testing {

// A recipient the server accepted (its RCPT got a 2xx reply).
struct ReceivedRecipient {
  std::string address;  // Between the angle brackets of RCPT TO:<...>.
  std::string params;   // The text after the closing '>', trimmed.
};

// One completed DATA transaction (the final dot line was read), whatever
// its reply. A connection dropped mid-DATA records nothing.
struct ReceivedMessage {
  std::string mail_from;    // Between the angle brackets of MAIL FROM:<...>.
  std::string mail_params;  // The text after the closing '>', trimmed.
  std::vector<ReceivedRecipient> rcpts;  // Accepted recipients, in order.
  // The content after un-dot-stuffing: exactly the bytes between the 354
  // reply and the final ".\r\n" line, CRLF line ends kept.
  std::string data;
  bool tls = false;       // Received over TLS (after STARTTLS).
  std::string auth_user;  // The authenticated user, else empty.
  int connection = -1;    // Index of the connection (0 = first accepted).
  std::string queue_id;   // The id in the default DATA reply ("Q1", "Q2"...).
  std::string reply;      // The reply sent to the final dot.
};

struct SmtpServerOptions {
  // The host name in the greeting and the EHLO/HELO reply.
  std::string hostname = "mx.test";
  // False: EHLO gets "502 5.5.1 ..." and the client must fall back to HELO.
  bool ehlo = true;

  // Extensions advertised in the EHLO reply (ENHANCEDSTATUSCODES always is).
  bool pipelining = true;
  int64_t size = 0;  // SIZE <size>; 0: not advertised, no limit enforced.
  bool eight_bit_mime = true;
  bool smtputf8 = false;
  bool dsn = false;
  bool starttls = false;  // STARTTLS (until the session is under TLS).
  // TLS from the first byte (SMTPS, RFC 8314), with the same certificate.
  bool implicit_tls = false;
  bool auth = false;      // AUTH PLAIN LOGIN, checked against user/password.
  std::string user = "user";
  std::string password = "secret";

  // MAIL (and AUTH) before STARTTLS: "530 5.7.0 Must issue a STARTTLS
  // command first".
  bool require_tls = false;
  // MAIL before a successful AUTH: "530 5.7.0 Authentication required".
  bool require_auth = false;

  // The greeting; empty: "220 <hostname> ESMTP". A 421 greeting is followed
  // by the close; after any other non-2xx greeting every command but QUIT
  // gets "503 5.5.1 No service".
  std::string greeting_reply;
  // The reply to a well-formed MAIL that passes the checks above.
  std::string mail_reply = "250 2.1.0 Ok";
  // The reply to RCPT TO:<rcpt> (the address without brackets); null:
  // "250 2.1.5 Ok". A 2xx reply accepts the recipient.
  std::function<std::string(const std::string& rcpt)> rcpt_reply;
  // The reply to the final dot of DATA, given the message received (reply
  // still empty); null: "250 2.0.0 Ok: queued as <queue_id>".
  std::function<std::string(const ReceivedMessage& message)> data_reply;

  // Faults. Close the connection without a reply once this many bytes of
  // DATA content (as sent, dot-stuffed) have been read; -1: off.
  int64_t drop_after_data_bytes = -1;
  // Close the connection right after the greeting.
  bool drop_after_greeting = false;
  // Close the connection silently after replying to this many messages on
  // it (a relay dropping an idle kept-alive connection); 0: never.
  int close_after_messages = 0;
};

class SmtpServer {
 public:
  explicit SmtpServer(SmtpServerOptions options = {});
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  // Creates the TLS certificate, binds 127.0.0.1:0 and starts accepting.
  absl::Status Start();
  // Closes the listener and all live connections, joins all threads.
  // Idempotent; records stay readable.
  void Stop();

  // The bound port (0 before Start()).
  int port() const;
  // The self-signed certificate (PEM) served by STARTTLS: CN=localhost,
  // subjectAltName DNS:localhost and IP:127.0.0.1, valid from an hour ago
  // for a day. Usable as a client's CA file. Empty before Start().
  std::string cert_file() const;

  // Behaviour, changeable at any time (see the contract above).
  void SetOptions(SmtpServerOptions options);
  SmtpServerOptions options() const;
  void SetMailReply(std::string reply);
  void SetRcptReply(std::function<std::string(const std::string&)> reply);
  void SetDataReply(std::function<std::string(const ReceivedMessage&)> reply);
  // False: new connections get "421 4.3.0 try later" and are closed
  // (they still count in connections()). Default true.
  void SetAcceptConnections(bool accept);

  // Records.
  std::vector<ReceivedMessage> messages() const;
  // Connections accepted so far (including refused ones).
  int connections() const;
  // Connections whose session has ended and whose socket is closed.
  int closed_connections() const;
  // Every command line received, in order, on all connections (AUTH lines
  // with an initial response become "AUTH <MECH> ***"; responses to 334
  // challenges are not recorded).
  std::vector<std::string> commands() const;
  // The command lines received on one connection.
  std::vector<std::string> commands(int connection) const;
  // Evidence of pipelining: the largest number of complete command lines
  // already buffered when the server started processing the first of them
  // (1 for a client that waits for each reply).
  int max_commands_in_one_read() const;
  // Forgets messages and commands (connection indexes keep counting).
  void ClearRecords();

  // Wait until at least `n` messages / accepted connections / closed
  // connections are recorded, or `timeout` passes; false on timeout.
  bool WaitForMessages(size_t n, absl::Duration timeout) const;
  bool WaitForConnections(int n, absl::Duration timeout) const;
  bool WaitForClosedConnections(int n, absl::Duration timeout) const;

 private:
  class Session;
  friend class Session;

  void AcceptLoop();
  void RunSession(int fd, int index);
  bool WaitUntil(const std::function<bool()>& done,
                 absl::Duration timeout) const;

  absl::Mutex stop_mu_;  // Serialises Stop() calls.
  mutable absl::Mutex mu_;
  mutable absl::CondVar changed_;
  SmtpServerOptions options_ ABSL_GUARDED_BY(mu_);
  bool accept_connections_ ABSL_GUARDED_BY(mu_) = true;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  std::string temp_dir_ ABSL_GUARDED_BY(mu_);
  std::string cert_file_ ABSL_GUARDED_BY(mu_);
  // Set by Start() before any thread runs, read-only afterwards.
  SSL_CTX* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::thread accept_thread_;
  std::vector<std::thread> session_threads_ ABSL_GUARDED_BY(mu_);
  std::set<int> live_fds_ ABSL_GUARDED_BY(mu_);

  std::vector<ReceivedMessage> messages_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<int, std::string>> commands_ ABSL_GUARDED_BY(mu_);
  int connections_ ABSL_GUARDED_BY(mu_) = 0;
  int closed_connections_ ABSL_GUARDED_BY(mu_) = 0;
  int max_commands_in_one_read_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_queue_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace deliverd::testing

#endif  // DELIVERD_TESTS_TESTING_SMTP_SERVER_H_
