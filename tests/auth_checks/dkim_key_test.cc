// Tests of DKIM key-record parsing and linting. Keys are generated here with
// OpenSSL at test time; no key material is copied from anywhere.
#include "auth_checks/dkim/dkim_key.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace deliverd::auth_checks::dkim {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

std::string SpkiDer(EVP_PKEY* pkey) {
  unsigned char* buf = nullptr;
  int n = i2d_PUBKEY(pkey, &buf);
  EXPECT_GT(n, 0);
  std::string der(reinterpret_cast<char*>(buf), n);
  OPENSSL_free(buf);
  return der;
}

// DER SubjectPublicKeyInfo of a fresh RSA key, cached per size.
const std::string& RsaDer(int bits) {
  static auto* cache = new std::vector<std::pair<int, std::string>>();
  for (const auto& [b, der] : *cache) {
    if (b == bits) return der;
  }
  Pkey key(EVP_RSA_gen(bits));
  EXPECT_NE(key, nullptr);
  cache->emplace_back(bits, SpkiDer(key.get()));
  return cache->back().second;
}

std::string RsaP(int bits) { return Base64(RsaDer(bits)); }

Pkey Ed25519Key() {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

std::string Ed25519Raw(EVP_PKEY* key) {
  std::string raw(32, '\0');
  size_t len = raw.size();
  EXPECT_EQ(EVP_PKEY_get_raw_public_key(
                key, reinterpret_cast<unsigned char*>(raw.data()), &len),
            1);
  raw.resize(len);
  return raw;
}

std::vector<std::string> Codes(const DkimKey& key) {
  std::vector<std::string> codes;
  for (const Finding& f : key.findings) codes.push_back(f.code);
  return codes;
}

const Finding* Find(const DkimKey& key, const std::string& code) {
  for (const Finding& f : key.findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

TEST(DkimKeyName, JoinsSelectorAndDomain) {
  EXPECT_EQ(DkimKeyName("s1", "example.com"), "s1._domainkey.example.com");
  EXPECT_EQ(DkimKeyName("s1", "example.com."), "s1._domainkey.example.com");
}

TEST(ParseDkimKeyRecord, Rsa2048IsClean) {
  DkimKey key = ParseDkimKeyRecord("v=DKIM1; k=rsa; p=" + RsaP(2048));
  EXPECT_EQ(key.key_type, "rsa");
  EXPECT_EQ(key.key_bits, 2048);
  EXPECT_FALSE(key.revoked);
  EXPECT_FALSE(key.testing);
  EXPECT_FALSE(key.strict);
  EXPECT_TRUE(key.hashes.empty());
  EXPECT_TRUE(key.findings.empty()) << ::testing::PrintToString(Codes(key));
  EXPECT_TRUE(key.usable());
}

TEST(ParseDkimKeyRecord, KeyTypeDefaultsToRsaAndVIsOptional) {
  DkimKey key = ParseDkimKeyRecord("p=" + RsaP(2048));
  EXPECT_EQ(key.key_type, "rsa");
  EXPECT_EQ(key.key_bits, 2048);
  EXPECT_TRUE(key.findings.empty());
}

TEST(ParseDkimKeyRecord, Rsa1024IsAWarning) {
  DkimKey key = ParseDkimKeyRecord("v=DKIM1; p=" + RsaP(1024));
  EXPECT_EQ(key.key_bits, 1024);
  const Finding* f = Find(key, "dkim.key_too_short");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kWarning);
  EXPECT_FALSE(f->fix.empty());
  EXPECT_TRUE(key.usable());
}

TEST(ParseDkimKeyRecord, RsaUnder1024IsAnError) {
  DkimKey key = ParseDkimKeyRecord("v=DKIM1; p=" + RsaP(512));
  EXPECT_EQ(key.key_bits, 512);
  const Finding* f = Find(key, "dkim.key_too_short");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kError);
  EXPECT_FALSE(key.usable());
}

TEST(ParseDkimKeyRecord, Ed25519RawKey) {
  Pkey ed = Ed25519Key();
  ASSERT_NE(ed, nullptr);
  DkimKey key =
      ParseDkimKeyRecord("v=DKIM1; k=ed25519; p=" + Base64(Ed25519Raw(ed.get())));
  EXPECT_EQ(key.key_type, "ed25519");
  EXPECT_EQ(key.key_bits, EVP_PKEY_get_bits(ed.get()));
  EXPECT_GT(key.key_bits, 0);
  EXPECT_TRUE(key.findings.empty()) << ::testing::PrintToString(Codes(key));
}

TEST(ParseDkimKeyRecord, Ed25519WrongLengthOrSpkiIsBadKey) {
  Pkey ed = Ed25519Key();
  ASSERT_NE(ed, nullptr);
  // The SPKI form is not what RFC 8463 publishes.
  DkimKey spki =
      ParseDkimKeyRecord("k=ed25519; p=" + Base64(SpkiDer(ed.get())));
  EXPECT_NE(Find(spki, "dkim.bad_key"), nullptr);
  EXPECT_EQ(spki.key_bits, 0);
  DkimKey short_key =
      ParseDkimKeyRecord("k=ed25519; p=" + Base64(std::string(31, 'x')));
  EXPECT_NE(Find(short_key, "dkim.bad_key"), nullptr);
}

TEST(ParseDkimKeyRecord, RsaTypeWithEd25519SpkiIsBadKey) {
  Pkey ed = Ed25519Key();
  ASSERT_NE(ed, nullptr);
  DkimKey key = ParseDkimKeyRecord("k=rsa; p=" + Base64(SpkiDer(ed.get())));
  EXPECT_NE(Find(key, "dkim.bad_key"), nullptr);
  EXPECT_EQ(key.key_bits, 0);
}

TEST(ParseDkimKeyRecord, EmptyPIsRevoked) {
  for (const char* record : {"v=DKIM1; p=", "v=DKIM1; k=rsa; p= ;",
                             "p=\r\n\t"}) {
    DkimKey key = ParseDkimKeyRecord(record);
    EXPECT_TRUE(key.revoked) << record;
    EXPECT_EQ(key.key_bits, 0);
    const Finding* f = Find(key, "dkim.revoked");
    ASSERT_NE(f, nullptr) << record;
    EXPECT_EQ(f->severity, Finding::kError);
    EXPECT_EQ(Find(key, "dkim.syntax"), nullptr) << record;
  }
}

TEST(ParseDkimKeyRecord, MissingPIsSyntaxError) {
  DkimKey key = ParseDkimKeyRecord("v=DKIM1; k=rsa");
  EXPECT_NE(Find(key, "dkim.syntax"), nullptr);
  EXPECT_FALSE(key.revoked);
  EXPECT_FALSE(key.usable());
}

TEST(ParseDkimKeyRecord, BadBase64) {
  std::string p = RsaP(1024);
  for (const std::string& bad :
       {std::string("!!!!"), p.substr(0, p.size() - 1), std::string("ab=c"),
        std::string("abc") + "===="}) {
    DkimKey key = ParseDkimKeyRecord("p=" + bad);
    const Finding* f = Find(key, "dkim.bad_key");
    ASSERT_NE(f, nullptr) << bad;
    EXPECT_EQ(f->severity, Finding::kError);
    EXPECT_EQ(key.key_bits, 0);
  }
}

TEST(ParseDkimKeyRecord, TruncatedOrPaddedDerIsBadKey) {
  const std::string& der = RsaDer(1024);
  DkimKey truncated =
      ParseDkimKeyRecord("p=" + Base64(der.substr(0, der.size() - 10)));
  EXPECT_NE(Find(truncated, "dkim.bad_key"), nullptr);
  EXPECT_EQ(truncated.key_bits, 0);
  DkimKey extra = ParseDkimKeyRecord("p=" + Base64(der + "xyz"));
  EXPECT_NE(Find(extra, "dkim.bad_key"), nullptr);
  EXPECT_EQ(extra.key_bits, 0);
}

TEST(ParseDkimKeyRecord, FoldingWhiteSpaceEverywhere) {
  std::string p = RsaP(2048);
  std::string folded = p.substr(0, 40) + "\r\n\t" + p.substr(40, 60) + " " +
                       p.substr(100);
  DkimKey key = ParseDkimKeyRecord(" v = DKIM1 ;\r\n k =\trsa ; h = sha256 ;"
                                   " p = " + folded + " ; ");
  EXPECT_EQ(key.key_bits, 2048);
  EXPECT_EQ(key.hashes, std::vector<std::string>{"sha256"});
  EXPECT_TRUE(key.findings.empty()) << ::testing::PrintToString(Codes(key));
}

TEST(ParseDkimKeyRecord, DuplicateTagIsSyntaxError) {
  DkimKey key =
      ParseDkimKeyRecord("v=DKIM1; k=rsa; k=rsa; p=" + RsaP(2048));
  const Finding* f = Find(key, "dkim.syntax");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kError);
  EXPECT_NE(f->message.find("\"k\""), std::string::npos);
  EXPECT_FALSE(key.usable());
  DkimKey two_p = ParseDkimKeyRecord("p=" + RsaP(2048) + "; p=");
  EXPECT_NE(Find(two_p, "dkim.syntax"), nullptr);
}

