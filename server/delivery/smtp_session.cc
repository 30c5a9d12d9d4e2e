#include "server/delivery/smtp_session.h"

#include <openssl/evp.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "hygiene/bounce/smtp_reply.h"
#include "server/delivery/text_scan.h"

namespace deliverd::delivery {
namespace {

constexpr size_t kDataChunk = 64 * 1024;

std::string Base64(absl::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n);
  return out;
}

bool Positive(const store::Reply& r) { return r.code >= 200 && r.code < 300; }

std::string Describe(const store::Reply& r) {
  return absl::StrCat(r.code, r.enhanced_code.empty() ? "" : " ",
                      r.enhanced_code, r.text.empty() ? "" : " ", r.text);
}

// A refusal of a step that does not concern one message: 4xx is worth
// retrying later, anything else needs a person.
absl::Status StepRefused(absl::string_view step, const store::Reply& r) {
  std::string message =
      absl::StrCat("relay refused ", step, ": ", Describe(r));
  if (r.code >= 400 && r.code < 500) return absl::UnavailableError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace

void SmtpTimeouts::CapAt(absl::Duration limit) {
  for (absl::Duration* d :
       {&connect, &greeting, &command, &data_start, &data_block, &data_end}) {
    *d = std::min(*d, limit);
  }
}

std::string DotStuff(absl::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 64 + 8);
  size_t pos = 0;
  while (pos < data.size()) {
    size_t lf = data.find('\n', pos);
    size_t end = lf == absl::string_view::npos ? data.size() : lf;
    size_t next = lf == absl::string_view::npos ? data.size() : lf + 1;
    if (end > pos && data[end - 1] == '\r') --end;
    if (end > pos && data[pos] == '.') out.push_back('.');
    out.append(data.data() + pos, end - pos);
    out.append("\r\n");
    pos = next;
  }
  out.append(".\r\n");
  return out;
}

std::string XText(absl::string_view text) {
  std::string out;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      absl::StrAppend(&out, "+", absl::AsciiStrToUpper(absl::StrCat(
                                     absl::Hex(c, absl::kZeroPad2))));
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SmtpSession>> SmtpSession::Open(
    const SmtpSessionOptions& options) {
  if (options.tls != TlsMode::kNone && options.tls_context == nullptr) {
    return absl::InvalidArgumentError("TLS requested without a TLS context");
  }
  absl::StatusOr<std::unique_ptr<SmtpChannel>> channel = SmtpChannel::Connect(
      options.host, options.port, absl::Now() + options.timeouts.connect);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<SmtpSession> session(
      new SmtpSession(options, std::move(*channel)));
  absl::Status handshake = session->Handshake();
  if (!handshake.ok()) return handshake;
  return session;
}

SmtpSession::~SmtpSession() = default;

absl::Status SmtpSession::Fail(absl::Status status) {
  usable_ = false;
  return status;
}

absl::StatusOr<store::Reply> SmtpSession::ReadReply(
    absl::Time deadline, std::vector<std::string>* lines_out) {
  std::string raw;
  std::vector<std::string> lines;
  while (true) {
    absl::StatusOr<std::string> line =
        channel_->ReadLine(hygiene::bounce::kMaxLineOctets, deadline);
    if (!line.ok()) return Fail(line.status());
    bool last = line->size() == 3 || (line->size() > 3 && (*line)[3] == ' ');
    if (line->size() < 3 || (!last && (*line)[3] != '-')) {
      return Fail(absl::UnavailableError(absl::StrCat(
          channel_->peer(), " sent a malformed reply line")));
    }
    if (lines.size() >= hygiene::bounce::kMaxReplyLines ||
        raw.size() + line->size() > hygiene::bounce::kMaxReplyOctets) {
      return Fail(absl::UnavailableError(
          absl::StrCat(channel_->peer(), " sent an overlong reply")));
    }
    absl::StrAppend(&raw, *line, "\r\n");
    lines.push_back(std::move(*line));
    if (last) break;
  }
  absl::StatusOr<hygiene::bounce::SmtpReply> parsed =
      hygiene::bounce::ParseSmtpReply(raw);
  if (!parsed.ok()) {
    return Fail(absl::UnavailableError(
        absl::StrCat(channel_->peer(), " sent a malformed reply (",
                     hygiene::bounce::SmtpReplyErrorCode(parsed.status()),
                     ")")));
  }
  ++replies_read_;
  store::Reply reply;
  reply.code = parsed->code;
  if (parsed->enhanced.has_value()) {
    reply.enhanced_code = parsed->enhanced->ToString();
  }
  reply.text = parsed->text;
  reply.remote_host = channel_->peer();
  // 421: the server is closing the transmission channel (RFC 5321 3.8).
  if (reply.code == 421) usable_ = false;
  if (lines_out != nullptr) *lines_out = std::move(lines);
  return reply;
}

absl::StatusOr<store::Reply> SmtpSession::Command(absl::string_view line,
                                                  absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::Status written = channel_->Write(absl::StrCat(line, "\r\n"), deadline);
  if (!written.ok()) return Fail(written);
  return ReadReply(deadline, nullptr);
}

absl::Status SmtpSession::Hello(absl::Time deadline) {
  extensions_ = SmtpExtensions();
  absl::Status written = channel_->Write(
      absl::StrCat("EHLO ", options_.helo_name, "\r\n"), deadline);
  if (!written.ok()) return Fail(written);
  std::vector<std::string> lines;
  absl::StatusOr<store::Reply> ehlo = ReadReply(deadline, &lines);
  if (!ehlo.ok()) return ehlo.status();
  if (Positive(*ehlo)) {
    extensions_.esmtp = true;
    // The first line is the server's name; each further one a keyword.
    for (size_t i = 1; i < lines.size(); ++i) {
      std::vector<std::string> words = absl::StrSplit(
          absl::AsciiStrToUpper(lines[i].substr(4)), ' ', absl::SkipEmpty());
      if (words.empty()) continue;
      const std::string& key = words[0];
      if (key == "PIPELINING") extensions_.pipelining = true;
      if (key == "STARTTLS") extensions_.starttls = true;
      if (key == "8BITMIME") extensions_.eight_bit_mime = true;
      if (key == "SMTPUTF8") extensions_.smtputf8 = true;
      if (key == "DSN") extensions_.dsn = true;
      if (key == "ENHANCEDSTATUSCODES") extensions_.enhanced_status_codes = true;
      if (key == "SIZE") {
        int64_t limit = 0;
        if (words.size() > 1 && absl::SimpleAtoi(words[1], &limit) &&
            limit >= 0) {
          extensions_.max_size = limit;
        } else {
          extensions_.max_size = 0;
        }
      }
      if (key == "AUTH" || key.rfind("AUTH=", 0) == 0) {
        if (key != "AUTH") words[0] = key.substr(5);  // obsolete AUTH=X form
        for (size_t w = key == "AUTH" ? 1 : 0; w < words.size(); ++w) {
          extensions_.auth_mechanisms.push_back(words[w]);
        }
      }
    }
    return absl::OkStatus();
  }
  if (ehlo->code == 421 || ehlo->code < 500) return Fail(StepRefused("EHLO", *ehlo));
  // An old server without ESMTP: HELO, and no extensions.
  absl::StatusOr<store::Reply> helo =
      Command(absl::StrCat("HELO ", options_.helo_name),
              deadline - absl::Now());
  if (!helo.ok()) return helo.status();
  if (!Positive(*helo)) return Fail(StepRefused("HELO", *helo));
  return absl::OkStatus();
}

absl::Status SmtpSession::Handshake() {
  const SmtpTimeouts& t = options_.timeouts;
  if (options_.tls == TlsMode::kImplicit) {
    absl::Status tls = channel_->StartTls(*options_.tls_context, options_.host,
                                          absl::Now() + t.connect);
    if (!tls.ok()) return Fail(tls);
  }
  absl::StatusOr<store::Reply> greeting =
      ReadReply(absl::Now() + t.greeting, nullptr);
  if (!greeting.ok()) return greeting.status();
  if (greeting->code != 220) return Fail(StepRefused("the connection", *greeting));
  absl::Status hello = Hello(absl::Now() + t.command);
  if (!hello.ok()) return hello;
  if (options_.tls == TlsMode::kStartTls) {
    if (!extensions_.starttls) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          channel_->peer(),
          " does not offer STARTTLS (configure smtp-tls none to send in "
          "plain text)")));
    }
    absl::StatusOr<store::Reply> start = Command("STARTTLS", t.command);
    if (!start.ok()) return start.status();
    if (start->code != 220) return Fail(StepRefused("STARTTLS", *start));
    absl::Status tls = channel_->StartTls(*options_.tls_context, options_.host,
                                          absl::Now() + t.command);
    if (!tls.ok()) return Fail(tls);
    // RFC 3207: everything learnt before TLS is forgotten; ask again.
    hello = Hello(absl::Now() + t.command);
    if (!hello.ok()) return hello;
  }
  if (!options_.user.empty()) return Authenticate();
  return absl::OkStatus();
}

