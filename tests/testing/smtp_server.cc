#include "testing/smtp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace deliverd::testing {
namespace {

// A command line longer than this (without CRLF) ends the session.
constexpr size_t kMaxCommandLine = 64 * 1024;
// Idle bound while discarding input before closing a connection.
constexpr int kDrainIdleMillis = 5000;

std::string OpenSslError(absl::string_view what) {
  std::string out(what);
  unsigned long err;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    absl::StrAppend(&out, ": ", buf);
  }
  return out;
}

// The reply code of a reply ("250 ..." -> 250), else 0.
int ReplyCode(absl::string_view reply) {
  int code = 0;
  if (reply.size() < 3 || !absl::SimpleAtoi(reply.substr(0, 3), &code)) {
    return 0;
  }
  return code;
}

bool IsPositive(absl::string_view reply) {
  int code = ReplyCode(reply);
  return code >= 200 && code < 300;
}

// A reply as sent: each line ("\r\n" or "\n" separated) ends with CRLF.
std::string WireReply(absl::string_view reply) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(reply, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) continue;
    absl::StrAppend(&out, line, "\r\n");
  }
  return out;
}

// Parses "FROM:<addr> params" (prefix "FROM:") into its parts.
bool ParsePath(absl::string_view arg, absl::string_view prefix,
               std::string* address, std::string* params) {
  if (!absl::StartsWithIgnoreCase(arg, prefix)) return false;
  arg.remove_prefix(prefix.size());
  arg = absl::StripLeadingAsciiWhitespace(arg);
  if (!absl::ConsumePrefix(&arg, "<")) return false;
  size_t end = arg.find('>');
  if (end == absl::string_view::npos) return false;
  *address = std::string(arg.substr(0, end));
  *params = std::string(absl::StripAsciiWhitespace(arg.substr(end + 1)));
  return true;
}

// Adds an X.509v3 extension given in openssl.cnf syntax.
bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A self-signed P-256 certificate for localhost / 127.0.0.1 in a server
// context; its PEM is written to `cert_path`.
absl::Status MakeTlsContext(const std::string& cert_path, SSL_CTX** out) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return absl::InternalError(OpenSslError("EVP_EC_gen"));
  X509* cert = X509_new();
  SSL_CTX* ctx = nullptr;
  absl::Status status;
  auto fail = [&status](absl::string_view what) {
    status = absl::InternalError(OpenSslError(what));
  };
  do {
    if (cert == nullptr) {
      fail("X509_new");
      break;
    }
    unsigned char serial[8];
    std::memset(serial, 0, sizeof(serial));
    uint64_t now = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
    for (int i = 0; i < 8; ++i) serial[i] = (now >> (8 * i)) & 0xff;
    serial[0] &= 0x7f;  // Positive.
    BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
    bool serial_ok =
        bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
    if (!serial_ok || X509_set_version(cert, 2) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(cert), 86400) == nullptr ||
        X509_set_pubkey(cert, key) != 1) {
      fail("certificate fields");
      break;
    }
    X509_NAME* name = X509_get_subject_name(cert);
    if (X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
            0) != 1 ||
        X509_set_issuer_name(cert, name) != 1) {
      fail("certificate name");
      break;
    }
    if (!AddExtension(cert, NID_basic_constraints, "critical,CA:TRUE") ||
        !AddExtension(cert, NID_key_usage,
                      "critical,digitalSignature,keyCertSign") ||
        !AddExtension(cert, NID_ext_key_usage, "serverAuth") ||
        !AddExtension(cert, NID_subject_key_identifier, "hash") ||
        !AddExtension(cert, NID_authority_key_identifier, "keyid:always") ||
        !AddExtension(cert, NID_subject_alt_name,
                      "DNS:localhost,IP:127.0.0.1")) {
      fail("certificate extensions");
      break;
    }
    if (X509_sign(cert, key, EVP_sha256()) == 0) {
      fail("X509_sign");
      break;
    }
    BIO* bio = BIO_new_file(cert_path.c_str(), "w");
    if (bio == nullptr) {
      fail(absl::StrCat("writing ", cert_path));
      break;
    }
    bool written = PEM_write_bio_X509(bio, cert) == 1;
    written = BIO_free(bio) == 1 && written;
    if (!written) {
      fail(absl::StrCat("writing ", cert_path));
      break;
    }
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr) {
      fail("SSL_CTX_new");
      break;
    }
    if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      fail("SSL_CTX certificate");
      SSL_CTX_free(ctx);
      ctx = nullptr;
      break;
    }
  } while (false);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (status.ok()) *out = ctx;
  return status;
}

}  // namespace

