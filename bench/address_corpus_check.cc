// address_corpus_check: measures how far ParseAddress agrees with an external
// corpus of address test cases, the JSON export of python-email-validator's
// parametrised tests (object of groups -> {"params": [...], "cases": [...]}).
//
//   address_corpus_check /path/to/python-email-validator-cases.json
//
// The corpus is third-party data and stays outside the project; this tool only
// reads it, so that disagreements can be reviewed one by one. A group whose
// name mentions "invalid" or "unsafe" expects rejection, any other group
// expects acceptance. For accepted cases the expected local part, A-label
// domain, display domain and SMTPUTF8 flag are compared too. Groups whose cases
// carry only a fragment "s" (unsafe characters) are tried twice: as the whole
// local part (s@example.com) and as a whole domain label (test@s.example.com).
//
// Exit status: 0 when the file was read (whatever the agreement), 2 on usage
// or file errors. Disagreements are reported, not judged: the deliberate ones
// are documented in hygiene/address.h.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hygiene/address.h"
#include "hygiene/utf8.h"

namespace {

using deliverd::hygiene::AddressErrorCode;
using deliverd::hygiene::ParseAddress;
using deliverd::hygiene::ParsedAddress;

// Just enough JSON for the corpus file: no streaming, no number conversion.
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // String value, or the literal text of a number.
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;  // In file order.