TEST(ParseDkimKeyRecord, VersionMustBeFirstAndDkim1) {
  DkimKey late = ParseDkimKeyRecord("k=rsa; v=DKIM1; p=" + RsaP(2048));
  EXPECT_NE(Find(late, "dkim.syntax"), nullptr);
  DkimKey wrong = ParseDkimKeyRecord("v=DKIM2; p=" + RsaP(2048));
  EXPECT_NE(Find(wrong, "dkim.bad_version"), nullptr);
  EXPECT_EQ(Find(wrong, "dkim.syntax"), nullptr);
  EXPECT_FALSE(wrong.usable());
}

TEST(ParseDkimKeyRecord, UnknownKeyType) {
  DkimKey key = ParseDkimKeyRecord("k=dsa; p=" + RsaP(2048));
  EXPECT_EQ(key.key_type, "dsa");
  EXPECT_EQ(key.key_bits, 0);
  const Finding* f = Find(key, "dkim.unknown_key_type");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kError);
}

TEST(ParseDkimKeyRecord, HashAlgorithms) {
  DkimKey both = ParseDkimKeyRecord("h=sha1:sha256; p=" + RsaP(2048));
  EXPECT_EQ(both.hashes, (std::vector<std::string>{"sha1", "sha256"}));
  const Finding* f = Find(both, "dkim.sha1_allowed");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kWarning);
  EXPECT_TRUE(both.usable());

  DkimKey only_sha1 = ParseDkimKeyRecord("h=sha1; p=" + RsaP(2048));
  EXPECT_NE(Find(only_sha1, "dkim.sha1_allowed"), nullptr);
  EXPECT_NE(Find(only_sha1, "dkim.no_usable_hash"), nullptr);
  EXPECT_FALSE(only_sha1.usable());

  DkimKey unknown = ParseDkimKeyRecord("h=sha256 : sha512; p=" + RsaP(2048));
  EXPECT_EQ(unknown.hashes, (std::vector<std::string>{"sha256", "sha512"}));
  EXPECT_NE(Find(unknown, "dkim.unknown_hash"), nullptr);
  EXPECT_TRUE(unknown.usable());
}

