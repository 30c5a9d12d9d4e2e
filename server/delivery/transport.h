// The seam between the dispatcher and whatever carries a message onward:
// the development outbox (a folder of .eml files) now, an SMTP relay later.
//
// A transport reports per-recipient outcomes, so one refused recipient does
// not hide the others' fate. Implementations must be thread-safe (the
// dispatcher may call Send from several workers).
#ifndef DELIVERD_SERVER_DELIVERY_TRANSPORT_H_
#define DELIVERD_SERVER_DELIVERY_TRANSPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/store/types.h"

namespace deliverd::delivery {

struct Envelope {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  // Our message id, for transports that record or tag it.
  std::string message_id;
  bool smtputf8 = false;
};

enum class Outcome {
  kAccepted,   // the next hop took responsibility
  kTransient,  // try again later
  kPermanent,  // will not succeed as is
};

struct RecipientOutcome {
  std::string address;
  Outcome outcome = Outcome::kAccepted;
  store::Reply reply;
};

struct TransportResult {
  std::vector<RecipientOutcome> recipients;  // one per envelope recipient
  // Where the message went ("outbox:/path/m_x.eml", "smtp:relay 250 ...").
  std::string detail;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // A non-OK status means the message could not be handed off at all (every
  // recipient failed the same way); UNAVAILABLE is transient, others final.
  virtual absl::StatusOr<TransportResult> Send(const Envelope& envelope,
                                               absl::string_view data) = 0;
  virtual std::string name() const = 0;
};

}  // namespace deliverd::delivery

#endif  // DELIVERD_SERVER_DELIVERY_TRANSPORT_H_
