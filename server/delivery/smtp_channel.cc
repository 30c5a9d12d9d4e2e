#include "server/delivery/smtp_channel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace deliverd::delivery {
namespace {

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

int MillisUntil(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(left) + 1;
  return ms > 1000000 ? 1000000 : static_cast<int>(ms);
}

bool IsIpLiteral(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::Create(
    const TlsOptions& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    return absl::InternalError(absl::StrCat("TLS: ", OpenSslErrors()));
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (options.verify) {
    int ok = options.ca_file.empty()
                 ? SSL_CTX_set_default_verify_paths(ctx)
                 : SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(),
                                                 nullptr);
    if (ok != 1) {
      std::string errors = OpenSslErrors();
      SSL_CTX_free(ctx);
      return absl::FailedPreconditionError(absl::StrCat(
          "TLS: cannot load trusted certificates",
          options.ca_file.empty() ? "" : absl::StrCat(" from ", options.ca_file),
          ": ", errors));
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return std::unique_ptr<TlsContext>(new TlsContext(ctx, options.verify));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::unique_ptr<SmtpChannel>> SmtpChannel::Connect(
    const std::string& host, int port, absl::Time deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0) {
      last_error = strerror(errno);
      continue;
    }
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ai->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr,
                ip, sizeof(ip));
    } else if (ai->ai_family == AF_INET6) {
      inet_ntop(AF_INET6,
                &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, ip,
                sizeof(ip));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = absl::StrCat(ip, ": ", strerror(errno));
      close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int ready = poll(&p, 1, MillisUntil(deadline));
    int error = 0;
    socklen_t len = sizeof(error);
    if (ready <= 0) {
      last_error = absl::StrCat(ip, ": connect timed out");
      close(fd);
      if (ready == 0) {
        freeaddrinfo(found);
        return absl::DeadlineExceededError(
            absl::StrCat("connecting to ", host, ":", port, ": ", last_error));
      }
      continue;
    }
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      last_error = absl::StrCat(ip, ": ", strerror(error));
      close(fd);
      continue;
    }
    freeaddrinfo(found);
    return std::unique_ptr<SmtpChannel>(
        new SmtpChannel(fd, absl::StrCat(host, "[", ip, "]:", port)));
  }
  freeaddrinfo(found);
  return absl::UnavailableError(
      absl::StrCat("cannot connect to ", host, ":", port, ": ", last_error));
}

SmtpChannel::~SmtpChannel() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // no close_notify: QUIT ends SMTP
  close(fd_);
}

absl::Status SmtpChannel::WaitFor(bool writable, absl::Time deadline,
                                  const char* what) {
  pollfd p{fd_, static_cast<short>(writable ? POLLOUT : POLLIN), 0};
  while (true) {
    int ready = poll(&p, 1, MillisUntil(deadline));
    if (ready > 0) return absl::OkStatus();
    if (ready == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out ", what, " ", peer_));
    }
    if (errno != EINTR) {
      return absl::UnavailableError(
          absl::StrCat(what, " ", peer_, ": ", strerror(errno)));
    }
  }
}

absl::Status SmtpChannel::StartTls(const TlsContext& tls,
                                   const std::string& host,
                                   absl::Time deadline) {
  if (ssl_ != nullptr) {
    return absl::FailedPreconditionError("TLS already started");
  }
  if (buffered() != 0) {
    // Bytes that arrived before the handshake were not protected by it
    // (a command-injection attempt against STARTTLS); refuse to go on.
    return absl::FailedPreconditionError(
        absl::StrCat(peer_, " sent data before the TLS handshake"));
  }
  ssl_ = SSL_new(tls.get());
  if (ssl_ == nullptr) {
    return absl::InternalError(absl::StrCat("TLS: ", OpenSslErrors()));
  }
  SSL_set_fd(ssl_, fd_);
  bool ip = IsIpLiteral(host);
  if (!ip) SSL_set_tlsext_host_name(ssl_, host.c_str());
  if (tls.verify()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (ok != 1) {
      return absl::InternalError(absl::StrCat("TLS: ", OpenSslErrors()));
    }
  }
  ERR_clear_error();
  while (true) {
    int rc = SSL_connect(ssl_);
    if (rc == 1) return absl::OkStatus();
    int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      absl::Status waited =
          WaitFor(err == SSL_ERROR_WANT_WRITE, deadline, "in TLS handshake with");
      if (!waited.ok()) return waited;
      continue;
    }
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "TLS certificate of ", peer_, " not accepted: ",
          X509_verify_cert_error_string(verify)));
    }
    return absl::UnavailableError(absl::StrCat("TLS handshake with ", peer_,
                                               " failed: ", OpenSslErrors()));
  }
}