TEST(ParseDkimKeyRecord, Flags) {
  DkimKey testing = ParseDkimKeyRecord("t=y; p=" + RsaP(2048));
  EXPECT_TRUE(testing.testing);
  EXPECT_FALSE(testing.strict);
  const Finding* f = Find(testing, "dkim.testing");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kWarning);

  DkimKey both = ParseDkimKeyRecord("t=y:s:z; p=" + RsaP(2048));
  EXPECT_TRUE(both.testing);
  EXPECT_TRUE(both.strict);
  EXPECT_NE(Find(both, "dkim.strict"), nullptr);
  EXPECT_NE(Find(both, "dkim.unknown_flag"), nullptr);
  EXPECT_TRUE(both.usable());
}

TEST(ParseDkimKeyRecord, ServiceTypes) {
  DkimKey any = ParseDkimKeyRecord("s=*; p=" + RsaP(2048));
  EXPECT_EQ(any.services, std::vector<std::string>{"*"});
  EXPECT_TRUE(any.findings.empty());
  DkimKey email = ParseDkimKeyRecord("s=email:other; p=" + RsaP(2048));
  EXPECT_NE(Find(email, "dkim.unknown_service"), nullptr);
  EXPECT_TRUE(email.usable());
  DkimKey other = ParseDkimKeyRecord("s=other; p=" + RsaP(2048));
  EXPECT_NE(Find(other, "dkim.not_for_email"), nullptr);
  EXPECT_FALSE(other.usable());
}

