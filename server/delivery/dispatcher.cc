#include "server/delivery/dispatcher.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <utility>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "deliverd/v1/messages.pb.h"
#include "hygiene/bounce/reply_classifier.h"
#include "hygiene/bounce/smtp_reply.h"
#include "server/delivery/composer.h"
#include "server/delivery/message_status.h"
#include "server/delivery/text_scan.h"

namespace deliverd::delivery {
namespace {

store::Event MakeEvent(const store::Message& m, store::EventType type,
                       absl::Time now, std::string recipient,
                       std::string detail) {
  return store::MessageEvent(m, type, now, std::move(recipient), "dispatcher",
                             std::move(detail));
}

ComposeInput ToComposeInput(const store::Message& m,
                            const v1::MessageContent& c) {
  ComposeInput in;
  in.from = {m.from_address, m.from_name};
  // Addresses as the API normalised them (stored on the recipients), names
  // as the caller gave them.
  auto copy = [](const google::protobuf::RepeatedPtrField<v1::EmailAddress>&
                     list) {
    std::vector<Mailbox> out;
    for (const v1::EmailAddress& a : list) {
      out.push_back({a.address(), a.display_name()});
    }
    return out;
  };
  in.to = copy(c.to());
  in.cc = copy(c.cc());
  in.reply_to = copy(c.reply_to());
  in.subject = c.subject();
  in.text_body = c.text_body();
  in.html_body = c.html_body();
  for (const v1::Header& h : c.headers()) {
    in.headers.emplace_back(h.name(), h.value());
  }
  for (const v1::Attachment& a : c.attachments()) {
    in.attachments.push_back(
        {a.filename(), a.content_type(), a.content(), a.content_id()});
  }
  in.message_id = m.rfc822_message_id;
  in.date = m.create_time;
  in.deliverd_id = m.id;
  return in;
}

// The next retry, or nullopt once the schedule gives up.
std::optional<absl::Time> NextRetry(const hygiene::RetrySchedule& schedule,
                                    int attempts_made, absl::Time queued,
                                    absl::Time now) {
  // Jitter spreads retries of messages that failed together.
  static thread_local std::mt19937_64 random(std::random_device{}());
  double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random);
  absl::StatusOr<hygiene::RetryDecision> decision = hygiene::NextAttempt(
      schedule, attempts_made, absl::ToChronoTime(queued),
      absl::ToChronoTime(now), unit);
  if (!decision.ok() || decision->give_up) return std::nullopt;
  return absl::FromChrono(decision->at);
}

// What hygiene/bounce makes of a reply as the transport recorded it (the
// enhanced code kept as text; an unparsable one counts as absent).
hygiene::bounce::ReplyClassification ClassifyStoredReply(
    const store::Reply& reply) {
  std::optional<hygiene::bounce::EnhancedStatusCode> enhanced;
  absl::StatusOr<hygiene::bounce::EnhancedStatusCode> parsed =
      hygiene::bounce::ParseEnhancedStatusCode(reply.enhanced_code);
  if (parsed.ok()) enhanced = *parsed;
  return hygiene::bounce::ClassifyReply(reply.code, enhanced, reply.text);
}

// "Slow down" from a receiver: 421 (closing the channel), or a transient
// reply the classifier reads as a rate limit (4.7.x throttling and the
// providers' wordings).
bool IsRateLimit(const store::Reply& reply) {
  if (reply.code == 421) return true;
  return ClassifyStoredReply(reply).reason ==
         hygiene::bounce::Reason::kRateLimited;
}

}  // namespace

Dispatcher::Dispatcher(store::Store* store, Transport* transport,
                       DispatcherOptions options)
    : store_(store),
      transport_(transport),
      options_(std::move(options)),
      throttle_(options_.domains) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = false;
  for (int i = 0; i < options_.workers; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

void Dispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

bool Dispatcher::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void Dispatcher::Nudge() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++nudges_;
  }
  cv_.notify_all();
}

void Dispatcher::WorkerLoop() {
  while (true) {
    uint64_t seen_nudges;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      seen_nudges = nudges_;
    }
    absl::StatusOr<std::vector<store::Message>> claimed =
        store_->ClaimDueMessages(options_.owner, absl::Now(), options_.lease,
                                 options_.claim_batch);
    if (!claimed.ok()) {
      std::cerr << "deliverd: dispatcher: claim failed: " << claimed.status()
                << "\n";
    } else if (!claimed->empty()) {
      DeliverBatch(std::move(*claimed));
      continue;
    }
    absl::Duration wait = options_.idle_poll;
    absl::StatusOr<absl::Time> due = store_->NextDueTime();
    if (due.ok() && *due != absl::InfiniteFuture()) {
      wait = std::clamp(*due - absl::Now(), absl::ZeroDuration(), wait);
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoNanoseconds(wait), [&] {
      return stopping_ || nudges_ != seen_nudges;
    });
  }
}