absl::Status SmtpSession::Authenticate() {
  const std::vector<std::string>& mechs = extensions_.auth_mechanisms;
  auto offers = [&](absl::string_view m) {
    return std::find(mechs.begin(), mechs.end(), m) != mechs.end();
  };
  absl::Duration timeout = options_.timeouts.command;
  absl::StatusOr<store::Reply> reply;
  if (offers("PLAIN")) {
    std::string credentials =
        absl::StrCat(std::string(1, '\0'), options_.user, std::string(1, '\0'),
                     options_.password);
    reply = Command(absl::StrCat("AUTH PLAIN ", Base64(credentials)), timeout);
    if (reply.ok() && reply->code == 334) {
      // A server that ignores the initial response asks for it again.
      reply = Command(Base64(credentials), timeout);
    }
  } else if (offers("LOGIN")) {
    reply = Command("AUTH LOGIN", timeout);
    if (reply.ok() && reply->code == 334) {
      reply = Command(Base64(options_.user), timeout);
      if (reply.ok() && reply->code == 334) {
        reply = Command(Base64(options_.password), timeout);
      }
    }
  } else {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        channel_->peer(), " offers no AUTH mechanism we speak (PLAIN, LOGIN)",
        mechs.empty() ? "; it offers no AUTH at all"
                      : absl::StrCat("; it offers ", absl::StrJoin(mechs, " ")))));
  }
  if (!reply.ok()) return reply.status();
  if (reply->code == 235) return absl::OkStatus();
  if (reply->code >= 400 && reply->code < 500) {
    return Fail(StepRefused("AUTH", *reply));
  }
  return Fail(absl::PermissionDeniedError(
      absl::StrCat("relay refused the credentials of ", options_.user, ": ",
                   Describe(*reply))));
}

