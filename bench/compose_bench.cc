// Composing outgoing messages (server/delivery/composer): microseconds of
// CPU per ComposeMessage call for the message shapes deliverd sends, one
// thread. The first row is relay_bench's message (one recipient, a 4 KB
// ASCII text body), the part of a relayed message's CPU spent composing.
//
// usage: compose_bench [--messages N]
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "server/delivery/composer.h"

namespace {

using deliverd::delivery::ComposeInput;
using deliverd::delivery::ComposeMessage;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

std::string Lines(size_t bytes, const std::string& line) {
  std::string out;
  while (out.size() + line.size() + 1 <= bytes) out += line + "\n";
  out.resize(bytes, 'x');
  return out;
}

ComposeInput Base() {
  ComposeInput in;
  in.from = {"sender@example.com", "Sender"};
  in.to = {{"rcpt@example.org", ""}};
  in.subject = "Your receipt";
  in.message_id = "m_01hx0000000000000000000000@deliverd.local";
  in.deliverd_id = "m_01hx0000000000000000000000";
  in.date = absl::FromUnixSeconds(1790000000);
  return in;
}

// Returns the composed size, so the work cannot be optimised away.
void Row(const char* name, const ComposeInput& in, int messages) {
  size_t bytes = 0;
  const double start = CpuSeconds();
  for (int i = 0; i < messages; ++i) {
    absl::StatusOr<std::string> out = ComposeMessage(in);
    if (!out.ok()) {
      std::fprintf(stderr, "%s: %s\n", name,
                   std::string(out.status().message()).c_str());
      std::exit(1);
    }
    bytes += out->size();
  }
  const double seconds = CpuSeconds() - start;
  std::printf("| %-44s | %8.1f | %7zu |\n", name, seconds * 1e6 / messages,
              bytes / messages);
}

}  // namespace

int main(int argc, char** argv) {
  int messages = 20000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--messages") == 0 && i + 1 < argc) {
      messages = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: compose_bench [--messages N]\n");
      return 2;
    }
  }
  const std::string line =
      "The quick brown fox jumps over the lazy dog, again and again.";
  std::printf("| %-44s | %8s | %7s |\n", "message", "us each", "bytes");
  std::printf("| :--- | ---: | ---: |\n");

  ComposeInput text = Base();
  text.text_body = Lines(3996, line);
  Row("4 KB ASCII text (relay_bench's message)", text, messages);

  ComposeInput utf8 = Base();
  utf8.subject = "Votre reçu — merci";
  utf8.text_body = Lines(3996, "Merci pour votre commande, à bientôt !");
  Row("4 KB UTF-8 text, encoded subject", utf8, messages);

  ComposeInput alternative = Base();
  alternative.text_body = Lines(3996, line);
  alternative.html_body = "<html><body><p>" + Lines(3996, line) +
                          "</p></body></html>";
  Row("text and html alternatives, 4 KB each", alternative, messages);

  ComposeInput attachment = Base();
  attachment.text_body = Lines(3996, line);
  attachment.attachments.push_back(
      {"report.pdf", "application/pdf", std::string(32 * 1024, '\x7f'), ""});
  Row("4 KB text and a 32 KB attachment", attachment, messages / 4);
  return 0;
}