std::string SmtpChannel::TlsDescription() const {
  if (ssl_ == nullptr) return "";
  return absl::StrCat(SSL_get_version(ssl_), " ",
                      SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_)));
}

absl::Status SmtpChannel::Fill(absl::Time deadline) {
  if (buffer_start_ > 0 && buffer_start_ == buffer_.size()) {
    buffer_.clear();
    buffer_start_ = 0;
  } else if (buffer_start_ > 65536) {
    buffer_.erase(0, buffer_start_);
    buffer_start_ = 0;
  }
  char chunk[16384];
  while (true) {
    ssize_t n;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int rc = SSL_read(ssl_, chunk, sizeof(chunk));
      if (rc > 0) {
        buffer_.append(chunk, rc);
        return absl::OkStatus();
      }
      int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        absl::Status waited =
            WaitFor(err == SSL_ERROR_WANT_WRITE, deadline, "waiting for");
        if (!waited.ok()) return waited;
        continue;
      }
      if (err == SSL_ERROR_ZERO_RETURN) {
        return absl::UnavailableError(
            absl::StrCat(peer_, " closed the connection"));
      }
      return absl::UnavailableError(
          absl::StrCat("reading from ", peer_, ": ",
                       err == SSL_ERROR_SYSCALL ? "connection lost"
                                                : OpenSslErrors()));
    }
    if (awaiting_answer_) {
      awaiting_answer_ = false;
      absl::Status waited = WaitFor(false, deadline, "waiting for");
      if (!waited.ok()) return waited;
    }
    n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, n);
      return absl::OkStatus();
    }
    if (n == 0) {
      return absl::UnavailableError(
          absl::StrCat(peer_, " closed the connection"));
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      absl::Status waited = WaitFor(false, deadline, "waiting for");
      if (!waited.ok()) return waited;
      continue;
    }
    if (errno == EINTR) continue;
    return absl::UnavailableError(
        absl::StrCat("reading from ", peer_, ": ", strerror(errno)));
  }
}

absl::StatusOr<std::string> SmtpChannel::ReadLine(size_t max_line,
                                                  absl::Time deadline) {
  // Counted from buffer_start_: Fill() may move the unread bytes.
  size_t scanned = 0;
  while (true) {
    size_t lf = buffer_.find('\n', buffer_start_ + scanned);
    if (lf != std::string::npos) {
      size_t end = lf;
      if (end > buffer_start_ && buffer_[end - 1] == '\r') --end;
      if (end - buffer_start_ > max_line) break;
      std::string line = buffer_.substr(buffer_start_, end - buffer_start_);
      buffer_start_ = lf + 1;
      return line;
    }
    if (buffer_.size() - buffer_start_ > max_line + 1) break;
    scanned = buffer_.size() - buffer_start_;
    absl::Status filled = Fill(deadline);
    if (!filled.ok()) return filled;
  }
  return absl::UnavailableError(absl::StrCat(
      peer_, " sent a line longer than ", max_line, " bytes"));
}

absl::Status SmtpChannel::Write(absl::string_view data, absl::Time deadline) {
  while (!data.empty()) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      size_t chunk = std::min<size_t>(data.size(), 1 << 20);
      int rc = SSL_write(ssl_, data.data(), static_cast<int>(chunk));
      if (rc > 0) {
        data.remove_prefix(rc);
        continue;
      }
      int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        absl::Status waited =
            WaitFor(err == SSL_ERROR_WANT_WRITE, deadline, "writing to");
        if (!waited.ok()) return waited;
        continue;
      }
      return absl::UnavailableError(
          absl::StrCat("writing to ", peer_, ": ",
                       err == SSL_ERROR_SYSCALL ? "connection lost"
                                                : OpenSslErrors()));
    }
    ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(n);
      awaiting_answer_ = true;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      absl::Status waited = WaitFor(true, deadline, "writing to");
      if (!waited.ok()) return waited;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return absl::UnavailableError(
        absl::StrCat("writing to ", peer_, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace deliverd::delivery