// One connection: a buffered reader over the socket (or TLS after
// STARTTLS) and the SMTP state machine.
class SmtpServer::Session {
 public:
  Session(SmtpServer* server, int fd, int index)
      : server_(server), fd_(fd), index_(index) {}
  ~Session() {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Serves the connection until it ends; the caller closes the socket.
  void Run();

 private:
  // How a command leaves the session.
  enum class Next {
    kContinue,
    kClose,  // Orderly: TLS close_notify, then the half-close.
    kDrop,   // Abrupt: no TLS close_notify, no reply.
  };
  enum class ReadResult { kLine, kBareLf, kTooLong, kClosed };

  SmtpServerOptions Options() {
    absl::MutexLock lock(&server_->mu_);
    return server_->options_;
  }
  void Record(std::string line) {
    absl::MutexLock lock(&server_->mu_);
    server_->commands_.emplace_back(index_, std::move(line));
  }
  void ResetTransaction() {
    in_mail_ = false;
    mail_from_.clear();
    mail_params_.clear();
    rcpts_.clear();
  }

  bool Fill();
  bool Write(absl::string_view data);
  Next Reply(absl::string_view reply);
  ReadResult ReadLine(std::string* line, bool count_pipelined);
  bool ReadData(int64_t drop_after, std::string* data);
  void Finish(Next how);

  Next Handle(const std::string& line);
  Next Ehlo(const SmtpServerOptions& o, absl::string_view arg);
  Next Helo(const SmtpServerOptions& o, absl::string_view arg);
  Next StartTls(const SmtpServerOptions& o, absl::string_view arg);
  Next Auth(const SmtpServerOptions& o, absl::string_view arg);
  Next Mail(const SmtpServerOptions& o, absl::string_view arg);
  Next Rcpt(const SmtpServerOptions& o, absl::string_view arg);
  Next Data(const SmtpServerOptions& o, absl::string_view arg);
  // Reads the answer to a 334 challenge, base64-decoded; false when the
  // exchange failed (*next says how to go on).
  bool AuthResponse(absl::string_view challenge, absl::string_view initial,
                    std::string* decoded, Next* next);

  SmtpServer* const server_;
  const int fd_;
  const int index_;
  SSL* ssl_ = nullptr;
  std::string in_;  // Received, not yet processed.

  bool no_service_ = false;  // Non-2xx greeting: only QUIT works.
  bool greeted_ = false;
  std::string auth_user_;
  bool in_mail_ = false;
  int messages_on_connection_ = 0;
  std::string mail_from_;
  std::string mail_params_;
  std::vector<ReceivedRecipient> rcpts_;
};

bool SmtpServer::Session::Fill() {
  char buf[16384];
  if (ssl_ != nullptr) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n <= 0) return false;
    in_.append(buf, n);
    return true;
  }
  ssize_t n;
  do {
    n = recv(fd_, buf, sizeof(buf), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  in_.append(buf, n);
  return true;
}

bool SmtpServer::Session::Write(absl::string_view data) {
  while (!data.empty()) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (n <= 0) return false;
      data.remove_prefix(n);
      continue;
    }
    ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(n);
  }
  return true;
}

SmtpServer::Session::Next SmtpServer::Session::Reply(absl::string_view reply) {
  if (!Write(WireReply(reply))) return Next::kDrop;
  return ReplyCode(reply) == 421 ? Next::kClose : Next::kContinue;
}

