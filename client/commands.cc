#include "client/commands.h"

#include <map>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/alert_requests.h"
#include "client/enum_names.h"
#include "client/output.h"
#include "client/table.h"
#include "deliverd/v1/alerts.pb.h"
#include "deliverd/v1/messages.pb.h"
#include "deliverd/v1/subscriptions.pb.h"

namespace deliverd::client {
namespace {

constexpr FlagKind kBool = FlagKind::kBool;
constexpr FlagKind kValue = FlagKind::kValue;
constexpr FlagKind kRepeated = FlagKind::kRepeated;

FlagSpec Flag(std::string name, FlagKind kind, std::string value_name,
              std::string help) {
  FlagSpec spec;
  spec.name = std::move(name);
  spec.kind = kind;
  spec.value_name = std::move(value_name);
  spec.help = std::move(help);
  return spec;
}

FlagSpec Required(FlagSpec spec) {
  spec.required = true;
  return spec;
}

FlagSpec CommaList(FlagSpec spec) {
  spec.split_commas = true;
  return spec;
}

CommandSpec Command(std::string name, std::string arguments, int min, int max,
                    std::string summary, std::vector<FlagSpec> flags,
                    std::string description = "") {
  CommandSpec spec;
  spec.name = std::move(name);
  spec.arguments = std::move(arguments);
  spec.min_positionals = min;
  spec.max_positionals = max;
  spec.summary = std::move(summary);
  spec.flags = std::move(flags);
  spec.description = std::move(description);
  return spec;
}

std::vector<CommandSpec> BuildSpecs() {
  const std::string statuses = EnumCliNames(v1::MessageStatus_descriptor());
  const std::string types = EnumCliNames(v1::EventType_descriptor());
  const std::string reasons = EnumCliNames(v1::SuppressionReason_descriptor());
  std::vector<CommandSpec> specs;

  specs.push_back(Command(
      "send", "", 0, 0, "Send one message; prints its id",
      {
          Required(Flag("from", kValue, "ADDR", "sender address")),
          Flag("from-name", kValue, "NAME", "sender display name"),
          CommaList(Flag("to", kRepeated, "ADDR",
                         "recipient (repeatable; or a,b,c)")),
          CommaList(Flag("cc", kRepeated, "ADDR", "Cc recipient (same)")),
          CommaList(Flag("bcc", kRepeated, "ADDR", "Bcc recipient (same)")),
          CommaList(
              Flag("reply-to", kRepeated, "ADDR", "Reply-To address (same)")),
          Required(Flag("subject", kValue, "TEXT", "subject")),
          Flag("text", kValue, "TEXT", "plain-text body"),
          Flag("text-file", kValue, "FILE",
               "plain-text body from FILE (- is stdin)"),
          Flag("html", kValue, "HTML", "HTML body"),
          Flag("html-file", kValue, "FILE", "HTML body from FILE (- is stdin)"),
          Flag("attach", kRepeated, "FILE", "attach FILE (repeatable)"),
          Flag("header", kRepeated, "'NAME: VALUE'",
               "extra header (repeatable)"),
          Flag("tag", kRepeated, "TAG", "tag (repeatable)"),
          Flag("meta", kRepeated, "KEY=VALUE", "metadata entry (repeatable)"),
          Flag("stream", kValue, "STREAM", "message stream"),
          Flag("request-id", kValue, "ID",
               "idempotency key (a retry with it sends nothing new)"),
          Flag("send-at", kValue, "TIME", "hold until TIME (RFC 3339)"),
      },
      "Needs at least one recipient and a body (--text/--text-file and/or "
      "--html/--html-file).\nAddresses are checked by the server, which "
      "names the offending field.\nOutput: the message id (with --json, the "
      "SendResponse)."));

  specs.push_back(Command(
      "send-batch", "FILE", 1, 1,
      "Send messages from a JSON Lines file (- for stdin)", {},
      "Each line is a SendRequest in protobuf JSON, e.g.\n"
      "  {\"content\":{\"from\":{\"address\":\"a@example.com\"},"
      "\"to\":[{\"address\":\"b@example.com\"}],\"subject\":\"Hi\","
      "\"textBody\":\"Hello\"}}\n"
      "The whole file is parsed before anything is sent; it is sent in "
      "calls of up to 1000.\nPrints one line per item, \"OK <id>\" or "
      "\"ERROR <field>: <message>\" (with --json, one result object per "
      "line);\nexits 1 if any item failed."));

  specs.push_back(Command(
      "status", "ID", 1, 1, "Show a message, its recipients and its events", {},
      "ID is a message id (m_...) or name (messages/m_...)."));

  specs.push_back(Command(
      "log", "", 0, 0, "List messages, newest first",
      {
          CommaList(
              Flag("status", kRepeated, "STATUS",
                   "only these statuses (repeatable; or a,b): " + statuses)),
          Flag("recipient", kValue, "ADDR", "only messages to ADDR"),
          Flag("sender", kValue, "ADDR", "only messages from ADDR"),
          Flag("tag", kValue, "TAG", "only messages with TAG"),
          Flag("since", kValue, "TIME",
               "created at or after TIME (RFC 3339, or 1h, 30m, 7d ago)"),
          Flag("until", kValue, "TIME", "created before TIME (same forms)"),
          Flag("limit", kValue, "N", "messages per page, 1-1000 (default 50)"),
          Flag("page-token", kValue, "TOKEN", "continue from a previous page"),
          Flag("all", kBool, "", "follow every page"),
      },
      "With --json, prints each ListMessagesResponse page as one line."));

  specs.push_back(
      Command("resend", "ID...", 1, -1, "Send earlier messages again",
              {
                  Flag("override-suppression", kBool, "",
                       "send to suppressed recipients too (needs --reason)"),
                  Flag("reason", kValue, "TEXT",
                       "why suppression is overridden (recorded)"),
                  Flag("request-id", kValue, "ID", "idempotency key"),
              },
              "Prints \"<original> -> <new id>\" per message; exits 1 if any "
              "failed."));

  specs.push_back(Command(
      "watch", "", 0, 0, "Stream message events as they happen",
      {
          Flag("after", kValue, "CURSOR", "continue after CURSOR"),
          Flag("from-beginning", kBool, "", "start with the first event"),
          Flag("message", kValue, "ID", "only events of this message"),
          Flag("tag", kValue, "TAG", "only events of messages with TAG"),
          CommaList(
              Flag("type", kRepeated, "TYPE",
                   "only these event types (repeatable; or a,b): " + types)),
          Flag("count", kValue, "N", "exit after N events"),
      },
      "One line per event: time, cursor, message, type, recipient, detail.\n"
      "Runs until interrupted (SIGINT/SIGTERM end it cleanly, exit 0) or "
      "--count events.\n--timeout, when given, bounds the whole stream."));

  specs.push_back(Command(
      "suppressions list", "", 0, 0, "List suppressed addresses",
      {
          Flag("reason", kValue, "REASON", "only this reason: " + reasons),
          Flag("scope", kValue, "SCOPE",
               "only this scope (default: every scope; \"\" for "
               "tenant-wide only)"),
          Flag("prefix", kValue, "PREFIX", "only addresses starting with it"),
          Flag("limit", kValue, "N", "entries per page, 1-1000"),
          Flag("page-token", kValue, "TOKEN", "continue from a previous page"),
          Flag("all", kBool, "", "follow every page"),
          Flag("csv", kBool, "",
               "CSV export: address,reason,scope,create_time,expire_time,"
               "source_message,evidence"),
      }));

  specs.push_back(
      Command("suppressions add", "ADDR", 1, 1, "Suppress an address",
              {
                  Required(Flag("reason", kValue, "REASON", reasons)),
                  Flag("scope", kValue, "SCOPE",
                       "a stream or list (default: the whole tenant)"),
                  Flag("expires", kValue, "TIME",
                       "RFC 3339 time, or a duration from now (30d)"),
                  Flag("note", kValue, "TEXT", "why (recorded as evidence)"),
                  Flag("request-id", kValue, "ID", "idempotency key"),
              }));

  specs.push_back(Command(
      "suppressions remove", "ADDR", 1, 1, "Remove a suppression",
      {
          Required(Flag("reason", kValue, "TEXT",
                        "why the address may be mailed again (recorded)")),
          Flag("scope", kValue, "SCOPE",
               "the suppression's scope (default: tenant-wide)"),
      }));

  specs.push_back(
      Command("suppressions check", "ADDR...", 1, -1,
              "Tell whether addresses are suppressed",
              {
                  Flag("stream", kValue, "STREAM",
                       "check for this stream (tenant-wide suppressions always "
                       "apply)"),
              }));

  specs.push_back(Command(
      "subscriptions subscribe", "", 0, 0, "Subscribe an address to a list",
      {
          Required(Flag("address", kValue, "ADDR", "the address")),
          Required(Flag("list", kValue, "LIST", "the list")),
          Flag("meta", kRepeated, "KEY=VALUE",
               "metadata to keep with the subscription (repeatable)"),
          Flag("double-opt-in", kBool, "",
               "create it pending until confirmed with --confirm"),
          Flag("confirm", kBool, "", "confirm a pending subscription"),
          Flag("request-id", kValue, "ID", "idempotency key"),
      },
      "Subscribing again lifts the list's unsubscribe suppression (never a\n"
      "bounce, complaint or manual one). Prints LIST STATE SOURCE CREATED\n"
      "UPDATED; --json prints the Subscription."));

  specs.push_back(Command(
      "subscriptions unsubscribe", "", 0, 0,
      "Unsubscribe an address from a list, or from every list",
      {
          Required(Flag("address", kValue, "ADDR", "the address")),
          Flag("list", kValue, "LIST",
               "the list (default: every list it is subscribed to)"),
          Required(Flag("reason", kValue, "TEXT", "why (recorded)")),
          Flag("request-id", kValue, "ID", "idempotency key"),
      },
      "Suppresses the address for each list it leaves (transactional mail\n"
      "is not affected). --json prints the (first) Subscription."));

  specs.push_back(Command(
      "subscriptions get", "", 0, 0, "Show an address's subscriptions",
      {
          Required(Flag("address", kValue, "ADDR", "the address")),
          Flag("list", kValue, "LIST", "only this list (default: every list)"),
      },
      "Prints LIST STATE SOURCE CREATED UPDATED; --json prints the\n"
      "Subscription (with --list) or the ListSubscriptionsResponse."));

  specs.push_back(
      Command("health", "", 0, 0, "Check the server's health (grpc.health.v1)",
              {Flag("service", kValue, "NAME", "ask about one service")},
              "Prints SERVING, NOT_SERVING, ...; exits 0 only when SERVING."));

  CommandSpec spf = Command(
      "spf", "", 0, 0, "Evaluate SPF check_host() for one connection",
      {
          Required(Flag("ip", kValue, "IP", "the SMTP client's IPv4 or IPv6 address")),
          Flag("mail-from", kValue, "ADDR",
               "the MAIL FROM address (empty for a bounce: --helo is used)"),
          Flag("helo", kValue, "NAME", "the HELO/EHLO name"),
      },
      "Prints the result (pass, fail, softfail, neutral, none, temperror,\n"
      "permerror) and why; --json prints {\"result\", \"explanation\", ...}.\n"
      "With --local the check runs in-process against --dns (default: the\n"
      "system resolver); otherwise the server runs it. Exit 0 whenever the\n"
      "check ran, whatever its result.");
  spf.supports_local = true;
  specs.push_back(spf);

  CommandSpec check_domain = Command(
      "check-domain", "DOMAIN", 1, 1,
      "Report on a sending domain's SPF, DKIM, DMARC and MX",
      {
          CommaList(Flag("dkim-selector", kRepeated, "SELECTOR",
                         "a DKIM selector to check (repeatable, or "
                         "comma-separated)")),
      },
      "Shows the SPF record with its evaluation tree and its DNS lookups\n"
      "against the limits of 10 and 2 (void), each DKIM selector's key, the\n"
      "DMARC record found at the domain or a parent (the DMARCbis tree\n"
      "walk), MX, and every finding with a severity, a stable code and a\n"
      "fix. --json prints the DomainReport message. With --local the check\n"
      "runs in-process against --dns (default: the system resolver).\n"
      "Exit status: 0 pass, 3 warnings, 4 errors (1: the check could not\n"
      "run, 2: usage), so a CI pre-send step can gate on it.");
  check_domain.supports_local = true;
  specs.push_back(check_domain);

  CommandSpec classify = Command(
      "classify-bounce", "FILE...", 1, 1000,
      "Classify bounces, DSNs and feedback reports per recipient",
      {},
      "Each FILE is one raw message (\"-\" reads standard input). Prints one\n"
      "row per recipient the bounce names: the address, DSN status, reason\n"
      "(user_unknown, mailbox_full, blocked, complaint, ...) and class (hard,\n"
      "soft, none); --json prints one {\"file\", \"recipient\", \"status\",\n"
      "\"reason\", \"class\", \"action\", \"diagnostic\"} per line, or\n"
      "{\"file\", \"bounce\": false} for a message that is not a bounce.\n"
      "With --local it runs in-process. Exit 1 if any file could not be read.");
  classify.supports_local = true;
  specs.push_back(classify);

  specs.push_back(Command(
      "ingest", "FILE...", 1, 1000,
      "Apply bounces, complaints and provider events to your messages",
      {Flag("provider", kValue, "NAME",
            "each FILE is one webhook body of ses, mailgun, postmark or "
            "sendgrid")},
      "Each FILE is a raw bounce, DSN or feedback report, or an mbox export\n"
      "of many (\"-\" reads standard input). The server matches each to the\n"
      "message it is about (VERP return path, then Message-ID), records the\n"
      "event, updates the status, and suppresses hard bounces and\n"
      "complainers. Ingesting the same feedback again changes nothing\n"
      "(outcome \"duplicate\"). One row per recipient: kind, reason, class,\n"
      "outcome (applied, duplicate, unmatched, ignored) and message; --json\n"
      "prints one object per line. Exit 1 if any input could not be read or\n"
      "was refused."));

  CommandSpec verify = Command(
      "verify", "ADDR...", 1, 1000, "Verify addresses: one verdict each",
      {Flag("offline", kBool, "", "syntax, typos, disposable and role only; no DNS")},
      "Verdicts: deliverable (the domain takes mail), undeliverable, risky\n"
      "(role account, disposable domain, likely typo), unknown (not checked or\n"
      "DNS failed). --json prints one object per address. With --local it\n"
      "runs in-process (DNS through --dns); through the server each verdict\n"
      "also says whether the address is on your suppression list.");
  verify.supports_local = true;
  specs.push_back(verify);

  CommandSpec clean = Command(
      "clean", "FILE", 1, 1,
      "Clean a CSV list: dedupe, verify, drop suppressed addresses",
      {
          Required(Flag("out", kValue, "FILE",
                        "the cleaned list: kept rows plus a verdict column")),
          Flag("removed", kValue, "FILE",
               "removed rows plus removal_reason (default: OUT.removed.csv)"),
          Flag("report", kValue, "FILE", "a JSON report of the counts"),
          Flag("column", kValue, "NAME|N",
               "the address column, by header name or number from 1"),
          Flag("header", kValue, "auto|yes|no",
               "whether the first line is a header (default: auto)"),
          Flag("offline", kBool, "", "syntax, typos, disposable and role only; no DNS"),
          Flag("remove-risky", kBool, "",
               "remove risky addresses too (default: keep them)"),
          Flag("stream", kValue, "STREAM",
               "also apply this stream's suppressions"),
          Flag("quiet", kBool, "", "no progress output"),
          Flag("progress-every", kValue, "N",
               "when stderr is not a terminal, a progress line every N rows "
               "(default 100000)"),
      },
      "FILE is RFC 4180 CSV (\"-\" reads standard input). Without --column,\n"
      "the column headed email/e-mail/address is used, else the first with an\n"
      "'@' in the first data row. Rows are removed as duplicate (same\n"
      "normalised address as an earlier row), invalid, suppressed,\n"
      "undeliverable, or risky (with --remove-risky). Prints a summary table\n"
      "(--json: the report). With --local it runs in-process without the\n"
      "suppression list (DNS through --dns unless --offline). Outputs are\n"
      "written as FILE.tmp and renamed at the end. Exit 1 if the input cannot\n"
      "be read or parsed.");
  clean.supports_local = true;
  specs.push_back(clean);

  const std::string actions = "suppress, flag or keep (default keep)";
  specs.push_back(Command(
      "jobs create", "", 0, 0, "Define a scheduled cleaning job",
      {
          Flag("name", kValue, "NAME", "a display name"),
          Required(Flag("source", kValue, "PATH",
                        "the list to clean (CSV, a path on the server under "
                        "its jobs folder)")),
          Required(Flag("destination", kValue, "PATH",
                        "where the cleaned list goes (on the server, under "
                        "its jobs folder)")),
          Flag("schedule", kValue, "CRON",
               "5-field cron in UTC, e.g. \"0 3 * * *\" (default: on demand "
               "only)"),
          Flag("offline", kBool, "", "syntax, typos, disposable and role only; no DNS"),
          Flag("remove-risky", kBool, "", "leave risky addresses out too"),
          Flag("stream", kValue, "STREAM",
               "also apply this stream's suppressions"),
          Flag("on-undeliverable", kValue, "ACTION",
               "invalid and undeliverable rows: " + actions),
          Flag("on-risky", kValue, "ACTION", "risky rows: " + actions),
      },
      "The destination is the cleaned list with verdict and reason columns.\n"
      "suppress adds the address to the suppression list (reason invalid) and\n"
      "leaves it out; flag writes the row even if it would be removed, so its\n"
      "verdict and reason can be reviewed; keep changes nothing."));
  specs.push_back(Command("jobs list", "", 0, 0, "List cleaning jobs", {}));
  specs.push_back(
      Command("jobs get", "ID", 1, 1, "Show a cleaning job and its last run", {}));
  specs.push_back(Command(
      "jobs run", "ID", 1, 1, "Start a cleaning job now", {},
      "Prints the run as it starts; 'jobs runs ID' shows how it ends."));
  specs.push_back(
      Command("jobs delete", "ID", 1, 1, "Delete a cleaning job and its runs", {}));
  specs.push_back(Command(
      "jobs runs", "ID", 1, 1, "List a cleaning job's runs, newest first",
      {Flag("limit", kValue, "N", "at most N runs (1-100, default 20)")}));

  const std::string channel_types =
      EnumCliNames(v1::AlertChannelType_descriptor());
  specs.push_back(Command(
      "alerts channels", "", 0, 0, "List alert channels", {},
      "Prints NAME TYPE DESTINATION CREATED; URLs are shown as the server\n"
      "returns them, with their path and query redacted. --json prints the\n"
      "ListAlertChannelsResponse."));
  specs.push_back(Command(
      "alerts add-channel", "NAME", 1, 1,
      "Create an alert channel: where alerts are sent",
      {
          Required(Flag("type", kValue, "TYPE", channel_types)),
          Flag("url", kValue, "URL",
               "slack, discord, teams, webhook: the webhook URL"),
          Flag("secret-file", kValue, "FILE",
               "webhook: the HMAC signing key (16+ bytes) from FILE (- is "
               "stdin; default: $DELIVERCTL_ALERT_SECRET)"),
          CommaList(Flag("email-to", kRepeated, "ADDR",
                         "email: a recipient (repeatable; or a,b; up to 10)")),
          Flag("sms-base-url", kValue, "URL",
               "sms: the API's base URL (default https://api.twilio.com)"),
          Flag("sms-account-sid", kValue, "SID", "sms: the account SID"),
          Flag("sms-auth-token-file", kValue, "FILE",
               "sms: the auth token from FILE (default: "
               "$DELIVERCTL_SMS_AUTH_TOKEN)"),
          Flag("sms-from", kValue, "NUMBER", "sms: the sending number"),
          CommaList(Flag("sms-to", kRepeated, "NUMBER",
                         "sms: a recipient, E.164 (repeatable; or a,b)")),
      },
      "NAME is 1-63 characters of a-z, 0-9 and '-'. Secrets are read from\n"
      "files (one trailing newline is dropped) or the environment, never from\n"
      "the command line, where other users could see them in `ps`.\n"
      "Examples:\n"
      "  deliverctl alerts add-channel ops --type slack --url "
      "https://hooks.slack.com/services/...\n"
      "  deliverctl alerts add-channel hook --type webhook --url "
      "https://example.com/hook --secret-file key.txt\n"
      "  deliverctl alerts add-channel oncall --type email --email-to "
      "a@example.com,b@example.com"));
  specs.push_back(Command(
      "alerts rm-channel", "NAME", 1, 1, "Delete an alert channel", {},
      "Refused (FAILED_PRECONDITION) while a rule still sends to it."));
  specs.push_back(Command(
      "alerts rules", "", 0, 0, "List alert rules", {},
      "Prints RULE KIND SEVERITY CHANNELS PARAMETERS COOLDOWN, the parameters\n"
      "in flag form (threshold=0.3% window=1h min-volume=100). --json prints\n"
      "the ListAlertRulesResponse."));
  specs.push_back(Command(
      "alerts add-rule", "KIND", 1, 1,
      "Create an alert rule: what raises alerts; prints its id",
      {
          Required(CommaList(Flag("channel", kRepeated, "NAME",
                                  "send to this channel (repeatable; or a,b)"))),
          Flag("severity", kValue, "SEVERITY",
               "warning or critical (default: critical for message-failed "
               "and queue-age, else warning)"),
          Flag("threshold", kValue, "RATE",
               "bounce-rate, complaint-rate: alert above RATE, 0.3% or 0.003 "
               "(default 5% / 0.3%)"),
          Flag("window", kValue, "DURATION",
               "bounce-rate, complaint-rate: the window (default 1h)"),
          Flag("min-volume", kValue, "N",
               "bounce-rate, complaint-rate: fewest messages sent in the "
               "window before the rate counts (default 100)"),
          Flag("max-age", kValue, "DURATION",
               "queue-age: alert when the oldest queued message is older "
               "(default 30m)"),
          CommaList(Flag("domain", kRepeated, "DOMAIN",
                         "domain-auth: a sending domain to check (repeatable; "
                         "or a,b)")),
          Flag("interval", kValue, "DURATION",
               "domain-auth: how often to check (default 1h)"),
          Flag("cooldown", kValue, "DURATION",
               "after an alert, count further matches this long and then "
               "send one summary (default 15m)"),
      },
      "KIND is one of:\n  " + AlertRuleKindCliNames() +
          ".\nDurations: 90s, 15m, 1h, 2d, 1h30m. Example:\n"
          "  deliverctl alerts add-rule complaint-rate --channel ops "
          "--threshold 0.1% --window 24h"));
  specs.push_back(Command("alerts rm-rule", "RULE", 1, 1,
                          "Delete an alert rule",
                          {}, "RULE is its id (r_...) or name "
                              "(alertRules/r_...)."));
  specs.push_back(Command(
      "alerts test", "CHANNEL", 1, 1,
      "Send a test alert to a channel and show the channel's answer", {},
      "Waits for the channel (retries included, within --timeout). Prints\n"
      "whether it was accepted, the HTTP (or SMTP) status, the attempts, the\n"
      "destination and any error; --json prints the AlertRecord. Exit 0 when\n"
      "the channel accepted it, 1 when not."));
  specs.push_back(Command(
      "alerts list", "", 0, 0, "List sent alerts, newest first",
      {
          Flag("channel", kValue, "NAME", "only alerts sent to this channel"),
          Flag("kind", kValue, "KIND", "only this kind (or test)"),
          Flag("limit", kValue, "N", "alerts per page, 1-500 (default 50)"),
          Flag("page-token", kValue, "TOKEN", "continue from a previous page"),
      },
      "Prints TIME KIND CHANNEL ACCEPTED STATUS TITLE; --json prints the\n"
      "ListAlertsResponse (every field of each alert, its text included)."));

  specs.push_back(Command("help", "[COMMAND]", 0, 2,
                          "Show help for deliverctl or a command", {}));
  return specs;
}

const std::map<std::string, CommandHandler>& Handlers() {
  static const auto* const handlers = new std::map<std::string, CommandHandler>{
      {"send", RunSend},
      {"send-batch", RunSendBatch},
      {"status", RunStatus},
      {"log", RunLog},
      {"resend", RunResend},
      {"watch", RunWatch},
      {"suppressions list", RunSuppressionsList},
      {"suppressions add", RunSuppressionsAdd},
      {"suppressions remove", RunSuppressionsRemove},
      {"suppressions check", RunSuppressionsCheck},
      {"subscriptions subscribe", RunSubscriptionsSubscribe},
      {"subscriptions unsubscribe", RunSubscriptionsUnsubscribe},
      {"subscriptions get", RunSubscriptionsGet},
      {"health", RunHealth},
      {"spf", RunSpf},
      {"check-domain", RunCheckDomain},
      {"classify-bounce", RunClassifyBounce},
      {"ingest", RunIngest},
      {"verify", RunVerify},
      {"clean", RunClean},
      {"jobs create", RunJobsCreate},
      {"jobs list", RunJobsList},
      {"jobs get", RunJobsGet},
      {"jobs run", RunJobsRun},
      {"jobs delete", RunJobsDelete},
      {"jobs runs", RunJobsRuns},
      {"alerts channels", RunAlertsChannels},
      {"alerts add-channel", RunAlertsAddChannel},
      {"alerts rm-channel", RunAlertsRmChannel},
      {"alerts rules", RunAlertsRules},
      {"alerts add-rule", RunAlertsAddRule},
      {"alerts rm-rule", RunAlertsRmRule},
      {"alerts test", RunAlertsTest},
      {"alerts list", RunAlertsList},
  };
  return *handlers;
}

std::string FlagUsage(const FlagSpec& flag) {
  std::string usage = absl::StrCat("--", flag.name);
  if (flag.kind != FlagKind::kBool)
    absl::StrAppend(&usage, " ", flag.value_name);
  return usage;
}

std::string FlagTable(const std::vector<FlagSpec>& flags) {
  Table table;
  for (const FlagSpec& flag : flags) {
    table.AddRow(
        {absl::StrCat("  ", FlagUsage(flag)),
         flag.required ? absl::StrCat(flag.help, " (required)") : flag.help});
  }
  return table.Render();
}

std::vector<const CommandSpec*> GroupMembers(absl::string_view group) {
  std::vector<const CommandSpec*> members;
  for (const CommandSpec& spec : CommandSpecs()) {
    if (absl::StartsWith(spec.name, absl::StrCat(group, " "))) {
      members.push_back(&spec);
    }
  }
  return members;
}

std::string CommandList(const std::vector<const CommandSpec*>& commands) {
  Table table;
  for (const CommandSpec* spec : commands) {
    table.AddRow({absl::StrCat("  ", spec->name), spec->summary});
  }
  return table.Render();
}

int RunHelp(const ParsedCommandLine& parsed, std::ostream& out,
            std::ostream& err) {
  std::string topic;
  if (parsed.command != nullptr && parsed.command->name == "help") {
    topic = absl::StrJoin(parsed.positionals, " ");
  } else if (parsed.command != nullptr) {
    topic = parsed.command->name;
  } else {
    topic = parsed.group;
  }
  if (topic.empty()) {
    out << GeneralHelp();
    return kExitOk;
  }
  for (const CommandSpec& spec : CommandSpecs()) {
    if (spec.name == topic) {
      out << CommandHelp(spec);
      return kExitOk;
    }
  }
  if (!GroupMembers(topic).empty()) {
    out << GroupHelp(topic);
    return kExitOk;
  }
  err << "deliverctl: help: unknown command '" << topic
      << "' (see 'deliverctl help')\n";
  return kExitUsage;
}

}  // namespace

const std::vector<CommandSpec>& CommandSpecs() {
  static const auto* const specs = new std::vector<CommandSpec>(BuildSpecs());
  return *specs;
}

std::string GeneralHelp() {
  std::vector<const CommandSpec*> commands;
  for (const CommandSpec& spec : CommandSpecs()) commands.push_back(&spec);
  return absl::StrCat(
      "deliverctl: the command line of deliverd.\n\n"
      "Usage: deliverctl [global flags] COMMAND [flags] [arguments]\n\n"
      "Commands:\n",
      CommandList(commands),
      "\nGlobal flags (before or after the command; --flag VALUE or "
      "--flag=VALUE):\n",
      FlagTable(GlobalFlagSpecs()),
      "\nExit status: 0 success, 1 a call or an item failed, 2 usage "
      "error.\nRun 'deliverctl help COMMAND' for a command's flags.\n");
}

std::string CommandHelp(const CommandSpec& command) {
  std::string help = absl::StrCat("Usage: deliverctl ", command.name);
  if (!command.flags.empty()) absl::StrAppend(&help, " [flags]");
  if (!command.arguments.empty()) {
    absl::StrAppend(&help, " ", command.arguments);
  }
  absl::StrAppend(&help, "\n\n", command.summary, ".\n");
  if (!command.description.empty()) {
    absl::StrAppend(&help, "\n", command.description, "\n");
  }
  if (!command.flags.empty()) {
    absl::StrAppend(&help, "\nFlags:\n", FlagTable(command.flags));
  }
  absl::StrAppend(&help,
                  "\nGlobal flags (--server, --api-key, --json, --timeout, "
                  "...) work here too; see 'deliverctl help'.\n");
  return help;
}

std::string GroupHelp(absl::string_view group) {
  return absl::StrCat("Usage: deliverctl ", group,
                      " COMMAND [flags] [arguments]\n\nCommands:\n",
                      CommandList(GroupMembers(group)),
                      "\nRun 'deliverctl help ", group,
                      " COMMAND' for a command's flags.\n");
}

int Invocation::UsageError(absl::string_view message) const {
  err << "deliverctl: " << command() << ": " << message << "\n";
  return kExitUsage;
}

int Invocation::RpcError(const grpc::Status& status) const {
  err << RpcErrorLine(command(), status, !settings.api_key.empty()) << "\n";
  return kExitFailure;
}

FileReader Invocation::file_reader() const {
  std::istream* stdin_stream = &in;
  return [stdin_stream](const std::string& path) {
    return path == "-" ? ReadStream(*stdin_stream) : ReadFileContents(path);
  };
}

int RunDeliverctl(const std::vector<std::string>& args, const Environment& env,
                  std::istream& in, std::ostream& out, std::ostream& err) {
  absl::StatusOr<ParsedCommandLine> parsed =
      ParseCommandLine(args, CommandSpecs());
  if (!parsed.ok()) {
    err << "deliverctl: " << parsed.status().message() << "\n";
    return kExitUsage;
  }
  if (parsed->global.help ||
      (parsed->command != nullptr && parsed->command->name == "help")) {
    return RunHelp(*parsed, out, err);
  }
  if (parsed->command == nullptr) {
    if (!parsed->group.empty()) {
      std::vector<std::string> names;
      for (const CommandSpec* spec : GroupMembers(parsed->group)) {
        names.push_back(spec->name.substr(parsed->group.size() + 1));
      }
      err << "deliverctl: " << parsed->group << ": missing command ("
          << absl::StrJoin(names, ", ") << "; see 'deliverctl help "
          << parsed->group << "')\n";
    } else {
      err << "deliverctl: missing command (see 'deliverctl help')\n";
    }
    return kExitUsage;
  }
  const CommandSpec& command = *parsed->command;
  if (parsed->global.local && !command.supports_local) {
    err << "deliverctl: " << command.name
        << ": --local is not supported: this command needs the server\n";
    return kExitUsage;
  }
  absl::StatusOr<ConnectionSettings> settings =
      ResolveConnectionSettings(parsed->global, env);
  if (!settings.ok()) {
    err << "deliverctl: " << settings.status().message() << "\n";
    return kExitUsage;
  }
  auto handler = Handlers().find(command.name);
  if (handler == Handlers().end()) {
    err << "deliverctl: " << command.name << ": not implemented\n";
    return kExitUsage;
  }
  const Invocation invocation{*parsed, *settings, in, out, err, absl::Now(),
                              env};
  return handler->second(invocation);
}

}  // namespace deliverd::client