namespace {

std::vector<std::string> PendingDomains(const store::Message& m) {
  std::vector<std::string> domains;
  for (const store::Recipient& r : m.recipients) {
    if (IsPending(r.status)) domains.push_back(DomainOf(r.address));
  }
  return domains;
}

}  // namespace

// The outcomes of one batch on their way to the store.
class Dispatcher::PendingRecords {
 public:
  using Failure =
      std::pair<std::shared_ptr<const store::DeliveryUpdate>, absl::Status>;

  // At most `limit` outcomes wait for their commit at a time.
  PendingRecords(store::Store* store, int limit)
      : store_(store), limit_(std::max(limit, 1)) {}
  PendingRecords(const PendingRecords&) = delete;
  PendingRecords& operator=(const PendingRecords&) = delete;
  ~PendingRecords() { Wait(); }

  void Add(store::DeliveryUpdate update) {
    auto shared =
        std::make_shared<const store::DeliveryUpdate>(std::move(update));
    {
      std::unique_lock<std::mutex> lock(mu_);
      committed_.wait(lock, [this] { return outstanding_ < limit_; });
      ++outstanding_;
    }
    store_->RecordDeliveryAsync(shared, [this, shared](absl::Status status) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!status.ok()) failed_.emplace_back(shared, std::move(status));
      --outstanding_;
      committed_.notify_all();
    });
  }

  // True once the store has refused an outcome (it may be away): the
  // caller should send nothing more before those are recorded, so a crash
  // meanwhile resends no more than the outcomes already waiting.
  bool AnyRefused() {
    std::lock_guard<std::mutex> lock(mu_);
    return !failed_.empty();
  }

  // Blocks until every outcome added so far is committed or refused; returns
  // (and forgets) the refused ones.
  std::vector<Failure> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    committed_.wait(lock, [this] { return outstanding_ == 0; });
    return std::exchange(failed_, {});
  }

 private:
  store::Store* const store_;
  const int limit_;
  std::mutex mu_;
  std::condition_variable committed_;
  int outstanding_ = 0;
  std::vector<Failure> failed_;
};

void Dispatcher::FinishRecords(PendingRecords& pending, absl::Time give_up) {
  for (const PendingRecords::Failure& failure : pending.Wait()) {
    absl::Status status = failure.second;
    if (absl::IsUnavailable(status)) status = Record(*failure.first, give_up);
    if (!status.ok()) {
      std::cerr << "deliverd: dispatcher: " << status << "\n";
    }
  }
}