SmtpServer::Session::ReadResult SmtpServer::Session::ReadLine(
    std::string* line, bool count_pipelined) {
  bool filled = false;
  while (true) {
    size_t end = in_.find('\n');
    if (end != std::string::npos) {
      if (filled && count_pipelined) {
        int lines = static_cast<int>(std::count(in_.begin(), in_.end(), '\n'));
        absl::MutexLock lock(&server_->mu_);
        server_->max_commands_in_one_read_ =
            std::max(server_->max_commands_in_one_read_, lines);
      }
      line->assign(in_, 0, end);
      in_.erase(0, end + 1);
      if (line->empty() || line->back() != '\r') return ReadResult::kBareLf;
      line->pop_back();
      return ReadResult::kLine;
    }
    if (in_.size() > kMaxCommandLine) return ReadResult::kTooLong;
    if (!Fill()) return ReadResult::kClosed;
    filled = true;
  }
}

bool SmtpServer::Session::ReadData(int64_t drop_after, std::string* data) {
  int64_t raw = 0;  // Content bytes read, as sent (dot-stuffed).
  size_t pos = 0;   // Start of the next line in in_.
  while (true) {
    if (drop_after >= 0 && raw >= drop_after) return false;
    size_t end = in_.find("\r\n", pos);
    if (end == std::string::npos) {
      absl::string_view rest = absl::string_view(in_).substr(pos);
      // A partial final dot line is not content.
      bool maybe_end = rest == "." || rest == ".\r";
      if (drop_after >= 0 && !maybe_end &&
          raw + static_cast<int64_t>(rest.size()) >= drop_after) {
        return false;
      }
      in_.erase(0, pos);
      pos = 0;
      if (!Fill()) return false;
      continue;
    }
    absl::string_view line = absl::string_view(in_).substr(pos, end + 2 - pos);
    if (line == ".\r\n") {
      in_.erase(0, end + 2);
      return true;
    }
    if (drop_after >= 0 &&
        raw + static_cast<int64_t>(line.size()) >= drop_after) {
      return false;
    }
    raw += line.size();
    if (absl::StartsWith(line, ".")) line.remove_prefix(1);
    data->append(line.data(), line.size());
    pos = end + 2;
  }
}

void SmtpServer::Session::Finish(Next how) {
  if (how == Next::kClose && ssl_ != nullptr) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // Sends close_notify; does not wait for the peer's.
  }
  // Half-close, then discard input until the peer closes: closing with
  // unread input would send a reset, which may destroy the last reply
  // before the peer reads it.
  shutdown(fd_, SHUT_WR);
  char buf[4096];
  while (true) {
    pollfd pfd = {fd_, POLLIN, 0};
    int r = poll(&pfd, 1, kDrainIdleMillis);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
  }
}

void SmtpServer::Session::Run() {
  SmtpServerOptions o;
  bool accept;
  {
    absl::MutexLock lock(&server_->mu_);
    o = server_->options_;
    accept = server_->accept_connections_;
  }
  if (!accept) {
    Reply("421 4.3.0 try later");
    Finish(Next::kClose);
    return;
  }
  if (o.implicit_tls) {
    // SMTPS: the handshake comes before the greeting (RFC 8314).
    ssl_ = SSL_new(server_->ssl_ctx_);
    ERR_clear_error();
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1 || SSL_accept(ssl_) != 1) {
      if (ssl_ != nullptr) SSL_free(ssl_);
      ssl_ = nullptr;
      Finish(Next::kDrop);
      return;
    }
  }
  std::string greeting = o.greeting_reply.empty()
                             ? absl::StrCat("220 ", o.hostname, " ESMTP")
                             : o.greeting_reply;
  Next next = Reply(greeting);
  if (next == Next::kContinue && o.drop_after_greeting) next = Next::kDrop;
  if (next != Next::kContinue) {
    Finish(next);
    return;
  }
  no_service_ = !IsPositive(greeting);
  while (next == Next::kContinue) {
    std::string line;
    switch (ReadLine(&line, /*count_pipelined=*/true)) {
      case ReadResult::kLine:
        next = Handle(line);
        break;
      case ReadResult::kBareLf:
        Record(line);
        next = Reply("500 5.5.2 Line must end with CRLF");
        break;
      case ReadResult::kTooLong:
        Reply("500 5.5.2 Line too long");
        next = Next::kClose;
        break;
      case ReadResult::kClosed:
        next = Next::kDrop;
        break;
    }
  }
  Finish(next);
}

