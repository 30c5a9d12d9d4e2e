#include "server/delivery/smtp_relay_transport.h"

#include <signal.h>

#include "absl/strings/str_cat.h"

namespace deliverd::delivery {
namespace {

Outcome OutcomeOf(const store::Reply& reply) {
  if (reply.code >= 200 && reply.code < 300) return Outcome::kAccepted;
  if (reply.code >= 400 && reply.code < 500) return Outcome::kTransient;
  return Outcome::kPermanent;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SmtpRelayTransport>> SmtpRelayTransport::Create(
    SmtpRelayOptions options) {
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("smtp connections must be at least 1");
  }
  if (options.max_transactions_per_connection < 1) {
    return absl::InvalidArgumentError(
        "smtp messages per connection must be at least 1");
  }
  std::unique_ptr<TlsContext> tls;
  if (options.session.tls != TlsMode::kNone) {
    absl::StatusOr<std::unique_ptr<TlsContext>> created =
        TlsContext::Create(options.tls);
    if (!created.ok()) return created.status();
    tls = std::move(*created);
  }
  signal(SIGPIPE, SIG_IGN);
  return std::unique_ptr<SmtpRelayTransport>(
      new SmtpRelayTransport(std::move(options), std::move(tls)));
}

SmtpRelayTransport::SmtpRelayTransport(SmtpRelayOptions options,
                                       std::unique_ptr<TlsContext> tls)
    : options_(std::move(options)), tls_(std::move(tls)) {
  options_.session.tls_context = tls_.get();
  name_ = absl::StrCat("smtp:", options_.session.host, ":",
                       options_.session.port);
}

SmtpRelayTransport::~SmtpRelayTransport() { CloseIdle(); }

int SmtpRelayTransport::connections_opened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opened_total_;
}

void SmtpRelayTransport::CloseIdle() {
  std::deque<Pooled> closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing.swap(idle_);
    open_ -= static_cast<int>(closing.size());
  }
  for (Pooled& p : closing) p.session->Quit();
  returned_.notify_all();
}

absl::StatusOr<std::unique_ptr<SmtpSession>> SmtpRelayTransport::Acquire(
    bool* reused) {
  std::unique_ptr<SmtpSession> stale;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      absl::Time now = absl::Now();
      while (!idle_.empty()) {
        Pooled p = std::move(idle_.back());  // the warmest first
        idle_.pop_back();
        if (now - p.idle_since < options_.idle_timeout) {
          *reused = true;
          return std::move(p.session);
        }
        --open_;
        stale = std::move(p.session);
        break;
      }
      if (stale != nullptr) break;
      if (open_ < options_.max_connections) {
        ++open_;
        ++opened_total_;
        break;
      }
      returned_.wait(lock);
    }
  }
  if (stale != nullptr) {
    stale->Quit();
    stale.reset();
    return Acquire(reused);
  }
  *reused = false;
  absl::StatusOr<std::unique_ptr<SmtpSession>> session =
      SmtpSession::Open(options_.session);
  if (!session.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
    }
    returned_.notify_one();
  }
  return session;
}

void SmtpRelayTransport::Release(std::unique_ptr<SmtpSession> session) {
  bool keep = session->usable() &&
              session->transactions() <
                  options_.max_transactions_per_connection;
  if (!keep) {
    session->Quit();
    session.reset();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (keep) {
      idle_.push_back({std::move(session), absl::Now()});
    } else {
      --open_;
    }
  }
  returned_.notify_one();
}

absl::StatusOr<TransportResult> SmtpRelayTransport::Send(
    const Envelope& envelope, absl::string_view data) {
  SmtpTransaction txn;
  txn.mail_from = envelope.mail_from;
  txn.rcpt_to = envelope.rcpt_to;
  txn.smtputf8 = envelope.smtputf8;
  txn.envelope_id = envelope.message_id;
  txn.notify_failure_delay = options_.request_dsn;

  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    absl::StatusOr<std::unique_ptr<SmtpSession>> session = Acquire(&reused);
    if (!session.ok()) return session.status();
    int replies_before = (*session)->replies_read();
    absl::StatusOr<SmtpTransactionResult> result = (*session)->Send(txn, data);
    bool nothing_heard = (*session)->replies_read() == replies_before;
    Release(std::move(*session));
    if (!result.ok()) {
      // A kept-alive connection the relay dropped while idle: the message
      // was never discussed, so a fresh connection may carry it at once.
      if (reused && nothing_heard && attempt == 0 &&
          (absl::IsUnavailable(result.status()) ||
           absl::IsDeadlineExceeded(result.status()))) {
        continue;
      }
      return result.status();
    }
    TransportResult out;
    for (size_t i = 0; i < envelope.rcpt_to.size(); ++i) {
      RecipientOutcome r;
      r.address = envelope.rcpt_to[i];
      r.reply = result->recipient_replies[i];
      r.outcome = OutcomeOf(r.reply);
      out.recipients.push_back(std::move(r));
    }
    const store::Reply& f = result->final_reply;
    out.detail = absl::StrCat(name_, " ", f.remote_host, " said ", f.code,
                              f.enhanced_code.empty() ? "" : " ",
                              f.enhanced_code, " ", f.text);
    return out;
  }
}

}  // namespace deliverd::delivery