void Dispatcher::DeliverBatch(std::vector<store::Message> batch) {
  PendingRecords pending(store_, options_.uncommitted_outcomes);
  // Once half the lease is gone, what is left of the batch (waiting for a
  // busy domain, or behind slow attempts) goes back to the queue untried:
  // an attempt started later could outlast the lease, and another worker
  // (with the same lease owner) could then claim and send it as well.
  const absl::Time claimed = absl::Now();
  const absl::Time give_back = claimed + options_.lease / 2;
  // Outcomes the store refused are retried until a quarter of the lease is
  // left: past that, another worker could claim the message again.
  const absl::Time record_until = claimed + options_.lease * 3 / 4;
  std::vector<store::Message> waiting = std::move(batch);
  // Ids this batch attempted; they stay in `in_flight_` until their
  // outcomes are settled.
  std::vector<std::string> attempted;
  // Whether what is not yet tried goes back to the queue instead: at
  // shutdown (a slow relay can take minutes), on a lease about to run out,
  // or while the store refuses outcomes.
  auto give_the_rest_back = [&] {
    return Stopping() || absl::Now() >= give_back || pending.AnyRefused();
  };
  while (!waiting.empty()) {
    std::vector<store::Message> busy;
    // Looked up again on every round: a round may wait for busy domains.
    std::vector<std::vector<std::optional<store::Suppression>>> suppressed =
        BatchSuppressions(waiting);
    for (size_t index = 0; index < waiting.size(); ++index) {
      store::Message& m = waiting[index];
      if (give_the_rest_back()) {
        busy.push_back(std::move(m));
        continue;
      }
      absl::Time now = absl::Now();
      DomainThrottle::Decision d = throttle_.TryAcquire(PendingDomains(m), now);
      absl::Status status;
      switch (d.verdict) {
        case DomainThrottle::Verdict::kGo:
          if (!BeginAttempt(m.id)) {
            // Another worker here is still attempting it: the lease ran out
            // under that attempt and the message was claimed again. That
            // attempt records the outcome; a second would send it twice.
            break;
          }
          attempted.push_back(m.id);
          // An attempt under way when Stop() is called is finished, so its
          // outcome is recorded rather than left to the lease.
          status = DeliverTo(
              std::move(m), suppressed.empty() ? nullptr : &suppressed[index],
              &pending);
          break;
        case DomainThrottle::Verdict::kBackingOff:
          status = Postpone(m, d.retry_at);
          break;
        case DomainThrottle::Verdict::kBusy:
          busy.push_back(std::move(m));
          break;
      }
      if (!status.ok()) {
        std::cerr << "deliverd: dispatcher: " << status << "\n";
      }
    }
    if (busy.empty()) break;
    if (give_the_rest_back()) {
      // The outcomes of what was sent come first: giving the rest back
      // only saves them the wait for their leases.
      FinishRecords(pending, record_until);
      for (const store::Message& m : busy) {
        absl::Status status = Postpone(m, absl::Now());
        if (!status.ok()) {
          std::cerr << "deliverd: dispatcher: " << status << "\n";
        }
      }
      break;
    }
    throttle_.WaitForRelease(std::min(give_back, absl::Now() + absl::Seconds(1)));
    waiting = std::move(busy);
  }
  FinishRecords(pending, record_until);
  EndAttempts(attempted);
}

bool Dispatcher::BeginAttempt(const std::string& id) {
  std::lock_guard<std::mutex> lock(in_flight_mu_);
  return in_flight_.insert(id).second;
}

void Dispatcher::EndAttempts(const std::vector<std::string>& ids) {
  std::lock_guard<std::mutex> lock(in_flight_mu_);
  for (const std::string& id : ids) in_flight_.erase(id);
}

namespace {

// The recipients Deliver checks against the suppression list: pending, and
// not sent to by an explicit override.
bool NeedsSuppressionCheck(const store::Recipient& r) {
  return IsPending(r.status) && !r.suppression_override;
}

}  // namespace

std::vector<std::vector<std::optional<store::Suppression>>>
Dispatcher::BatchSuppressions(const std::vector<store::Message>& batch) {
  std::vector<std::vector<std::optional<store::Suppression>>> out(
      batch.size());
  struct Lookup {
    std::vector<std::string> addresses;
    std::vector<size_t> messages;  // one entry per address
  };
  std::map<std::pair<int64_t, std::string>, Lookup> lookups;
  for (size_t i = 0; i < batch.size(); ++i) {
    Lookup& lookup = lookups[{batch[i].tenant_id, batch[i].stream}];
    for (const store::Recipient& r : batch[i].recipients) {
      if (!NeedsSuppressionCheck(r)) continue;
      lookup.addresses.push_back(r.address);
      lookup.messages.push_back(i);
    }
  }
  absl::Time now = absl::Now();
  for (auto& [key, lookup] : lookups) {
    if (lookup.addresses.empty()) continue;
    absl::StatusOr<std::vector<std::optional<store::Suppression>>> found =
        store_->FindSuppressions(key.first, lookup.addresses, key.second, now);
    if (!found.ok()) return {};
    for (size_t k = 0; k < lookup.messages.size(); ++k) {
      out[lookup.messages[k]].push_back(std::move((*found)[k]));
    }
  }
  return out;
}

absl::Status Dispatcher::Record(const store::DeliveryUpdate& update) {
  // A store that is away (a database restart) must not strand the outcome:
  // the message stays leased to us, so keep trying until it is recorded,
  // we stop, or half the lease is gone (then another replica may take the
  // message over, and the outcome is lost to it either way).
  return Record(update, absl::Now() + options_.lease / 2);
}

absl::Status Dispatcher::Record(const store::DeliveryUpdate& update,
                                absl::Time give_up) {
  while (true) {
    absl::Status status = store_->RecordDelivery(update);
    if (!absl::IsUnavailable(status) || absl::Now() >= give_up) return status;
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return status;
    cv_.wait_for(lock, std::chrono::milliseconds(500),
                 [this] { return stopping_; });
  }
}

