#include "client/mbox.h"

#include "absl/strings/match.h"

namespace deliverd::client {
namespace {

// mboxrd quotes body lines matching ">*From " with one more '>'.
bool IsQuotedFrom(absl::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == '>') ++i;
  return i > 0 && absl::StartsWith(line.substr(i), "From ");
}

void Finish(std::string& message, std::vector<std::string>& out) {
  // The blank line before the next separator belongs to the format.
  if (absl::EndsWith(message, "\r\n\r\n")) {
    message.resize(message.size() - 2);
  } else if (absl::EndsWith(message, "\n\n")) {
    message.resize(message.size() - 1);
  }
  if (!message.empty()) out.push_back(std::move(message));
  message.clear();
}

}  // namespace

bool LooksLikeMbox(absl::string_view data) {
  return absl::StartsWith(data, "From ");
}

std::vector<std::string> SplitMailbox(absl::string_view data) {
  std::vector<std::string> out;
  if (!LooksLikeMbox(data)) {
    if (!data.empty()) out.emplace_back(data);
    return out;
  }
  std::string message;
  bool started = false;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    size_t next = end == absl::string_view::npos ? data.size() : end + 1;
    absl::string_view line = data.substr(pos, next - pos);
    pos = next;
    if (absl::StartsWith(line, "From ")) {
      if (started) Finish(message, out);
      started = true;
      continue;
    }
    if (IsQuotedFrom(line)) line.remove_prefix(1);
    message.append(line.data(), line.size());
  }
  if (started) Finish(message, out);
  return out;
}

}  // namespace deliverd::client
