// A small JSON value builder for the alert payloads: every string that goes
// into a body passes through JsonQuote, so no caller text is ever spliced
// into JSON unescaped.
//
// Contract: Serialize() gives compact JSON (no whitespace), object members in
// insertion order, so a payload's bytes are deterministic and tests compare
// exact strings. Strings are escaped per RFC 8259: quote, backslash and the
// control characters U+0000..U+001F (as \n, \t... or \u00XX); non-ASCII is
// passed through as UTF-8; ill-formed UTF-8 (stray continuation bytes,
// overlong forms, surrogates, truncated sequences, > U+10FFFF) is replaced by
// U+FFFD, one per maximal bad subpart. U+2028/U+2029 are escaped so the text
// is also safe inside JavaScript.
//
// Thread-safety: values are plain data (copyable); no shared state.
#ifndef DELIVERD_SERVER_ALERTS_JSON_H_
#define DELIVERD_SERVER_ALERTS_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace deliverd::alerts {

// `text` as a quoted, escaped JSON string literal.
std::string JsonQuote(absl::string_view text);

// `text` with ill-formed UTF-8 replaced by U+FFFD (the same rule JsonQuote
// applies); well-formed text is returned unchanged.
std::string SanitizeUtf8(absl::string_view text);

class Json {
 public:
  static Json String(absl::string_view text);
  static Json Int(int64_t value);
  static Json Bool(bool value);
  static Json Null();
  static Json Object();
  static Json Array();

  // Object member `key` (appended; callers do not repeat keys). Only on an
  // object; returns *this for chaining.
  Json& Set(absl::string_view key, Json value);
  // Array element. Only on an array; returns *this for chaining.
  Json& Push(Json value);

  std::string Serialize() const;

 private:
  enum class Type { kNull, kBool, kInt, kString, kObject, kArray };
  explicit Json(Type type) : type_(type) {}
  void AppendTo(std::string* out) const;

  Type type_;
  bool bool_ = false;
  int64_t int_ = 0;
  std::string string_;
  std::vector<std::pair<std::string, Json>> members_;  // kObject
  std::vector<Json> elements_;                         // kArray
};

}  // namespace deliverd::alerts

#endif  // DELIVERD_SERVER_ALERTS_JSON_H_
