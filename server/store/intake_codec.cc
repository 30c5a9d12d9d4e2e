#include "server/store/intake_codec.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace deliverd::store {
namespace {

constexpr char kVersion = 1;
constexpr int64_t kFutureMark = std::numeric_limits<int64_t>::max();
constexpr int64_t kPastMark = std::numeric_limits<int64_t>::min();

void PutInt(int64_t value, std::string* out) {
  char bytes[8];
  uint64_t v = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  out->append(bytes, 8);
}

void PutString(absl::string_view value, std::string* out) {
  PutInt(static_cast<int64_t>(value.size()), out);
  out->append(value.data(), value.size());
}

void PutTime(absl::Time t, std::string* out) {
  if (t == absl::InfiniteFuture()) return PutInt(kFutureMark, out);
  if (t == absl::InfinitePast()) return PutInt(kPastMark, out);
  PutInt(absl::ToUnixMicros(t), out);
}

void PutStrings(const std::vector<std::string>& values, std::string* out) {
  PutInt(static_cast<int64_t>(values.size()), out);
  for (const std::string& v : values) PutString(v, out);
}

void PutReply(const Reply& r, std::string* out) {
  PutInt(r.code, out);
  PutString(r.enhanced_code, out);
  PutString(r.text, out);
  PutString(r.remote_host, out);
}

void PutEvent(const Event& e, std::string* out) {
  PutInt(e.id, out);
  PutInt(e.tenant_id, out);
  PutString(e.message_id, out);
  PutInt(static_cast<int64_t>(e.type), out);
  PutTime(e.time, out);
  PutString(e.recipient, out);
  PutString(e.source, out);
  PutString(e.detail, out);
  PutReply(e.reply, out);
  PutStrings(e.tags, out);
}

void PutEvents(const std::vector<Event>& events, std::string* out) {
  PutInt(static_cast<int64_t>(events.size()), out);
  for (const Event& e : events) PutEvent(e, out);
}

// Reads fields in the order the Put functions wrote them; the first
// shortfall or impossible value sets `ok` to false, after which every read
// returns a default and the caller reports DATA_LOSS once at the end.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : rest_(bytes) {}

  bool ok() const { return ok_; }
  bool done() const { return rest_.empty(); }

  int64_t Int() {
    if (!ok_ || rest_.size() < 8) return Fail<int64_t>();
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
      v = (v << 8) | static_cast<unsigned char>(rest_[i]);
    }
    rest_.remove_prefix(8);
    return static_cast<int64_t>(v);
  }

  // An int that must lie in [low, high] (enums, counts, small numbers).
  int64_t Bounded(int64_t low, int64_t high) {
    int64_t v = Int();
    if (v < low || v > high) return Fail<int64_t>();
    return v;
  }

  std::string String() {
    int64_t size = Int();
    if (!ok_ || size < 0 || static_cast<uint64_t>(size) > rest_.size()) {
      return Fail<std::string>();
    }
    std::string value(rest_.substr(0, static_cast<size_t>(size)));
    rest_.remove_prefix(static_cast<size_t>(size));
    return value;
  }

  absl::Time Time() {
    int64_t micros = Int();
    if (micros == kFutureMark) return absl::InfiniteFuture();
    if (micros == kPastMark) return absl::InfinitePast();
    return absl::FromUnixMicros(micros);
  }

  // A count of items each at least `min_item_bytes` long, so a corrupt
  // count cannot make the caller reserve more than the bytes could hold.
  size_t Count(size_t min_item_bytes) {
    int64_t n = Int();
    if (!ok_ || n < 0 ||
        static_cast<uint64_t>(n) > rest_.size() / min_item_bytes) {
      return Fail<size_t>();
    }
    return static_cast<size_t>(n);
  }

  std::vector<std::string> Strings() {
    std::vector<std::string> values(Count(8));
    for (std::string& v : values) v = String();
    return values;
  }

  Reply ReadReply() {
    Reply r;
    r.code = static_cast<int>(Bounded(0, 999));
    r.enhanced_code = String();
    r.text = String();
    r.remote_host = String();
    return r;
  }

  Event ReadEvent() {
    Event e;
    e.id = Int();
    e.tenant_id = Int();
    e.message_id = String();
    e.type = static_cast<EventType>(Bounded(0, 1000));
    e.time = Time();
    e.recipient = String();
    e.source = String();
    e.detail = String();
    e.reply = ReadReply();
    e.tags = Strings();
    return e;
  }

  std::vector<Event> Events() {
    std::vector<Event> events(Count(8 * 12));
    for (Event& e : events) e = ReadEvent();
    return events;
  }

 private:
  template <typename T>
  T Fail() {
    ok_ = false;
    rest_ = absl::string_view();
    return T();
  }

  absl::string_view rest_;
  bool ok_ = true;
};

}  // namespace