TEST(ParseDkimKeyRecord, NotesAndUnknownTags) {
  DkimKey key = ParseDkimKeyRecord("n=rotated=2024 by ops; x_y=1; p=" +
                                   RsaP(2048));
  EXPECT_EQ(key.notes, "rotated=2024 by ops");
  const Finding* f = Find(key, "dkim.unknown_tag");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Finding::kInfo);
  EXPECT_TRUE(key.usable());
}

TEST(ParseDkimKeyRecord, MalformedTagLists) {
  for (const std::string& record :
       {std::string("p"), std::string("v=DKIM1;; p="), std::string("1k=rsa; p="),
        std::string("=rsa; p="), std::string("n=caf\xc3\xa9; p=")}) {
    DkimKey key = ParseDkimKeyRecord(record);
    EXPECT_NE(Find(key, "dkim.syntax"), nullptr) << record;
    EXPECT_FALSE(key.usable()) << record;
  }
  EXPECT_NE(Find(ParseDkimKeyRecord(""), "dkim.syntax"), nullptr);
}

TEST(CheckDkimKeyAnswer, OneRecordIsParsed) {
  dns::Answer answer;
  answer.outcome = dns::Outcome::kOk;
  answer.records.push_back({"v=DKIM1; t=y; p=" + RsaP(2048), 0, 300});
  DkimKey key = CheckDkimKeyAnswer(answer);
  EXPECT_EQ(key.key_bits, 2048);
  EXPECT_TRUE(key.testing);
  EXPECT_EQ(Codes(key), std::vector<std::string>{"dkim.testing"});
}

TEST(CheckDkimKeyAnswer, NoRecord) {
  for (dns::Outcome o : {dns::Outcome::kNxDomain, dns::Outcome::kNoData}) {
    DkimKey key = CheckDkimKeyAnswer(dns::Answer::Of(o));
    ASSERT_EQ(key.findings.size(), 1u);
    EXPECT_EQ(key.findings[0].code, "dkim.no_record");
    EXPECT_EQ(key.findings[0].severity, Finding::kError);
    EXPECT_TRUE(key.key_type.empty());
  }
}

TEST(CheckDkimKeyAnswer, MultipleRecords) {
  dns::Answer answer;
  answer.outcome = dns::Outcome::kOk;
  answer.records.push_back({"p=" + RsaP(2048), 0, 300});
  answer.records.push_back({"p=" + RsaP(1024), 0, 300});
  DkimKey key = CheckDkimKeyAnswer(answer);
  ASSERT_EQ(key.findings.size(), 1u);
  EXPECT_EQ(key.findings[0].code, "dkim.multiple_records");
  EXPECT_EQ(key.findings[0].severity, Finding::kError);
}

TEST(CheckDkimKeyAnswer, DnsFailureIsTemporary) {
  for (dns::Outcome o : {dns::Outcome::kServFail, dns::Outcome::kTimeout,
                         dns::Outcome::kRefused, dns::Outcome::kMalformed,
                         dns::Outcome::kError}) {
    DkimKey key = CheckDkimKeyAnswer(dns::Answer::Of(o, "boom"));
    ASSERT_EQ(key.findings.size(), 1u);
    EXPECT_EQ(key.findings[0].code, "dkim.dns_temporary");
    EXPECT_EQ(key.findings[0].severity, Finding::kWarning);
    EXPECT_NE(key.findings[0].message.find("boom"), std::string::npos);
  }
}

}  // namespace
}  // namespace deliverd::auth_checks::dkim
