// DKIM key-record parsing and linting (see dkim_key.h for the contract).
#include "auth_checks/dkim/dkim_key.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace deliverd::auth_checks::dkim {
namespace {

constexpr size_t kEd25519KeyBytes = 32;

// Debian's Abseil has its own string_view, which StrCat does not take from
// std::string_view; this bridges the two.
std::string Str(std::string_view s) { return std::string(s); }

bool IsFws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimFws(std::string_view s) {
  while (!s.empty() && IsFws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsFws(s.back())) s.remove_suffix(1);
  return s;
}

std::string StripFws(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (!IsFws(c)) out.push_back(c);
  }
  return out;
}

// Splits on ':' and trims FWS around each element.
std::vector<std::string> SplitColonList(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t colon = value.find(':', start);
    std::string_view part = value.substr(
        start, colon == std::string_view::npos ? std::string_view::npos
                                               : colon - start);
    out.emplace_back(TrimFws(part));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return out;
}

void Add(DkimKey& key, Finding::Severity severity, std::string code,
         std::string message, std::string fix = {}) {
  key.findings.push_back(
      Finding{severity, std::move(code), std::move(message), std::move(fix)});
}

void AddSyntax(DkimKey& key, std::string message) {
  Add(key, Finding::kError, "dkim.syntax", std::move(message),
      "Publish the key record as tag=value pairs separated by ';', for "
      "example \"v=DKIM1; k=rsa; p=<base64 key>\".");
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (IsDigit(c)) return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict base64 (standard alphabet, '=' padding only at the end, length a
// multiple of 4). White space must already be removed.
std::optional<std::string> DecodeBase64(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = in[i + j];
      int v;
      if (c == '=') {
        if (!last || j < 4 - pad) return std::nullopt;
        v = 0;
      } else {
        v = Base64Value(c);
        if (v < 0) return std::nullopt;
      }
      group = (group << 6) | static_cast<uint32_t>(v);
    }
    out.push_back(static_cast<char>((group >> 16) & 0xff));
    if (!last || pad < 2) out.push_back(static_cast<char>((group >> 8) & 0xff));
    if (!last || pad < 1) out.push_back(static_cast<char>(group & 0xff));
  }
  return out;
}

struct TagSpec {
  std::string name;
  std::string_view value;  // FWS-trimmed at both ends.
};

// Splits the record into tag specs; grammar problems become findings and the
// offending piece is skipped.
std::vector<TagSpec> SplitTags(std::string_view record, DkimKey& key) {
  std::vector<TagSpec> tags;
  size_t start = 0;
  while (start <= record.size()) {
    size_t semi = record.find(';', start);
    const bool final_piece = semi == std::string_view::npos;
    std::string_view piece = record.substr(
        start, final_piece ? std::string_view::npos : semi - start);
    start = final_piece ? record.size() + 1 : semi + 1;
    std::string_view trimmed = TrimFws(piece);
    if (trimmed.empty()) {
      if (!final_piece) AddSyntax(key, "An empty tag between ';' separators.");
      continue;
    }
    size_t eq = trimmed.find('=');
    if (eq == std::string_view::npos) {
      AddSyntax(key, absl::StrCat("\"", Str(trimmed),
                                  "\" is not a tag=value pair (no '=')."));
      continue;
    }
    std::string_view name = TrimFws(trimmed.substr(0, eq));
    std::string_view value = TrimFws(trimmed.substr(eq + 1));
    bool name_ok = !name.empty() && IsAlpha(name.front());
    for (char c : name) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '_') name_ok = false;
    }
    if (!name_ok) {
      AddSyntax(key, absl::StrCat("\"", Str(name), "\" is not a valid tag name."));
      continue;
    }
    bool value_ok = true;
    for (char c : value) {
      unsigned char u = static_cast<unsigned char>(c);
      if (!IsFws(c) && (u < 0x21 || u > 0x7e)) value_ok = false;
    }
    if (!value_ok) {
      AddSyntax(key, absl::StrCat("The value of tag \"", Str(name),
                                  "\" holds control or non-ASCII characters."));
      continue;
    }
    tags.push_back(TagSpec{std::string(name), value});
  }
  return tags;
}