SmtpServer::Session::Next SmtpServer::Session::Handle(const std::string& line) {
  absl::string_view view(line);
  size_t space = view.find(' ');
  std::string verb = absl::AsciiStrToUpper(view.substr(0, space));
  absl::string_view arg =
      space == absl::string_view::npos ? "" : view.substr(space + 1);
  if (verb == "AUTH") {
    // Never record credentials.
    std::vector<absl::string_view> words =
        absl::StrSplit(arg, ' ', absl::SkipEmpty());
    std::string masked = "AUTH";
    if (!words.empty())
      absl::StrAppend(&masked, " ", absl::AsciiStrToUpper(words[0]));
    if (words.size() > 1) absl::StrAppend(&masked, " ***");
    Record(masked);
  } else {
    Record(line);
  }
  if (verb == "QUIT") {
    Reply("221 2.0.0 Bye");
    return Next::kClose;
  }
  if (no_service_) return Reply("503 5.5.1 No service");
  SmtpServerOptions o = Options();
  if (verb == "EHLO") return Ehlo(o, arg);
  if (verb == "HELO") return Helo(o, arg);
  if (verb == "STARTTLS") return StartTls(o, arg);
  if (verb == "AUTH") return Auth(o, arg);
  if (verb == "MAIL") return Mail(o, arg);
  if (verb == "RCPT") return Rcpt(o, arg);
  if (verb == "DATA") return Data(o, arg);
  if (verb == "RSET") {
    ResetTransaction();
    return Reply("250 2.0.0 Ok");
  }
  if (verb == "NOOP") return Reply("250 2.0.0 Ok");
  return Reply("500 5.5.2 Command not recognized");
}

SmtpServer::Session::Next SmtpServer::Session::Ehlo(const SmtpServerOptions& o,
                                                    absl::string_view arg) {
  if (!o.ehlo) return Reply("502 5.5.1 EHLO not supported, use HELO");
  arg = absl::StripAsciiWhitespace(arg);
  if (arg.empty()) return Reply("501 5.5.4 Syntax: EHLO hostname");
  ResetTransaction();
  greeted_ = true;
  std::vector<std::string> lines = {absl::StrCat(o.hostname, " greets ", arg)};
  if (o.pipelining) lines.push_back("PIPELINING");
  if (o.size > 0) lines.push_back(absl::StrCat("SIZE ", o.size));
  if (o.eight_bit_mime) lines.push_back("8BITMIME");
  if (o.smtputf8) lines.push_back("SMTPUTF8");
  if (o.dsn) lines.push_back("DSN");
  if (o.starttls && ssl_ == nullptr) lines.push_back("STARTTLS");
  if (o.auth) lines.push_back("AUTH PLAIN LOGIN");
  lines.push_back("ENHANCEDSTATUSCODES");
  std::string reply;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::StrAppend(&reply, i + 1 < lines.size() ? "250-" : "250 ", lines[i],
                    "\r\n");
  }
  return Reply(reply);
}

SmtpServer::Session::Next SmtpServer::Session::Helo(const SmtpServerOptions& o,
                                                    absl::string_view arg) {
  if (absl::StripAsciiWhitespace(arg).empty()) {
    return Reply("501 5.5.4 Syntax: HELO hostname");
  }
  ResetTransaction();
  greeted_ = true;
  return Reply(absl::StrCat("250 ", o.hostname));
}

SmtpServer::Session::Next SmtpServer::Session::StartTls(
    const SmtpServerOptions& o, absl::string_view arg) {
  if (ssl_ != nullptr) return Reply("503 5.5.1 TLS already active");
  if (!o.starttls) return Reply("502 5.5.1 STARTTLS not supported");
  if (!arg.empty()) return Reply("501 5.5.4 Syntax: STARTTLS");
  Next next = Reply("220 2.0.0 Ready to start TLS");
  if (next != Next::kContinue) return next;
  // RFC 3207: anything pipelined after STARTTLS is discarded.
  in_.clear();
  ssl_ = SSL_new(server_->ssl_ctx_);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return Next::kDrop;
  ERR_clear_error();
  if (SSL_accept(ssl_) != 1) {
    // Nothing more can be said on this connection.
    SSL_free(ssl_);
    ssl_ = nullptr;
    return Next::kDrop;
  }
  // RFC 3207: the session starts over.
  greeted_ = false;
  auth_user_.clear();
  ResetTransaction();
  return Next::kContinue;
}

