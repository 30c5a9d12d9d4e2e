#include "server/api/bounce_report_proto.h"

#include <optional>

#include "server/delivery/return_path.h"

namespace deliverd::api {

v1::BounceClass BounceClassToProto(hygiene::bounce::BounceClass c) {
  switch (c) {
    case hygiene::bounce::BounceClass::kHard: return v1::BOUNCE_CLASS_HARD;
    case hygiene::bounce::BounceClass::kSoft: return v1::BOUNCE_CLASS_SOFT;
    case hygiene::bounce::BounceClass::kNone: return v1::BOUNCE_CLASS_NONE;
  }
  return v1::BOUNCE_CLASS_UNSPECIFIED;
}

v1::ClassifyBounceResponse BounceReportToProto(
    const hygiene::bounce::BounceReport& report) {
  v1::ClassifyBounceResponse out;
  out.set_bounce(report.is_bounce);
  // The returned header is whatever the bounce says: only a well-formed id
  // of ours is believed.
  std::optional<std::string> returned_id =
      delivery::ParseMessageId(report.deliverd_id);
  if (returned_id.has_value()) {
    out.set_original_message_id(*returned_id);
  } else if (std::optional<std::string> id =
                 delivery::MessageIdFromReturnPath(report.verp_address)) {
    out.set_original_message_id(*id);
  }
  out.set_original_rfc822_message_id(report.original_message_id);
  for (const hygiene::bounce::BounceRecipient& r : report.recipients) {
    v1::BounceRecipient* p = out.add_recipients();
    p->set_recipient(r.address);
    p->set_action(r.action);
    p->set_reply_code(r.reply_code.value_or(0));
    p->set_status(r.status);
    p->set_diagnostic(r.diagnostic);
    p->set_remote_host(r.remote_mta);
    p->set_reason(std::string(hygiene::bounce::ReasonName(r.reason)));
    p->set_class_(BounceClassToProto(r.bounce_class));
    if (!r.feedback_type.empty() && out.feedback_type().empty()) {
      out.set_feedback_type(r.feedback_type);
    }
  }
  return out;
}

}  // namespace deliverd::api
