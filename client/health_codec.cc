#include "client/health_codec.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace deliverd::client {
namespace {

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

}  // namespace

std::string EncodeHealthCheckRequest(absl::string_view service) {
  std::string bytes;
  if (service.empty()) return bytes;  // proto3 omits default values.
  bytes.push_back(
      static_cast<char>((1 << 3) | 2));  // Field 1, length-delimited.
  AppendVarint(service.size(), &bytes);
  bytes.append(service.data(), service.size());
  return bytes;
}

absl::StatusOr<int> DecodeHealthCheckResponse(absl::string_view bytes) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  int status = 0;
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;  // End of input, or an invalid tag (checked below).
    if (tag == WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_VARINT)) {
      uint64_t value;
      if (!in.ReadVarint64(&value)) {
        return absl::DataLossError("malformed health check response");
      }
      status = static_cast<int>(static_cast<int32_t>(value));
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return absl::DataLossError("malformed health check response");
    }
  }
  if (in.CurrentPosition() != static_cast<int>(bytes.size())) {
    return absl::DataLossError("malformed health check response");
  }
  return status;
}

std::string HealthStatusName(int status) {
  switch (status) {
    case 0:
      return "UNKNOWN";
    case 1:
      return "SERVING";
    case 2:
      return "NOT_SERVING";
    case 3:
      return "SERVICE_UNKNOWN";
    default:
      return absl::StrCat("UNKNOWN(", status, ")");
  }
}

}  // namespace deliverd::client
