// Runs deliverd's SPF check_host() over the openspf.org RFC 4408 test suite
// (YAML, path in argv[1]) and prints how often it agrees.
//
// The suite is third-party and is not part of the project: it is read from
// wherever it lies, never copied, and the project's tests do not need it.
// Each scenario's zonedata is loaded into a FakeResolver; "TIMEOUT" makes
// every lookup of that name time out. deliverd reads TXT records only, so,
// as the suite's notes ask of TXT-only drivers, a name's SPF (type 99)
// records are served as TXT unless the name has TXT data of its own (or
// "TXT: NONE"). A test agrees when the result is one of those expected and,
// if an explanation other than DEFAULT is expected, the explanation matches.
// The suite predates RFC 7208 (which replaced 4408): some disagreements are
// the newer RFC's intended changes; they are listed, not hidden.
//
// The YAML reader is minimal and made for this file's shape: "---"
// separated documents, block mappings by indentation, plain / single- /
// double-quoted (with \x escapes) scalars, flow sequences, and folded or
// literal block scalars (skipped: only descriptions and comments use them).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "auth_checks/dns/fake_resolver.h"
#include "auth_checks/spf/spf_evaluator.h"

namespace {

using deliverd::auth_checks::dns::FakeResolver;
using deliverd::auth_checks::dns::Outcome;
using deliverd::auth_checks::dns::RrType;
namespace spf = deliverd::auth_checks::spf;

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

int Indent(const std::string& line) {
  size_t n = line.find_first_not_of(' ');
  return n == std::string::npos ? -1 : static_cast<int>(n);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One scalar starting at s[*pos]; stops at `stop` characters when plain.
std::string Scalar(const std::string& s, size_t* pos, const std::string& stop) {
  std::string out;
  size_t i = *pos;
  while (i < s.size() && s[i] == ' ') ++i;
  if (i < s.size() && s[i] == '"') {
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] != '\\' || i + 1 >= s.size()) {
        out += s[i];
        continue;
      }
      char e = s[++i];
      if (e == 'x' && i + 2 < s.size()) {
        out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
        i += 2;
      } else if (e == '0') {
        out += '\0';
      } else if (e == 'n') {
        out += '\n';
      } else if (e == 't') {
        out += '\t';
      } else {
        out += e;
      }
    }
    *pos = i + 1;
    return out;
  }
  if (i < s.size() && s[i] == '\'') {
    for (++i; i < s.size(); ++i) {
      if (s[i] == '\'') {
        if (i + 1 < s.size() && s[i + 1] == '\'') {
          out += '\'';
          ++i;
          continue;
        }
        break;
      }
      out += s[i];
    }
    *pos = i + 1;
    return out;
  }
  while (i < s.size() && stop.find(s[i]) == std::string::npos) out += s[i++];
  *pos = i;
  return Trim(out);
}

// A value: a flow sequence "[a, 'b']" or one scalar. Drops " #" comments of
// plain scalars.
std::vector<std::string> Value(const std::string& raw) {
  std::string s = Trim(raw);
  std::vector<std::string> out;
  if (!s.empty() && s[0] == '[') {
    size_t pos = 1;
    while (pos < s.size()) {
      out.push_back(Scalar(s, &pos, ",]"));
      while (pos < s.size() && (s[pos] == ' ')) ++pos;
      if (pos < s.size() && s[pos] == ',') {
        ++pos;
      } else {
        break;
      }
    }
    return out;
  }
  if (!s.empty() && s[0] != '"' && s[0] != '\'') {
    size_t hash = s.find(" #");
    if (hash != std::string::npos) s = Trim(s.substr(0, hash));
  }
  size_t pos = 0;
  out.push_back(Scalar(s, &pos, ""));
  return out;
}

// Splits "key: value" (key possibly quoted). False if no ':'.
bool KeyValue(const std::string& text, std::string* key, std::string* value) {
  size_t pos = 0;
  if (!text.empty() && (text[0] == '"' || text[0] == '\'')) {
    *key = Scalar(text, &pos, "");
    pos = text.find(':', pos);
  } else {
    // "key: value", or "key:" ending the line; a key may hold ':' itself
    // ("foo:bar.example.com:").
    pos = text.find(": ");
    if (pos == std::string::npos && !text.empty() && text.back() == ':') {
      pos = text.size() - 1;
    }
    if (pos == std::string::npos) return false;
    *key = Trim(text.substr(0, pos));
  }
  if (pos == std::string::npos) return false;
  *value = text.substr(pos + 1);
  return true;
}

struct TestCase {
  std::string name;
  std::map<std::string, std::vector<std::string>> fields;
};

struct ZoneEntry {
  std::string type;
  std::vector<std::string> value;
};

struct Scenario {
  std::string description;
  std::vector<TestCase> tests;
  std::map<std::string, std::vector<ZoneEntry>> zone;
  std::vector<std::string> zone_order;
};