  const Json* Get(absl::string_view key) const {
    for (const auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

class JsonReader {
 public:
  explicit JsonReader(absl::string_view in) : in_(in) {}

  bool Parse(Json* out) {
    if (!Value(out, 0)) return false;
    SkipSpace();
    if (pos_ != in_.size()) return Fail("trailing data");
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  static constexpr int kMaxDepth = 64;

  bool Fail(absl::string_view what) {
    if (error_.empty()) error_ = absl::StrCat(what, " at offset ", pos_);
    return false;
  }
  void SkipSpace() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\n' ||
                                 in_[pos_] == '\r' || in_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Consume(absl::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool Value(Json* out, int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    SkipSpace();
    if (pos_ >= in_.size()) return Fail("unexpected end");
    const char c = in_[pos_];
    if (c == '{') return Object(out, depth);
    if (c == '[') return Array(out, depth);
    if (c == '"') {
      out->kind = Json::Kind::kString;
      return String(&out->text);
    }
    if (Consume("true")) {
      out->kind = Json::Kind::kBool;
      out->boolean = true;
      return true;
    }
    if (Consume("false")) {
      out->kind = Json::Kind::kBool;
      return true;
    }
    if (Consume("null")) return true;
    const size_t start = pos_;
    while (pos_ < in_.size() &&
           absl::string_view("+-.0123456789eE").find(in_[pos_]) !=
               absl::string_view::npos) {
      ++pos_;
    }
    if (pos_ == start) return Fail("unexpected character");
    out->kind = Json::Kind::kNumber;
    out->text = std::string(in_.substr(start, pos_ - start));
    return true;
  }

  bool Object(Json* out, int depth) {
    out->kind = Json::Kind::kObject;
    ++pos_;
    SkipSpace();
    if (Consume("}")) return true;
    while (true) {
      SkipSpace();
      std::string key;
      if (pos_ >= in_.size() || in_[pos_] != '"') return Fail("expected key");
      if (!String(&key)) return false;
      SkipSpace();
      if (!Consume(":")) return Fail("expected ':'");
      Json value;
      if (!Value(&value, depth + 1)) return false;
      out->members.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (Consume("}")) return true;
      if (!Consume(",")) return Fail("expected ',' or '}'");
    }
  }

  bool Array(Json* out, int depth) {
    out->kind = Json::Kind::kArray;
    ++pos_;
    SkipSpace();
    if (Consume("]")) return true;
    while (true) {
      Json value;
      if (!Value(&value, depth + 1)) return false;
      out->items.push_back(std::move(value));
      SkipSpace();
      if (Consume("]")) return true;
      if (!Consume(",")) return Fail("expected ',' or ']'");
    }
  }

  bool Hex4(unsigned* v) {
    if (in_.size() - pos_ < 4) return Fail("short \\u escape");
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = in_[pos_++];
      *v <<= 4;
      if (h >= '0' && h <= '9') {
        *v |= h - '0';
      } else if (h >= 'a' && h <= 'f') {
        *v |= h - 'a' + 10;
      } else if (h >= 'A' && h <= 'F') {
        *v |= h - 'A' + 10;
      } else {
        return Fail("bad hex digit");
      }
    }
    return true;
  }


  bool String(std::string* out) {
    ++pos_;  // Opening quote.
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) break;
      const char e = in_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          unsigned cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && in_.substr(pos_, 2) == "\\u") {
            const size_t save = pos_;
            pos_ += 2;
            unsigned low;
            if (!Hex4(&low)) return false;
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          deliverd::hygiene::AppendUtf8(cp, out);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
    return Fail("unterminated string");
  }

  absl::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

// Shows an input so that controls, invisible and direction-changing
// characters cannot disturb the terminal; other text stays readable.
std::string Printable(absl::string_view s) {
  std::string out;
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7F) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned cp = 0;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      cp = b & 0x07;
    }
    bool ok = len != 0 && len <= s.size() - i;
    for (size_t k = 1; ok && k < len; ++k) {
      const unsigned char c = static_cast<unsigned char>(s[i + k]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok || (cp >= 0xD800 && cp <= 0xDFFF)) {
      std::snprintf(buf, sizeof(buf), "\\x%02X", b);
      out += buf;
      ++i;
      continue;
    }
    const bool hidden = cp < 0xA0 || (cp >= 0x2000 && cp <= 0x206F) ||
                        cp == 0xFEFF || (cp >= 0xE000 && cp <= 0xF8FF) ||
                        cp >= 0xF0000 || (cp >= 0x0300 && cp <= 0x036F);
    if (hidden) {
      std::snprintf(buf, sizeof(buf), "\\u{%04X}", cp);
      out += buf;
    } else {
      out.append(s.data() + i, len);
    }
    i += len;
  }
  return out;
}

// Spells out text whose difference may not be visible.
std::string CodePoints(absl::string_view s) {
  std::string out;
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    if (len > s.size() - i) len = s.size() - i;
    unsigned cp = len == 1 ? b : b & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    std::snprintf(buf, sizeof(buf), "%sU+%04X", out.empty() ? "" : " ", cp);
    out += buf;
    i += len;
  }
  return out;
}

struct Case {
  std::string input;
  const Json* output = nullptr;  // Expected fields, if any.
  const Json* normalized_local_part = nullptr;
};

struct Tally {
  int total = 0;
  int agree = 0;
};

std::vector<Case> CasesOf(const Json& c) {
  std::vector<Case> out;
  if (const Json* in = c.Get("email_input")) {
    Case k;
    k.input = in->text;
    k.output = c.Get("output");
    k.normalized_local_part = c.Get("normalized_local_part");
    out.push_back(std::move(k));
  } else if (const Json* s = c.Get("s")) {
    out.push_back({absl::StrCat(s->text, "@example.com")});
    out.push_back({absl::StrCat("test@", s->text, ".example.com")});
  }
  return out;
}

// Differences in the fields both sides define, for an accepted case.
std::string FieldDifferences(const Case& k, const ParsedAddress& got) {
  std::string diff;
  const auto compare = [&](absl::string_view name, const std::string& ours,
                           const Json* theirs) {
    if (theirs == nullptr || theirs->kind != Json::Kind::kString) return;
    if (ours == theirs->text) return;
    absl::StrAppend(&diff, " ", name, ": ours=", Printable(ours),
                    " corpus=", Printable(theirs->text), ";");
    // Non-ASCII differences are often invisible (normalisation forms).
    const auto non_ascii = [](absl::string_view t) {
      for (char c : t) {
        if (static_cast<unsigned char>(c) >= 0x80) return true;
      }
      return false;
    };
    if (non_ascii(ours) || non_ascii(theirs->text)) {
      absl::StrAppend(&diff, " (code points ours=", CodePoints(ours),
                      " corpus=", CodePoints(theirs->text), ")");
    }
  };
  if (k.output != nullptr) {
    compare("local_part", got.local_part, k.output->Get("local_part"));
    compare("domain_ascii", got.domain_ascii, k.output->Get("ascii_domain"));
    compare("domain_unicode", got.domain_unicode, k.output->Get("domain"));
    if (const Json* f = k.output->Get("smtputf8");
        f != nullptr && f->kind == Json::Kind::kBool &&
        f->boolean != got.smtputf8) {
      absl::StrAppend(&diff,
                      " smtputf8: ours=", got.smtputf8 ? "true" : "false",
                      " corpus=", f->boolean ? "true" : "false", ";");
    }
  }
  compare("local_part", got.local_part, k.normalized_local_part);
  return diff;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " CASES.json\n";
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  if (!file) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 2;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string text = buffer.str();
  Json root;
  JsonReader reader(text);
  if (!reader.Parse(&root) || root.kind != Json::Kind::kObject) {
    std::cerr << "cannot parse " << argv[1] << ": " << reader.error() << "\n";
    return 2;
  }

  Tally valid, invalid, fields;
  std::vector<std::string> disagreements;
  std::cout << "group                                          cases  expect  "
               "agree\n";
  for (const auto& [group, body] : root.members) {
    const Json* cases = body.Get("cases");
    if (cases == nullptr || cases->kind != Json::Kind::kArray) continue;
    const bool expect_valid = !absl::StrContains(group, "invalid") &&
                              !absl::StrContains(group, "unsafe");
    Tally t;
    for (const Json& c : cases->items) {
      for (const Case& k : CasesOf(c)) {
        ++t.total;
        const absl::StatusOr<ParsedAddress> got = ParseAddress(k.input);
        if (got.ok() != expect_valid) {
          disagreements.push_back(absl::StrCat(
              group, ": ", Printable(k.input),
              "\n    corpus: ", expect_valid ? "valid" : "invalid", "; ours: ",
              got.ok() ? absl::StrCat("valid -> ", Printable(got->normalized))
                       : absl::StrCat("invalid (",
                                      AddressErrorCode(got.status()), ")")));
          continue;
        }
        ++t.agree;
        if (got.ok()) {
          ++fields.total;
          const std::string diff = FieldDifferences(k, *got);
          if (diff.empty()) {
            ++fields.agree;
          } else {
            disagreements.push_back(
                absl::StrCat(group, ": ", Printable(k.input),
                             "\n    both valid, normalisation differs:", diff));
          }
        }
      }
    }
    Tally& side = expect_valid ? valid : invalid;
    side.total += t.total;
    side.agree += t.agree;
    std::printf("%-46s %5d  %-7s %5d\n", group.c_str(), t.total,
                expect_valid ? "valid" : "invalid", t.agree);
  }
  std::printf("\ncorpus valid:   %d, we accept %d\n", valid.total, valid.agree);
  std::printf("corpus invalid: %d, we reject %d\n", invalid.total,
              invalid.agree);
  std::printf("overall agreement: %d / %d\n", valid.agree + invalid.agree,
              valid.total + invalid.total);
  std::printf("accepted by both with identical fields: %d / %d\n", fields.agree,
              fields.total);
  std::printf("\ndisagreements (%zu):\n", disagreements.size());
  for (const std::string& d : disagreements) std::printf("  %s\n", d.c_str());
  return 0;
}
