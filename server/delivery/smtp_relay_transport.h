// The production transport: hands every message to one SMTP relay (a
// smarthost such as the organisation's Postfix or a provider's submission
// service) over a bounded pool of kept-alive sessions.
//
// Each Send takes an idle session (or opens one while fewer than
// `max_connections` exist, else waits for one to come back), runs one
// transaction and returns the session to the pool. A session that has been
// idle too long, has carried `max_transactions_per_connection` messages or
// misbehaved is closed instead. A pooled session the relay closed while it
// sat idle fails before the relay said anything about the message; that is
// retried once on a fresh connection, so a relay's idle timeout never turns
// into a deferred message.
//
// Per recipient: 2xx accepted, 4xx transient, 5xx permanent; the reply is
// the evidence (for accepted recipients, the relay's reply to the end of
// DATA with its queue id). Errors: UNAVAILABLE / DEADLINE_EXCEEDED when the
// relay cannot be reached or dropped the connection (retry later);
// PERMISSION_DENIED when it refuses our credentials; FAILED_PRECONDITION
// when the configuration cannot work (no STARTTLS, certificate refused,
// SMTPUTF8 unsupported).
//
// Thread-safe: the dispatcher's workers call Send concurrently. Ignores
// SIGPIPE process-wide (a relay closing mid-write must be an error, not the
// end of the process).
#ifndef DELIVERD_SERVER_DELIVERY_SMTP_RELAY_TRANSPORT_H_
#define DELIVERD_SERVER_DELIVERY_SMTP_RELAY_TRANSPORT_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "server/delivery/smtp_channel.h"
#include "server/delivery/smtp_session.h"
#include "server/delivery/transport.h"

namespace deliverd::delivery {

struct SmtpRelayOptions {
  SmtpSessionOptions session;  // tls_context is filled in by Create
  TlsOptions tls;
  int max_connections = 4;
  int max_transactions_per_connection = 100;
  absl::Duration idle_timeout = absl::Seconds(60);
  // Ask for DSNs of failures and delays (NOTIFY) when the relay offers DSN.
  bool request_dsn = true;
};

class SmtpRelayTransport : public Transport {
 public:
  static absl::StatusOr<std::unique_ptr<SmtpRelayTransport>> Create(
      SmtpRelayOptions options);
  ~SmtpRelayTransport() override;

  absl::StatusOr<TransportResult> Send(const Envelope& envelope,
                                       absl::string_view data) override;
  std::string name() const override { return name_; }

  // Connections opened so far (for tests and metrics).
  int connections_opened() const;
  // Says QUIT on every idle session.
  void CloseIdle();

 private:
  struct Pooled {
    std::unique_ptr<SmtpSession> session;
    absl::Time idle_since;
  };
  explicit SmtpRelayTransport(SmtpRelayOptions options,
                              std::unique_ptr<TlsContext> tls);
  // An idle or new session; `reused` says which.
  absl::StatusOr<std::unique_ptr<SmtpSession>> Acquire(bool* reused);
  void Release(std::unique_ptr<SmtpSession> session);

  SmtpRelayOptions options_;
  std::unique_ptr<TlsContext> tls_;
  std::string name_;

  mutable std::mutex mu_;
  std::condition_variable returned_;
  std::deque<Pooled> idle_;
  int open_ = 0;  // idle plus in use
  int opened_total_ = 0;
};

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_SMTP_RELAY_TRANSPORT_H_