std::vector<Scenario> Parse(std::istream& in) {
  std::vector<Scenario> scenarios;
  std::string line, section;
  Scenario* current = nullptr;
  TestCase* test = nullptr;
  std::string domain;
  int block_indent = -1;  // Inside a block scalar deeper than this.
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "---") {
      scenarios.emplace_back();
      current = &scenarios.back();
      section.clear();
      test = nullptr;
      block_indent = -1;
      continue;
    }
    int indent = Indent(line);
    if (indent < 0) continue;
    if (block_indent >= 0) {
      if (indent > block_indent) continue;
      block_indent = -1;
    }
    std::string text = line.substr(indent);
    if (text[0] == '#' || current == nullptr) continue;
    std::string key, value;
    if (text[0] == '-') {
      if (section == "zonedata" && !domain.empty()) {
        std::string item = Trim(text.substr(1));
        ZoneEntry entry;
        if (KeyValue(item, &key, &value)) {
          entry.type = key;
          entry.value = Value(value);
        } else {
          entry.type = item;  // TIMEOUT
        }
        current->zone[domain].push_back(entry);
      }
      continue;
    }
    if (!KeyValue(text, &key, &value)) continue;
    std::string v = Trim(value);
    bool block = !v.empty() && (v[0] == '>' || v[0] == '|');
    if (block) block_indent = indent;
    if (indent == 0) {
      section = key;
      if (key == "description" && !block) current->description = Value(v)[0];
      continue;
    }
    if (section == "tests") {
      if (indent == 2) {
        current->tests.push_back(TestCase{key, {}});
        test = &current->tests.back();
      } else if (test != nullptr && !block) {
        test->fields[key] = Value(v);
      }
    } else if (section == "zonedata" && indent == 2) {
      domain = key;
      current->zone[domain];
      current->zone_order.push_back(domain);
    }
  }
  return scenarios;
}

void Load(const Scenario& scenario, FakeResolver* resolver) {
  for (const auto& [name, entries] : scenario.zone) {
    bool has_txt = false;
    for (const ZoneEntry& e : entries) has_txt |= e.type == "TXT";
    for (const ZoneEntry& e : entries) {
      if (e.type == "TIMEOUT") {
        resolver->SetFailure(name, Outcome::kTimeout);
        continue;
      }
      std::string joined;
      for (const std::string& part : e.value) joined += part;
      if (e.type == "A") {
        resolver->Add(name, RrType::kA, joined);
      } else if (e.type == "AAAA") {
        resolver->Add(name, RrType::kAaaa, joined);
      } else if (e.type == "PTR") {
        resolver->Add(name, RrType::kPtr, joined);
      } else if (e.type == "CNAME") {
        resolver->Add(name, RrType::kCname, joined);
      } else if (e.type == "MX" && e.value.size() == 2) {
        resolver->Add(name, RrType::kMx, e.value[1],
                      static_cast<uint16_t>(std::stoi(e.value[0])));
      } else if (e.type == "TXT" && joined != "NONE") {
        resolver->Add(name, RrType::kTxt, joined);
      } else if (e.type == "SPF" && !has_txt) {
        resolver->Add(name, RrType::kTxt, joined);
      } else if (e.type == "TXT" || e.type == "SPF") {
        // "TXT: NONE", or SPF shadowed by TXT: the name still exists.
        resolver->Add(name, RrType::kCname, "");  // Placeholder: no TXT.
      }
    }
  }
}

std::string First(const TestCase& t, const std::string& key) {
  auto it = t.fields.find(key);
  return it == t.fields.end() || it->second.empty() ? "" : it->second[0];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: spf_corpus_check PATH/rfc4408-tests.yml\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 2;
  }
  std::vector<Scenario> scenarios = Parse(in);
  int passed = 0, total = 0;
  std::vector<std::string> failures;
  for (const Scenario& scenario : scenarios) {
    FakeResolver resolver;
    Load(scenario, &resolver);
    spf::SpfEvaluator evaluator(resolver);
    int s_passed = 0;
    for (const TestCase& t : scenario.tests) {
      std::string mail_from = First(t, "mailfrom");
      std::string helo = First(t, "helo");
      spf::SpfRequest request;
      request.ip = First(t, "host");
      request.helo = helo;
      if (!First(t, "receiver").empty()) request.receiver = First(t, "receiver");
      if (mail_from.empty()) {
        request.sender = "postmaster@" + helo;
        request.domain = helo;
      } else {
        request.sender = mail_from;
        size_t at = mail_from.rfind('@');
        request.domain =
            at == std::string::npos ? mail_from : mail_from.substr(at + 1);
      }
      request.timestamp = 1000000000;
      spf::SpfCheckResult r = evaluator.CheckHost(request);
      std::string got(spf::SpfResultName(r.result));
      std::set<std::string> expected;
      auto it = t.fields.find("result");
      if (it != t.fields.end()) expected.insert(it->second.begin(), it->second.end());
      std::string want_exp = First(t, "explanation");
      bool ok = expected.count(got) > 0;
      if (ok && !want_exp.empty() && want_exp != "DEFAULT" &&
          r.explanation != want_exp) {
        ok = false;
      }
      ++total;
      if (ok) {
        ++passed;
        ++s_passed;
      } else {
        std::string want;
        for (const std::string& e : expected) want += (want.empty() ? "" : "|") + e;
        failures.push_back(
            scenario.description + " / " + t.name + " (spec " + First(t, "spec") +
            "): expected " + want +
            (want_exp.empty() ? "" : " \"" + want_exp + "\"") + ", got " + got +
            (r.explanation.empty() ? "" : " \"" + r.explanation + "\"") +
            (r.problem.empty() ? "" : " [" + r.problem + "]"));
      }
    }
    std::printf("%-40s %3d/%3zu\n", scenario.description.c_str(), s_passed,
                scenario.tests.size());
  }
  std::printf("\nagreement: %d/%d (%.1f%%)\n", passed, total,
              total ? 100.0 * passed / total : 0.0);
  if (!failures.empty()) {
    std::printf("\ndisagreements:\n");
    for (const std::string& f : failures) std::printf("  %s\n", f.c_str());
  }
  return 0;
}