bool SmtpServer::Session::AuthResponse(absl::string_view challenge,
                                       absl::string_view initial,
                                       std::string* decoded, Next* next) {
  std::string response(initial);
  if (response.empty()) {
    *next = Reply(absl::StrCat("334 ", challenge));
    if (*next != Next::kContinue) return false;
    switch (ReadLine(&response, /*count_pipelined=*/false)) {
      case ReadResult::kLine:
        break;
      case ReadResult::kClosed:
        *next = Next::kDrop;
        return false;
      default:
        *next = Reply("500 5.5.2 Line must end with CRLF");
        return false;
    }
    if (response == "*") {
      *next = Reply("501 5.7.0 Authentication cancelled");
      return false;
    }
  }
  if (response == "=") {
    decoded->clear();
    return true;
  }
  if (!absl::Base64Unescape(response, decoded)) {
    *next = Reply("501 5.5.2 Cannot decode response");
    return false;
  }
  return true;
}

SmtpServer::Session::Next SmtpServer::Session::Auth(const SmtpServerOptions& o,
                                                    absl::string_view arg) {
  if (!o.auth) return Reply("502 5.5.1 AUTH not supported");
  if (!greeted_) return Reply("503 5.5.1 Send EHLO first");
  if (o.require_tls && ssl_ == nullptr) {
    return Reply("530 5.7.0 Must issue a STARTTLS command first");
  }
  if (!auth_user_.empty()) return Reply("503 5.5.1 Already authenticated");
  if (in_mail_) return Reply("503 5.5.1 AUTH not allowed during a transaction");
  std::vector<absl::string_view> words =
      absl::StrSplit(arg, ' ', absl::SkipEmpty());
  if (words.empty() || words.size() > 2) {
    return Reply("501 5.5.4 Syntax: AUTH mechanism [initial-response]");
  }
  std::string mechanism = absl::AsciiStrToUpper(words[0]);
  absl::string_view initial = words.size() > 1 ? words[1] : "";
  Next next = Next::kContinue;
  std::string user;
  std::string password;
  if (mechanism == "PLAIN") {
    std::string decoded;
    if (!AuthResponse("", initial, &decoded, &next)) return next;
    std::vector<std::string> parts = absl::StrSplit(decoded, '\0');
    if (parts.size() != 3) {
      return Reply("501 5.5.2 Malformed PLAIN response");
    }
    if (!parts[0].empty() && parts[0] != parts[1]) {
      return Reply("535 5.7.8 Authentication credentials invalid");
    }
    user = parts[1];
    password = parts[2];
  } else if (mechanism == "LOGIN") {
    // "Username:" and "Password:".
    if (!AuthResponse("VXNlcm5hbWU6", initial, &user, &next)) return next;
    if (!AuthResponse("UGFzc3dvcmQ6", "", &password, &next)) return next;
  } else {
    return Reply("504 5.5.4 Unrecognized authentication type");
  }
  if (user != o.user || password != o.password) {
    return Reply("535 5.7.8 Authentication credentials invalid");
  }
  auth_user_ = user;
  return Reply("235 2.7.0 Authentication successful");
}

SmtpServer::Session::Next SmtpServer::Session::Mail(const SmtpServerOptions& o,
                                                    absl::string_view arg) {
  if (!greeted_) return Reply("503 5.5.1 Send HELO/EHLO first");
  if (o.require_tls && ssl_ == nullptr) {
    return Reply("530 5.7.0 Must issue a STARTTLS command first");
  }
  if (o.require_auth && auth_user_.empty()) {
    return Reply("530 5.7.0 Authentication required");
  }
  if (in_mail_) return Reply("503 5.5.1 Nested MAIL command");
  std::string address;
  std::string params;
  if (!ParsePath(arg, "FROM:", &address, &params)) {
    return Reply("501 5.5.4 Syntax: MAIL FROM:<address>");
  }
  if (o.size > 0) {
    for (absl::string_view param :
         absl::StrSplit(params, ' ', absl::SkipEmpty())) {
      int64_t declared = 0;
      if (absl::StartsWithIgnoreCase(param, "SIZE=") &&
          absl::SimpleAtoi(param.substr(5), &declared) && declared > o.size) {
        return Reply("552 5.3.4 Message size exceeds fixed limit");
      }
    }
  }
  if (IsPositive(o.mail_reply)) {
    in_mail_ = true;
    mail_from_ = std::move(address);
    mail_params_ = std::move(params);
  }
  return Reply(o.mail_reply);
}