void CheckRsaKey(const std::string& der, DkimKey& key) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* begin = p;
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (pkey == nullptr) {
    Add(key, Finding::kError, "dkim.bad_key",
        "p= does not hold a DER SubjectPublicKeyInfo public key (it may be "
        "truncated, or a bare RSAPublicKey).",
        "Publish the public key as base64 of its DER SubjectPublicKeyInfo "
        "(the body of a \"BEGIN PUBLIC KEY\" PEM block).");
    return;
  }
  const bool trailing = static_cast<size_t>(p - begin) != der.size();
  const int id = EVP_PKEY_get_base_id(pkey);
  const int bits = EVP_PKEY_get_bits(pkey);
  EVP_PKEY_free(pkey);
  if (id != EVP_PKEY_RSA) {
    Add(key, Finding::kError, "dkim.bad_key",
        "k=rsa, but p= holds a key that is not RSA.",
        "Publish the RSA public key the selector signs with, or set k= to "
        "the key's type.");
    return;
  }
  if (trailing) {
    Add(key, Finding::kError, "dkim.bad_key",
        "p= has extra bytes after the DER public key.",
        "Publish exactly the base64 of the DER SubjectPublicKeyInfo.");
    return;
  }
  key.key_bits = bits > 0 ? bits : 0;
  if (bits < 1024) {
    Add(key, Finding::kError, "dkim.key_too_short",
        absl::StrCat("The RSA key has ", bits,
                     " bits; verifiers reject keys under 1024 bits."),
        "Generate a 2048-bit RSA key (or an ed25519 key alongside it) under a "
        "new selector and sign with it.");
  } else if (bits < 2048) {
    Add(key, Finding::kWarning, "dkim.key_too_short",
        absl::StrCat("The RSA key has ", bits,
                     " bits; 2048 bits is the recommended minimum."),
        "Generate a 2048-bit RSA key under a new selector and rotate to it.");
  }
}

void CheckEd25519Key(const std::string& raw, DkimKey& key) {
  if (raw.size() != kEd25519KeyBytes) {
    Add(key, Finding::kError, "dkim.bad_key",
        absl::StrCat("An ed25519 key is 32 bytes; p= holds ", raw.size(), "."),
        "Publish the base64 of the raw 32-byte ed25519 public key (not its "
        "SubjectPublicKeyInfo).");
    return;
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  if (pkey == nullptr) {
    Add(key, Finding::kError, "dkim.bad_key",
        "OpenSSL does not accept p= as an ed25519 public key.",
        "Publish the base64 of the raw 32-byte ed25519 public key.");
    return;
  }
  key.key_bits = EVP_PKEY_get_bits(pkey);
  EVP_PKEY_free(pkey);
}

}  // namespace

bool DkimKey::usable() const {
  for (const Finding& f : findings) {
    if (f.severity == Finding::kError) return false;
  }
  return true;
}

std::string DkimKeyName(std::string_view selector, std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return absl::StrCat(Str(selector), "._domainkey.", Str(domain));
}