absl::Status Dispatcher::Postpone(const store::Message& m, absl::Time at) {
  store::DeliveryUpdate update;
  update.tenant_id = m.tenant_id;
  update.message_id = m.id;
  update.lease_owner = options_.owner;
  update.attempt_count = m.attempt_count;
  update.status = m.status;
  update.next_attempt_time = at;
  return Record(update);
}

absl::Status Dispatcher::Deliver(
    store::Message m,
    const std::vector<std::optional<store::Suppression>>* known) {
  return DeliverTo(std::move(m), known, nullptr);
}

absl::Status Dispatcher::DeliverTo(
    store::Message m,
    const std::vector<std::optional<store::Suppression>>* known,
    PendingRecords* records) {
  absl::Time now = absl::Now();
  store::DeliveryUpdate update;
  update.tenant_id = m.tenant_id;
  update.message_id = m.id;
  update.lease_owner = options_.owner;
  update.attempt_count = m.attempt_count;

  // Who is still waiting for this message, and are they still allowed it?
  std::vector<size_t> pending;
  std::vector<std::string> pending_addresses;
  std::vector<size_t> to_send;
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    if (!IsPending(m.recipients[i].status)) continue;
    // An explicit override (recorded when the message was accepted) stands.
    if (!NeedsSuppressionCheck(m.recipients[i])) {  // an override
      to_send.push_back(i);
      continue;
    }
    pending.push_back(i);
    pending_addresses.push_back(m.recipients[i].address);
  }
  absl::StatusOr<std::vector<std::optional<store::Suppression>>> suppressed;
  if (known != nullptr && known->size() == pending.size()) {
    suppressed = *known;
  } else {
    suppressed =
        store_->FindSuppressions(m.tenant_id, pending_addresses, m.stream, now);
    if (!suppressed.ok()) {
      // Nothing was sent: give the message back rather than leave it
      // leased (to this process) until the lease runs out.
      std::cerr << "deliverd: dispatcher: suppression check for " << m.id
                << " failed: " << suppressed.status() << "\n";
      return Postpone(m, absl::Now());
    }
  }
  for (size_t k = 0; k < pending.size(); ++k) {
    store::Recipient& r = m.recipients[pending[k]];
    if ((*suppressed)[k].has_value()) {
      r.status = store::MessageStatus::kSuppressed;
      r.detail = absl::StrCat("suppressed (",
                              store::SuppressionReasonName((*suppressed)[k]->reason),
                              ") before sending");
      update.events.push_back(MakeEvent(m, store::EventType::kSuppressed, now,
                                        r.address, r.detail));
    } else {
      to_send.push_back(pending[k]);
    }
  }

  auto finish = [&]() {
    update.status = DeriveMessageStatus(m.recipients);
    update.recipients = m.recipients;
    if (!IsPending(update.status)) {
      update.next_attempt_time = absl::InfiniteFuture();
    }
    if (records == nullptr) return Record(update);
    records->Add(std::move(update));
    return absl::OkStatus();
  };
  auto fail_all = [&](store::MessageStatus status, store::EventType type,
                      const std::string& detail) {
    for (size_t i : to_send) {
      m.recipients[i].status = status;
      m.recipients[i].detail = detail;
    }
    update.events.push_back(MakeEvent(m, type, now, "", detail));
  };

  std::sort(to_send.begin(), to_send.end());
  if (to_send.empty()) return finish();

  update.attempt_count = m.attempt_count + 1;
  update.events.push_back(MakeEvent(
      m, store::EventType::kAttempt, now, "",
      absl::StrCat("attempt ", update.attempt_count, " via ",
                   transport_->name())));

  v1::MessageContent content;
  if (!content.ParseFromString(m.content)) {
    fail_all(store::MessageStatus::kFailed, store::EventType::kFailed,
             "stored content is unreadable");
    return finish();
  }
  absl::StatusOr<std::string> data =
      ComposeMessage(ToComposeInput(m, content));
  if (!data.ok()) {
    fail_all(store::MessageStatus::kFailed, store::EventType::kFailed,
             absl::StrCat("cannot compose: ", data.status().message()));
    return finish();
  }

  Envelope envelope;
  envelope.mail_from =
      ReturnPathFor(options_.return_path, m.from_address, m.id);
  envelope.message_id = m.id;
  envelope.smtputf8 = !IsAllAscii(m.from_address);
  for (size_t i : to_send) {
    envelope.rcpt_to.push_back(m.recipients[i].address);
    envelope.smtputf8 |= !IsAllAscii(m.recipients[i].address);
  }
  absl::StatusOr<TransportResult> result = transport_->Send(envelope, *data);
  if (!result.ok()) {
    bool transient = absl::IsUnavailable(result.status()) ||
                     absl::IsDeadlineExceeded(result.status());
    std::string detail =
        absl::StrCat(transport_->name(), ": ", result.status().message());
    std::optional<absl::Time> retry;
    if (transient) {
      retry = NextRetry(options_.retry, update.attempt_count, m.create_time,
                        now);
    }
    if (retry.has_value()) {
      fail_all(store::MessageStatus::kWaiting, store::EventType::kDeferred,
               detail);
      update.next_attempt_time = *retry;
    } else {
      fail_all(store::MessageStatus::kFailed, store::EventType::kFailed,
               transient ? absl::StrCat(detail, " (retries exhausted)")
                         : detail);
    }
    return finish();
  }

  bool any_waiting = false;
  absl::Time backoff_until = absl::InfinitePast();
  for (size_t k = 0; k < to_send.size() && k < result->recipients.size(); ++k) {
    store::Recipient& r = m.recipients[to_send[k]];
    const RecipientOutcome& outcome = result->recipients[k];
    r.last_reply = outcome.reply;
    store::EventType type;
    switch (outcome.outcome) {
      case Outcome::kAccepted:
        throttle_.Succeeded(DomainOf(r.address));
        r.status = store::MessageStatus::kSent;
        r.detail.clear();  // the reply is the evidence
        type = store::EventType::kSent;
        break;
      case Outcome::kTransient: {
        r.status = store::MessageStatus::kWaiting;
        r.detail = outcome.reply.text;
        type = store::EventType::kDeferred;
        any_waiting = true;
        if (IsRateLimit(outcome.reply)) {
          absl::Time until = throttle_.Throttled(DomainOf(r.address), now);
          backoff_until = std::max(backoff_until, until);
          r.detail = absl::StrCat(r.detail, " (", DomainOf(r.address),
                                  " throttled; backing off until ",
                                  absl::FormatTime(until), ")");
        }
        break;
      }
      case Outcome::kPermanent:
      default: {
        hygiene::bounce::ReplyClassification verdict =
            ClassifyStoredReply(outcome.reply);
        r.detail = absl::StrCat(
            hygiene::bounce::ReasonName(verdict.reason), " (", verdict.rule,
            "): ", outcome.reply.text);
        switch (verdict.outcome) {
          case hygiene::bounce::Outcome::kBounced: {
            r.status = store::MessageStatus::kBounced;
            type = store::EventType::kBounced;
            store::Suppression s;
            s.tenant_id = m.tenant_id;
            s.address = r.address;
            s.reason = store::SuppressionReason::kHardBounce;
            s.create_time = now;
            s.source_message = absl::StrCat("messages/", m.id);
            s.evidence = absl::StrCat(outcome.reply.code, " ",
                                      outcome.reply.enhanced_code, " ",
                                      outcome.reply.text);
            update.new_suppressions.push_back(std::move(s));
            break;
          }
          case hygiene::bounce::Outcome::kBlocked:
            r.status = store::MessageStatus::kBlocked;
            type = store::EventType::kBlocked;
            break;
          case hygiene::bounce::Outcome::kTransient:
            // A 5xx the classifier knows to be worth retrying (a full
            // mailbox): wait like any transient failure.
            r.status = store::MessageStatus::kWaiting;
            type = store::EventType::kDeferred;
            any_waiting = true;
            break;
          default:
            r.status = store::MessageStatus::kFailed;
            type = store::EventType::kFailed;
            break;
        }
        break;
      }
    }
    store::Event e = MakeEvent(m, type, now, r.address, r.detail.empty()
                                                           ? outcome.reply.text
                                                           : r.detail);
    e.source = transport_->name();
    e.reply = outcome.reply;
    update.events.push_back(std::move(e));
  }
  if (any_waiting) {
    std::optional<absl::Time> retry =
        NextRetry(options_.retry, update.attempt_count, m.create_time, now);
    if (retry.has_value()) {
      update.next_attempt_time = std::max(*retry, backoff_until);
    } else {
      for (size_t i : to_send) {
        store::Recipient& r = m.recipients[i];
        if (r.status != store::MessageStatus::kWaiting) continue;
        r.status = store::MessageStatus::kFailed;
        r.detail = absl::StrCat("retries exhausted; last reply: ", r.detail);
        update.events.push_back(MakeEvent(m, store::EventType::kFailed, now,
                                          r.address, r.detail));
      }
    }
  }
  return finish();
}

}  // namespace deliverd::delivery