SmtpServer::Session::Next SmtpServer::Session::Rcpt(const SmtpServerOptions& o,
                                                    absl::string_view arg) {
  if (!in_mail_) return Reply("503 5.5.1 Need MAIL command");
  ReceivedRecipient rcpt;
  if (!ParsePath(arg, "TO:", &rcpt.address, &rcpt.params)) {
    return Reply("501 5.5.4 Syntax: RCPT TO:<address>");
  }
  std::string reply =
      o.rcpt_reply ? o.rcpt_reply(rcpt.address) : "250 2.1.5 Ok";
  if (IsPositive(reply)) rcpts_.push_back(std::move(rcpt));
  return Reply(reply);
}

SmtpServer::Session::Next SmtpServer::Session::Data(const SmtpServerOptions& o,
                                                    absl::string_view arg) {
  if (!in_mail_) return Reply("503 5.5.1 Need MAIL command");
  if (rcpts_.empty()) return Reply("554 5.5.1 No valid recipients");
  if (!arg.empty()) return Reply("501 5.5.4 Syntax: DATA");
  Next next = Reply("354 End data with <CR><LF>.<CR><LF>");
  if (next != Next::kContinue) return next;
  ReceivedMessage message;
  if (!ReadData(o.drop_after_data_bytes, &message.data)) return Next::kDrop;
  message.mail_from = mail_from_;
  message.mail_params = mail_params_;
  message.rcpts = rcpts_;
  message.tls = ssl_ != nullptr;
  message.auth_user = auth_user_;
  message.connection = index_;
  {
    absl::MutexLock lock(&server_->mu_);
    message.queue_id = absl::StrCat("Q", server_->next_queue_id_++);
  }
  std::string reply;
  if (o.size > 0 && static_cast<int64_t>(message.data.size()) > o.size) {
    reply = "552 5.3.4 Message size exceeds fixed maximum message size";
  } else if (o.data_reply) {
    reply = o.data_reply(message);
  } else {
    reply = absl::StrCat("250 2.0.0 Ok: queued as ", message.queue_id);
  }
  message.reply = reply;
  {
    absl::MutexLock lock(&server_->mu_);
    server_->messages_.push_back(std::move(message));
    server_->changed_.SignalAll();
  }
  ResetTransaction();
  Next after = Reply(reply);
  if (after == Next::kContinue && o.close_after_messages > 0 &&
      ++messages_on_connection_ >= o.close_after_messages) {
    // As a server does when a kept-alive connection sits idle too long.
    return Next::kDrop;
  }
  return after;
}

SmtpServer::SmtpServer(SmtpServerOptions options)
    : options_(std::move(options)) {}

SmtpServer::~SmtpServer() {
  Stop();
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  absl::MutexLock lock(&mu_);
  if (!cert_file_.empty()) unlink(cert_file_.c_str());
  if (!temp_dir_.empty()) rmdir(temp_dir_.c_str());
}

absl::Status SmtpServer::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (started_ || stopping_) {
      return absl::FailedPreconditionError("already started or stopped");
    }
    started_ = true;
  }
  const char* base = std::getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string dir = absl::StrCat(base, "/smtp_server.XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", dir, ": ", std::strerror(errno)));
  }
  std::string cert = absl::StrCat(dir, "/cert.pem");
  {
    absl::MutexLock lock(&mu_);
    temp_dir_ = dir;
    cert_file_ = cert;
  }
  absl::Status tls = MakeTlsContext(cert, &ssl_ctx_);
  if (!tls.ok()) return tls;

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
  {
    absl::MutexLock lock(&mu_);
    port_ = ntohs(addr.sin_port);
  }
  accept_thread_ = std::thread(&SmtpServer::AcceptLoop, this);
  return absl::OkStatus();
}