absl::StatusOr<SmtpTransactionResult> SmtpSession::Send(
    const SmtpTransaction& txn, absl::string_view data) {
  if (!usable_) return absl::FailedPreconditionError("session is closed");
  if (txn.rcpt_to.empty()) {
    return absl::InvalidArgumentError("a transaction needs a recipient");
  }
  if (txn.smtputf8 && !extensions_.smtputf8) {
    return absl::FailedPreconditionError(absl::StrCat(
        channel_->peer(),
        " does not support SMTPUTF8, which this message's addresses need"));
  }
  SmtpTransactionResult result;
  result.recipient_replies.resize(txn.rcpt_to.size());

  std::string body = DotStuff(data);
  // The size of the message itself, as RFC 1870 counts it.
  int64_t size = static_cast<int64_t>(data.size());
  if (extensions_.max_size.has_value() && *extensions_.max_size > 0 &&
      size > *extensions_.max_size) {
    store::Reply refusal;
    refusal.code = 552;
    refusal.enhanced_code = "5.3.4";
    refusal.text = absl::StrCat("message of ", size,
                                " bytes exceeds the relay's SIZE limit of ",
                                *extensions_.max_size, " (not sent)");
    refusal.remote_host = channel_->peer();
    for (store::Reply& r : result.recipient_replies) r = refusal;
    result.final_reply = refusal;
    return result;
  }
  bool eight_bit = !IsAllAscii(data);

  std::string mail = absl::StrCat("MAIL FROM:<", txn.mail_from, ">");
  if (extensions_.max_size.has_value()) absl::StrAppend(&mail, " SIZE=", size);
  if (eight_bit && extensions_.eight_bit_mime) {
    absl::StrAppend(&mail, " BODY=8BITMIME");
  }
  if (txn.smtputf8) absl::StrAppend(&mail, " SMTPUTF8");
  if (extensions_.dsn) {
    absl::StrAppend(&mail, " RET=HDRS");
    if (!txn.envelope_id.empty()) {
      absl::StrAppend(&mail, " ENVID=", XText(txn.envelope_id));
    }
  }
  std::vector<std::string> rcpts;
  for (const std::string& address : txn.rcpt_to) {
    std::string rcpt = absl::StrCat("RCPT TO:<", address, ">");
    if (extensions_.dsn) {
      absl::StrAppend(&rcpt, txn.notify_failure_delay
                                 ? " NOTIFY=FAILURE,DELAY"
                                 : " NOTIFY=NEVER");
      if (IsAllAscii(address)) {
        absl::StrAppend(&rcpt, " ORCPT=rfc822;", XText(address));
      }
    }
    rcpts.push_back(std::move(rcpt));
  }

  const SmtpTimeouts& t = options_.timeouts;
  absl::StatusOr<store::Reply> mail_reply;
  absl::StatusOr<store::Reply> data_reply;
  bool any_accepted = false;
  if (extensions_.pipelining) {
    std::string group = absl::StrCat(mail, "\r\n");
    for (const std::string& r : rcpts) absl::StrAppend(&group, r, "\r\n");
    absl::StrAppend(&group, "DATA\r\n");
    absl::Time deadline = absl::Now() + t.command;
    absl::Status written = channel_->Write(group, deadline);
    if (!written.ok()) return Fail(written);
    mail_reply = ReadReply(deadline, nullptr);
    if (!mail_reply.ok()) return mail_reply.status();
    if (!usable_) {
      // 421 to MAIL: the server is closing; nothing else will be answered.
      for (store::Reply& r : result.recipient_replies) r = *mail_reply;
      result.final_reply = *mail_reply;
      return result;
    }
    for (size_t i = 0; i < rcpts.size(); ++i) {
      if (!usable_) {
        // 421 mid-group: the server is gone; the rest share its reply.
        result.recipient_replies[i] = result.recipient_replies[i - 1];
        continue;
      }
      absl::StatusOr<store::Reply> r =
          ReadReply(absl::Now() + t.command, nullptr);
      if (!r.ok()) return r.status();
      result.recipient_replies[i] = *r;
      if (Positive(*mail_reply) && Positive(*r)) any_accepted = true;
    }
    if (!usable_) {
      result.final_reply = result.recipient_replies.back();
      return result;
    }
    data_reply = ReadReply(absl::Now() + t.data_start, nullptr);
    if (!data_reply.ok()) return data_reply.status();
  } else {
    mail_reply = Command(mail, t.command);
    if (!mail_reply.ok()) return mail_reply.status();
    if (Positive(*mail_reply)) {
      for (size_t i = 0; i < rcpts.size(); ++i) {
        absl::StatusOr<store::Reply> r = Command(rcpts[i], t.command);
        if (!r.ok()) return r.status();
        result.recipient_replies[i] = *r;
        if (Positive(*r)) any_accepted = true;
        if (!usable_) {
          for (size_t j = i + 1; j < rcpts.size(); ++j) {
            result.recipient_replies[j] = *r;
          }
          result.final_reply = *r;
          return result;
        }
      }
      if (any_accepted) {
        data_reply = Command("DATA", t.data_start);
        if (!data_reply.ok()) return data_reply.status();
      }
    }
  }

  if (!Positive(*mail_reply)) {
    // The sender was refused: every recipient shares that reply.
    for (store::Reply& r : result.recipient_replies) r = *mail_reply;
    result.final_reply = *mail_reply;
    if (data_reply.ok() && data_reply->code == 354) {
      // A server that says 354 with no transaction open still wants the
      // terminating dot before it listens again.
      absl::StatusOr<store::Reply> ignored = Command(".", t.data_end);
      if (!ignored.ok()) return ignored.status();
    }
    if (usable_) {
      absl::Status reset = Reset();
      if (!reset.ok()) return reset;
    }
    return result;
  }
  if (!any_accepted) {
    result.final_reply = result.recipient_replies.back();
    if (data_reply.ok() && data_reply->code == 354) {
      absl::StatusOr<store::Reply> ignored = Command(".", t.data_end);
      if (!ignored.ok()) return ignored.status();
    } else if (usable_) {
      absl::Status reset = Reset();
      if (!reset.ok()) return reset;
    }
    return result;
  }
  if (data_reply->code != 354) {
    for (size_t i = 0; i < rcpts.size(); ++i) {
      if (Positive(result.recipient_replies[i])) {
        result.recipient_replies[i] = *data_reply;
      }
    }
    result.final_reply = *data_reply;
    if (usable_) {
      absl::Status reset = Reset();
      if (!reset.ok()) return reset;
    }
    return result;
  }

  for (size_t pos = 0; pos < body.size(); pos += kDataChunk) {
    absl::Status written =
        channel_->Write(absl::string_view(body).substr(pos, kDataChunk),
                        absl::Now() + t.data_block);
    if (!written.ok()) return Fail(written);
  }
  absl::StatusOr<store::Reply> end = ReadReply(absl::Now() + t.data_end, nullptr);
  if (!end.ok()) return end.status();
  ++transactions_;
  for (size_t i = 0; i < rcpts.size(); ++i) {
    if (Positive(result.recipient_replies[i])) {
      result.recipient_replies[i] = *end;
    }
  }
  result.final_reply = *end;
  return result;
}

absl::Status SmtpSession::Reset() {
  absl::StatusOr<store::Reply> reply = Command("RSET", options_.timeouts.command);
  if (!reply.ok()) return reply.status();
  if (!Positive(*reply)) return Fail(StepRefused("RSET", *reply));
  return absl::OkStatus();
}

void SmtpSession::Quit() {
  if (!usable_) return;
  usable_ = false;
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  if (channel_->Write("QUIT\r\n", deadline).ok()) {
    (void)channel_->ReadLine(hygiene::bounce::kMaxLineOctets, deadline);
  }
}

}  // namespace deliverd::delivery