void EncodeIntakeMessage(const NewMessage& item, std::string* out) {
  const Message& m = item.message;
  out->push_back(kVersion);
  PutString(m.id, out);
  PutInt(m.tenant_id, out);
  PutInt(static_cast<int64_t>(m.status), out);
  PutString(m.from_address, out);
  PutString(m.from_name, out);
  PutString(m.subject, out);
  PutStrings(m.tags, out);
  PutString(m.metadata, out);
  PutString(m.stream, out);
  PutTime(m.create_time, out);
  PutTime(m.update_time, out);
  PutTime(m.next_attempt_time, out);
  PutInt(m.attempt_count, out);
  PutString(m.resend_of, out);
  PutString(m.rfc822_message_id, out);
  PutInt(m.size_bytes, out);
  PutString(m.request_id, out);
  PutString(m.content, out);
  PutInt(static_cast<int64_t>(m.recipients.size()), out);
  for (const Recipient& r : m.recipients) {
    PutString(r.address, out);
    PutInt(static_cast<int64_t>(r.kind), out);
    PutInt(static_cast<int64_t>(r.status), out);
    PutString(r.detail, out);
    PutReply(r.last_reply, out);
    PutInt(r.suppression_override ? 1 : 0, out);
  }
  PutString(item.request_hash, out);
  PutEvents(item.events, out);
  PutEvents(item.related_events, out);
}

absl::StatusOr<NewMessage> DecodeIntakeMessage(absl::string_view bytes) {
  if (bytes.empty() || bytes[0] != kVersion) {
    return absl::DataLossError(absl::StrCat(
        "intake record: unknown encoding version ",
        bytes.empty() ? -1 : static_cast<int>(bytes[0])));
  }
  Reader in(bytes.substr(1));
  NewMessage item;
  Message& m = item.message;
  m.id = in.String();
  m.tenant_id = in.Int();
  m.status = static_cast<MessageStatus>(in.Bounded(0, 1000));
  m.from_address = in.String();
  m.from_name = in.String();
  m.subject = in.String();
  m.tags = in.Strings();
  m.metadata = in.String();
  m.stream = in.String();
  m.create_time = in.Time();
  m.update_time = in.Time();
  m.next_attempt_time = in.Time();
  m.attempt_count = static_cast<int>(in.Bounded(0, 1 << 30));
  m.resend_of = in.String();
  m.rfc822_message_id = in.String();
  m.size_bytes = in.Int();
  m.request_id = in.String();
  m.content = in.String();
  m.recipients.resize(in.Count(8 * 9));
  for (Recipient& r : m.recipients) {
    r.address = in.String();
    r.kind = static_cast<RecipientKind>(in.Bounded(0, 1000));
    r.status = static_cast<MessageStatus>(in.Bounded(0, 1000));
    r.detail = in.String();
    r.last_reply = in.ReadReply();
    r.suppression_override = in.Bounded(0, 1) == 1;
  }
  item.request_hash = in.String();
  item.events = in.Events();
  item.related_events = in.Events();
  if (!in.ok() || !in.done()) {
    return absl::DataLossError(
        "intake record: malformed (a length or value out of range, or bytes "
        "left over)");
  }
  return item;
}

}  // namespace deliverd::store
