// One TCP connection to an SMTP server, plain or TLS (implicit or upgraded
// by STARTTLS), with a deadline on every read and write.
//
// It speaks bytes and lines, not SMTP: the protocol lives in smtp_session.
// Reads are buffered, so replies the server sent together (a pipelined
// group) are taken from the buffer in order.
//
// TLS uses OpenSSL. By default the peer's certificate chain is verified
// against the system's trust store (or the configured CA file) and its name
// against the host we dialled (DNS name or IP address); `verify = false` is
// for test relays with self-signed certificates and must be asked for.
//
// Not thread-safe: one session owns a channel. Errors: UNAVAILABLE for
// connection trouble (refused, reset, closed), DEADLINE_EXCEEDED for a
// timeout, FAILED_PRECONDITION for TLS verification or configuration
// failures (retrying will not help until someone fixes something).
#ifndef DELIVERD_SERVER_DELIVERY_SMTP_CHANNEL_H_
#define DELIVERD_SERVER_DELIVERY_SMTP_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace deliverd::delivery {

struct TlsOptions {
  bool verify = true;
  // PEM file of trusted certificates; empty means the system's store.
  std::string ca_file;
};

// An OpenSSL client context, shared by all connections of a transport.
// Thread-safe once built.
class TlsContext {
 public:
  static absl::StatusOr<std::unique_ptr<TlsContext>> Create(
      const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  bool verify() const { return verify_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  SSL_CTX* ctx_;
  bool verify_;
};

class SmtpChannel {
 public:
  // Resolves `host` and connects to the first address that answers.
  static absl::StatusOr<std::unique_ptr<SmtpChannel>> Connect(
      const std::string& host, int port, absl::Time deadline);
  ~SmtpChannel();
  SmtpChannel(const SmtpChannel&) = delete;
  SmtpChannel& operator=(const SmtpChannel&) = delete;

  // Performs a TLS client handshake on the open connection (implicit TLS
  // right after Connect, or after a 220 to STARTTLS). `host` is the name
  // the certificate must carry when verifying.
  absl::Status StartTls(const TlsContext& tls, const std::string& host,
                        absl::Time deadline);

  // Reads one line without its CRLF (a bare LF also ends a line). A line
  // longer than `max_line` is an error: a server that sends one is broken
  // or hostile, and buffering it would be unbounded.
  absl::StatusOr<std::string> ReadLine(size_t max_line, absl::Time deadline);
  // Writes all of `data`.
  absl::Status Write(absl::string_view data, absl::Time deadline);
  // Bytes received but not yet returned by ReadLine (a server that answers
  // before being asked, or pipelining evidence for tests).
  size_t buffered() const { return buffer_.size() - buffer_start_; }

  bool tls() const { return ssl_ != nullptr; }
  // "host[ip]:port", for evidence.
  const std::string& peer() const { return peer_; }
  // The negotiated protocol and cipher ("TLSv1.3 TLS_AES_256_GCM_SHA384"),
  // empty when plain.
  std::string TlsDescription() const;

 private:
  SmtpChannel(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}
  // Waits until the socket is readable (or writable); false on timeout.
  absl::Status WaitFor(bool writable, absl::Time deadline, const char* what);
  absl::Status Fill(absl::Time deadline);

  int fd_;
  std::string peer_;
  SSL* ssl_ = nullptr;
  std::string buffer_;
  // Set by a write on a plain connection and cleared by the next Fill:
  // the peer has not answered yet, so a read would only say EAGAIN. Fill
  // then waits for the socket before reading, which saves a system call
  // per reply (two per relayed message).
  bool awaiting_answer_ = false;
  size_t buffer_start_ = 0;
};

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_SMTP_CHANNEL_H_