void SmtpServer::AcceptLoop() {
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
    int index = connections_++;
    live_fds_.insert(fd);
    session_threads_.emplace_back(&SmtpServer::RunSession, this, fd, index);
    changed_.SignalAll();
  }
}

void SmtpServer::RunSession(int fd, int index) {
  // A write to a closed peer fails with EPIPE instead of killing the test
  // (OpenSSL writes without MSG_NOSIGNAL). SIGPIPE is thread-directed.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  {
    Session session(this, fd, index);
    session.Run();
  }
  {
    absl::MutexLock lock(&mu_);
    live_fds_.erase(fd);
  }
  close(fd);
  absl::MutexLock lock(&mu_);
  ++closed_connections_;
  changed_.SignalAll();
}

void SmtpServer::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    // Wakes every session blocked in a read or write; each closes its own
    // socket once it has unregistered it.
    for (int fd : live_fds_) shutdown(fd, SHUT_RDWR);
  }
  if (wake_pipe_[1] >= 0) {
    ssize_t ignored = write(wake_pipe_[1], "x", 1);
    (void)ignored;
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(session_threads_);
  }
  for (std::thread& thread : threads) thread.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  for (int& fd : wake_pipe_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

int SmtpServer::port() const {
  absl::MutexLock lock(&mu_);
  return port_;
}

std::string SmtpServer::cert_file() const {
  absl::MutexLock lock(&mu_);
  return cert_file_;
}

void SmtpServer::SetOptions(SmtpServerOptions options) {
  absl::MutexLock lock(&mu_);
  options_ = std::move(options);
}

SmtpServerOptions SmtpServer::options() const {
  absl::MutexLock lock(&mu_);
  return options_;
}

void SmtpServer::SetMailReply(std::string reply) {
  absl::MutexLock lock(&mu_);
  options_.mail_reply = std::move(reply);
}

void SmtpServer::SetRcptReply(
    std::function<std::string(const std::string&)> reply) {
  absl::MutexLock lock(&mu_);
  options_.rcpt_reply = std::move(reply);
}

void SmtpServer::SetDataReply(
    std::function<std::string(const ReceivedMessage&)> reply) {
  absl::MutexLock lock(&mu_);
  options_.data_reply = std::move(reply);
}

void SmtpServer::SetAcceptConnections(bool accept) {
  absl::MutexLock lock(&mu_);
  accept_connections_ = accept;
}

std::vector<ReceivedMessage> SmtpServer::messages() const {
  absl::MutexLock lock(&mu_);
  return messages_;
}

int SmtpServer::connections() const {
  absl::MutexLock lock(&mu_);
  return connections_;
}

int SmtpServer::closed_connections() const {
  absl::MutexLock lock(&mu_);
  return closed_connections_;
}

std::vector<std::string> SmtpServer::commands() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  out.reserve(commands_.size());
  for (const auto& [connection, line] : commands_) out.push_back(line);
  return out;
}

std::vector<std::string> SmtpServer::commands(int connection) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [index, line] : commands_) {
    if (index == connection) out.push_back(line);
  }
  return out;
}

int SmtpServer::max_commands_in_one_read() const {
  absl::MutexLock lock(&mu_);
  return max_commands_in_one_read_;
}

void SmtpServer::ClearRecords() {
  absl::MutexLock lock(&mu_);
  messages_.clear();
  commands_.clear();
  max_commands_in_one_read_ = 0;
}

bool SmtpServer::WaitUntil(const std::function<bool()>& done,
                           absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  while (!done()) {
    if (changed_.WaitWithDeadline(&mu_, deadline)) return done();
  }
  return true;
}

bool SmtpServer::WaitForMessages(size_t n, absl::Duration timeout) const {
  return WaitUntil(
      [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return messages_.size() >= n; },
      timeout);
}

bool SmtpServer::WaitForConnections(int n, absl::Duration timeout) const {
  return WaitUntil(
      [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return connections_ >= n; },
      timeout);
}

bool SmtpServer::WaitForClosedConnections(int n, absl::Duration timeout) const {
  return WaitUntil(
      [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return closed_connections_ >= n; },
      timeout);
}

}  // namespace deliverd::testing
