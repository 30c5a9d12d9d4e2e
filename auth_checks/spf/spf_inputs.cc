#include "auth_checks/spf/spf_inputs.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace deliverd::auth_checks::spf {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool HasControlOrSpace(std::string_view text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return true;
  }
  return false;
}

// A DNS name as SPF will query it: labels of 1-63 octets, at most 253 in
// all, no empty labels (one trailing dot allowed).
bool IsDomainName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (++label > 63) {
      return false;
    }
  }
  return label > 0;
}

}  // namespace

absl::Status ValidateSpfInputs(std::string_view ip, std::string_view mail_from,
                               std::string_view helo) {
  if (ip.empty()) return Invalid("ip", "required");
  std::string ip_text(ip);
  unsigned char buffer[16];
  if (ip.size() > 45 || (inet_pton(AF_INET, ip_text.c_str(), buffer) != 1 &&
                         inet_pton(AF_INET6, ip_text.c_str(), buffer) != 1)) {
    return Invalid("ip", "not an IPv4 or IPv6 address");
  }
  if (HasControlOrSpace(mail_from)) {
    return Invalid("mail_from", "must not contain spaces or control characters");
  }
  if (mail_from.size() > 320) return Invalid("mail_from", "longer than 320 octets");
  if (!mail_from.empty()) {
    size_t at = mail_from.rfind('@');
    if (at == std::string_view::npos) {
      return Invalid("mail_from", "expected local@domain");
    }
    if (!IsDomainName(mail_from.substr(at + 1))) {
      return Invalid("mail_from", "the part after @ is not a domain name");
    }
  }
  if (HasControlOrSpace(helo)) {
    return Invalid("helo", "must not contain spaces or control characters");
  }
  if (mail_from.empty()) {
    if (helo.empty()) {
      return Invalid("helo", "required when mail_from is empty");
    }
    if (!IsDomainName(helo)) return Invalid("helo", "not a domain name");
  } else if (helo.size() > 255) {
    return Invalid("helo", "longer than 255 octets");
  }
  return absl::OkStatus();
}

}  // namespace deliverd::auth_checks::spf
