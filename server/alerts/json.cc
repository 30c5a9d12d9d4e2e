#include "server/alerts/json.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace deliverd::alerts {
namespace {

constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at text[i], or 0 if the bytes
// there are ill-formed (then one byte is replaced and scanning resumes at
// the next byte, except that continuation bytes of the bad prefix are
// consumed with it: the "maximal subpart" practice of Unicode 6.3+).
size_t WellFormedLength(absl::string_view text, size_t i, size_t* bad_len) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[k]);
  };
  const unsigned char b0 = byte(i);
  *bad_len = 1;
  if (b0 < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;
  }
  for (size_t k = 1; k < need; ++k) {
    if (i + k >= text.size()) return 0;
    const unsigned char b = byte(i + k);
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
    *bad_len = k + 1;
  }
  return need;
}

// Calls on_char(piece, is_ascii) for each code point of `text`, with
// ill-formed subparts given as U+FFFD.
template <typename F>
void ForEachCodePoint(absl::string_view text, F on_char) {
  size_t i = 0;
  while (i < text.size()) {
    size_t bad_len = 1;
    const size_t len = WellFormedLength(text, i, &bad_len);
    if (len == 0) {
      on_char(kReplacement);
      i += bad_len;
    } else {
      on_char(text.substr(i, len));
      i += len;
    }
  }
}

}  // namespace

std::string SanitizeUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachCodePoint(text, [&](absl::string_view piece) {
    out.append(piece.data(), piece.size());
  });
  return out;
}

std::string JsonQuote(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  ForEachCodePoint(text, [&](absl::string_view piece) {
    if (piece.size() == 1) {
      const unsigned char c = static_cast<unsigned char>(piece[0]);
      switch (c) {
        case '"':
          out += "\\\"";
          return;
        case '\\':
          out += "\\\\";
          return;
        case '\b':
          out += "\\b";
          return;
        case '\f':
          out += "\\f";
          return;
        case '\n':
          out += "\\n";
          return;
        case '\r':
          out += "\\r";
          return;
        case '\t':
          out += "\\t";
          return;
        default:
          if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out.push_back(static_cast<char>(c));
          }
          return;
      }
    }
    if (piece == "\xE2\x80\xA8") {
      out += "\\u2028";
    } else if (piece == "\xE2\x80\xA9") {
      out += "\\u2029";
    } else {
      out.append(piece.data(), piece.size());
    }
  });
  out.push_back('"');
  return out;
}

Json Json::String(absl::string_view text) {
  Json json(Type::kString);
  json.string_ = std::string(text);
  return json;
}

Json Json::Int(int64_t value) {
  Json json(Type::kInt);
  json.int_ = value;
  return json;
}

Json Json::Bool(bool value) {
  Json json(Type::kBool);
  json.bool_ = value;
  return json;
}

Json Json::Null() { return Json(Type::kNull); }
Json Json::Object() { return Json(Type::kObject); }
Json Json::Array() { return Json(Type::kArray); }

Json& Json::Set(absl::string_view key, Json value) {
  members_.emplace_back(std::string(key), std::move(value));
  return *this;
}

Json& Json::Push(Json value) {
  elements_.push_back(std::move(value));
  return *this;
}

std::string Json::Serialize() const {
  std::string out;
  AppendTo(&out);
  return out;
}

void Json::AppendTo(std::string* out) const {
  switch (type_) {
    case Type::kNull:
      *out += "null";
      return;
    case Type::kBool:
      *out += bool_ ? "true" : "false";
      return;
    case Type::kInt:
      absl::StrAppend(out, int_);
      return;
    case Type::kString:
      *out += JsonQuote(string_);
      return;
    case Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, value] : members_) {
        if (!first) out->push_back(',');
        first = false;
        *out += JsonQuote(key);
        out->push_back(':');
        value.AppendTo(out);
      }
      out->push_back('}');
      return;
    }
    case Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Json& element : elements_) {
        if (!first) out->push_back(',');
        first = false;
        element.AppendTo(out);
      }
      out->push_back(']');
      return;
    }
  }
}

}  // namespace deliverd::alerts
