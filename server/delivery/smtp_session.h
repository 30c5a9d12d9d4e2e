// One SMTP client session (RFC 5321) with a relay: greeting, EHLO (HELO
// when EHLO is refused), STARTTLS (RFC 3207), AUTH PLAIN / LOGIN (RFC 4954),
// then any number of mail transactions, each reporting every recipient's
// fate, and QUIT.
//
// Why our own client rather than libESMTP (which Debian ships): libESMTP's
// session connects, sends what was queued on it and quits, so it cannot keep
// a pool of warm connections across the dispatcher's messages; its AUTH goes
// through run-time SASL plugins; and it reports replies through callbacks
// that lose the raw enhanced codes we classify. Keeping connections open is
// what makes a relay fast (no TCP and TLS handshake, EHLO and AUTH per
// message; bench/smtp_client_bench measures it), and the reply parsing and
// classification are our core anyway (hygiene/bounce).
//
// Extensions used when the server offers them: PIPELINING (RFC 2920: MAIL,
// every RCPT and DATA go in one write), SIZE (RFC 1870: declared, and a
// message over the server's limit is not sent), 8BITMIME (RFC 6152, for
// 8-bit bodies), SMTPUTF8 (RFC 6531, required for non-ASCII addresses: a
// server without it fails the message rather than mangling the addresses),
// DSN (RFC 3461: RET, ENVID, NOTIFY, ORCPT).
//
// Timeouts default to RFC 5321 section 4.5.3.2's; a relay that does not
// answer in time gives DEADLINE_EXCEEDED and the session is unusable.
//
// Not thread-safe: the transport's pool hands a session to one sender at a
// time.
#ifndef DELIVERD_SERVER_DELIVERY_SMTP_SESSION_H_
#define DELIVERD_SERVER_DELIVERY_SMTP_SESSION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/delivery/smtp_channel.h"
#include "server/store/types.h"

namespace deliverd::delivery {

enum class TlsMode {
  kNone,       // plain text throughout
  kStartTls,   // STARTTLS required: a server not offering it fails
  kImplicit,   // TLS from the first byte (smtps, port 465)
};

struct SmtpTimeouts {
  absl::Duration connect = absl::Seconds(30);
  absl::Duration greeting = absl::Minutes(5);
  absl::Duration command = absl::Minutes(5);  // EHLO, AUTH, MAIL, RCPT, RSET
  absl::Duration data_start = absl::Minutes(2);
  absl::Duration data_block = absl::Minutes(3);
  absl::Duration data_end = absl::Minutes(10);

  // Every timeout capped at `limit` (a configuration shortcut).
  void CapAt(absl::Duration limit);
};

struct SmtpSessionOptions {
  std::string host;
  int port = 25;
  TlsMode tls = TlsMode::kStartTls;
  const TlsContext* tls_context = nullptr;  // required unless kNone
  std::string helo_name = "localhost";
  // AUTH when `user` is set; refused over plain text unless tls is kNone
  // by explicit choice.
  std::string user;
  std::string password;
  SmtpTimeouts timeouts;
};

struct SmtpExtensions {
  bool esmtp = false;  // EHLO accepted
  bool pipelining = false;
  bool starttls = false;
  bool eight_bit_mime = false;
  bool smtputf8 = false;
  bool dsn = false;
  bool enhanced_status_codes = false;
  std::optional<int64_t> max_size;  // SIZE n (0 means no limit declared)
  std::vector<std::string> auth_mechanisms;  // upper case
};

struct SmtpTransaction {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  bool smtputf8 = false;
  // RFC 3461 parameters, sent only when the server offers DSN.
  std::string envelope_id;  // ENVID (xtext-encoded by the session)
  bool notify_failure_delay = true;
};

// What happened to one transaction. A recipient refused at RCPT carries
// that reply; accepted recipients carry the reply to the end of DATA.
struct SmtpTransactionResult {
  std::vector<store::Reply> recipient_replies;  // one per rcpt_to
  // The reply that decided the transaction as a whole (MAIL's refusal, the
  // end of DATA), for the transport's detail line.
  store::Reply final_reply;
};

class SmtpSession {
 public:
  // Connects, reads the greeting, says EHLO/HELO, upgrades to TLS and
  // authenticates as configured. UNAVAILABLE / DEADLINE_EXCEEDED are worth
  // retrying later; PERMISSION_DENIED (credentials refused) and
  // FAILED_PRECONDITION (TLS or AUTH not possible, certificate refused) need
  // someone to change the configuration.
  static absl::StatusOr<std::unique_ptr<SmtpSession>> Open(
      const SmtpSessionOptions& options);
  ~SmtpSession();

  // Runs one transaction. Replies from the server, good or bad, are results
  // (never errors); an error means the connection failed or misbehaved and
  // the session must be dropped. `data` is a complete message with CRLF
  // line ends; dot-stuffing is done here. A refusal decided before sending
  // (SIZE over the limit, SMTPUTF8 unsupported) is FAILED_PRECONDITION or a
  // synthesised 5xx reply, as documented in the .cc.
  absl::StatusOr<SmtpTransactionResult> Send(const SmtpTransaction& txn,
                                             absl::string_view data);

  // RSET, to recover a usable session after a refused transaction.
  absl::Status Reset();
  // Sends QUIT and waits briefly for the reply; the session is done.
  void Quit();

  const SmtpExtensions& extensions() const { return extensions_; }
  bool tls() const { return channel_->tls(); }
  const std::string& peer() const { return channel_->peer(); }
  int transactions() const { return transactions_; }
  // Replies read over the session's life (the transport uses it to tell
  // whether a failed transaction got any answer at all).
  int replies_read() const { return replies_read_; }
  // False once an I/O error or a 421 made the connection unusable.
  bool usable() const { return usable_; }

 private:
  SmtpSession(SmtpSessionOptions options, std::unique_ptr<SmtpChannel> channel)
      : options_(std::move(options)), channel_(std::move(channel)) {}

  absl::Status Handshake();
  absl::Status Hello(absl::Time deadline);
  absl::Status Authenticate();
  absl::StatusOr<store::Reply> Command(absl::string_view line,
                                       absl::Duration timeout);
  absl::StatusOr<store::Reply> ReadReply(absl::Time deadline,
                                         std::vector<std::string>* lines);
  absl::Status Fail(absl::Status status);

  SmtpSessionOptions options_;
  std::unique_ptr<SmtpChannel> channel_;
  SmtpExtensions extensions_;
  int transactions_ = 0;
  int replies_read_ = 0;
  bool usable_ = true;
};

// Exposed for tests: dot-stuffing and line normalisation of a message body
// for DATA (a lone "." line becomes "..", every line ends in CRLF, and the
// terminating ".\r\n" is appended).
std::string DotStuff(absl::string_view data);

// RFC 3461 xtext: '+', '=', controls and non-ASCII as "+XX".
std::string XText(absl::string_view text);

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_SMTP_SESSION_H_