DkimKey ParseDkimKeyRecord(std::string_view record) {
  DkimKey key;
  key.record = std::string(record);
  key.key_type = "rsa";
  std::vector<TagSpec> tags = SplitTags(record, key);

  std::map<std::string, std::string_view> seen;
  for (size_t i = 0; i < tags.size(); ++i) {
    const TagSpec& tag = tags[i];
    if (!seen.emplace(tag.name, tag.value).second) {
      AddSyntax(key, absl::StrCat("Tag \"", tag.name,
                                  "\" appears more than once; verifiers "
                                  "ignore such a record."));
      continue;
    }
    if (tag.name == "v") {
      if (i != 0) {
        AddSyntax(key, "v= must be the first tag of the record.");
      }
      if (tag.value != "DKIM1") {
        Add(key, Finding::kError, "dkim.bad_version",
            absl::StrCat("v=", Str(tag.value), " is not DKIM1."),
            "Write \"v=DKIM1\" as the first tag, or leave v= out.");
      }
    } else if (tag.name == "k") {
      key.key_type = std::string(tag.value);
      if (key.key_type != "rsa" && key.key_type != "ed25519") {
        Add(key, Finding::kError, "dkim.unknown_key_type",
            absl::StrCat("k=", Str(tag.value),
                         " is not a key type verifiers know (rsa, ed25519)."),
            "Set k=rsa or k=ed25519 (lower case) to match the key in p=.");
      }
    } else if (tag.name == "h") {
      key.hashes = SplitColonList(tag.value);
    } else if (tag.name == "t") {
      for (const std::string& flag : SplitColonList(tag.value)) {
        if (flag == "y") {
          key.testing = true;
        } else if (flag == "s") {
          key.strict = true;
        } else {
          Add(key, Finding::kInfo, "dkim.unknown_flag",
              absl::StrCat("t= flag \"", flag, "\" is unknown and ignored."));
        }
      }
    } else if (tag.name == "s") {
      key.services = SplitColonList(tag.value);
    } else if (tag.name == "n") {
      key.notes = std::string(tag.value);
    } else if (tag.name != "p") {
      Add(key, Finding::kInfo, "dkim.unknown_tag",
          absl::StrCat("Tag \"", tag.name, "\" is not a DKIM key tag; "
                       "verifiers ignore it."));
    }
  }

  // Hashes.
  if (!key.hashes.empty()) {
    bool sha1 = false, sha256 = false;
    for (const std::string& h : key.hashes) {
      if (h == "sha1") {
        sha1 = true;
      } else if (h == "sha256") {
        sha256 = true;
      } else {
        Add(key, Finding::kInfo, "dkim.unknown_hash",
            absl::StrCat("h= names \"", h, "\", which verifiers ignore."));
      }
    }
    if (sha1) {
      Add(key, Finding::kWarning, "dkim.sha1_allowed",
          "h= allows sha1, which is weak; verifiers treat rsa-sha1 "
          "signatures as failing (RFC 8301).",
          "Sign with sha256 and publish h=sha256 (or leave h= out).");
    }
    if (!sha256) {
      Add(key, Finding::kError, "dkim.no_usable_hash",
          absl::StrCat("h=", absl::StrJoin(key.hashes, ":"),
                       " does not allow sha256, the only hash verifiers "
                       "accept."),
          "Publish h=sha256 (or leave h= out) and sign with sha256.");
    }
  }

  // Services.
  if (!key.services.empty()) {
    bool email = false;
    for (const std::string& s : key.services) {
      if (s == "*" || s == "email") {
        email = true;
      } else {
        Add(key, Finding::kInfo, "dkim.unknown_service",
            absl::StrCat("s= names service \"", s, "\", which is ignored."));
      }
    }
    if (!email) {
      Add(key, Finding::kError, "dkim.not_for_email",
          "s= does not list \"email\" or \"*\", so the key may not be used "
          "to verify mail.",
          "Remove s= or set s=email.");
    }
  }

  // Flags.
  if (key.testing) {
    Add(key, Finding::kWarning, "dkim.testing",
        "t=y: the domain is testing DKIM; verifiers may treat failures as "
        "if the mail were unsigned.",
        "Remove the y flag from t= once signing works.");
  }
  if (key.strict) {
    Add(key, Finding::kInfo, "dkim.strict",
        "t=s: signatures must use exactly this domain in i= (no "
        "subdomains).");
  }

  // The key itself.
  auto p = seen.find("p");
  if (p == seen.end()) {
    AddSyntax(key, "The record has no p= tag (the public key).");
    return key;
  }
  std::string b64 = StripFws(p->second);
  if (b64.empty()) {
    key.revoked = true;
    Add(key, Finding::kError, "dkim.revoked",
        "p= is empty: the key of this selector has been revoked; signatures "
        "made with it fail.",
        "Sign with a selector that publishes a key, or publish a new key "
        "here.");
    return key;
  }
  std::optional<std::string> der = DecodeBase64(b64);
  if (!der.has_value()) {
    Add(key, Finding::kError, "dkim.bad_key", "p= is not valid base64.",
        "Publish the public key in base64 with nothing else in p= (quotes "
        "and line breaks from a PEM file included by mistake are common).");
    return key;
  }
  if (key.key_type == "rsa") {
    CheckRsaKey(*der, key);
  } else if (key.key_type == "ed25519") {
    CheckEd25519Key(*der, key);
  }
  return key;
}

DkimKey CheckDkimKeyAnswer(const dns::Answer& answer) {
  if (answer.outcome == dns::Outcome::kOk && answer.records.size() == 1) {
    return ParseDkimKeyRecord(answer.records.front().data);
  }
  DkimKey key;
  if (answer.outcome == dns::Outcome::kOk) {
    Add(key, Finding::kError, "dkim.multiple_records",
        absl::StrCat("The selector has ", answer.records.size(),
                     " TXT records; verifiers may use any one of them."),
        "Publish exactly one TXT record at the selector's name.");
  } else if (dns::IsVoid(answer.outcome)) {
    Add(key, Finding::kError, "dkim.no_record",
        absl::StrCat("No DKIM key is published for this selector (",
                     Str(dns::OutcomeName(answer.outcome)), ")."),
        "Publish the selector's public key as a TXT record at "
        "<selector>._domainkey.<domain>, or check the selector name.");
  } else {
    std::string detail = answer.detail.empty()
                             ? std::string()
                             : absl::StrCat(": ", answer.detail);
    Add(key, Finding::kWarning, "dkim.dns_temporary",
        absl::StrCat("The key lookup failed (",
                     Str(dns::OutcomeName(answer.outcome)), detail,
                     "); the key could not be checked."),
        "Retry later; if it persists, check the domain's DNS servers.");
  }
  return key;
}

}  // namespace deliverd::auth_checks::dkim
