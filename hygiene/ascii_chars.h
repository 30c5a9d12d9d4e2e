// Octet tables for the ASCII character classes of mail syntax, shared by the
// address parsers (hygiene/address.cc and its fast path). constexpr data, no
// state; every octet >= 0x80 is in no class.

#ifndef DELIVERD_HYGIENE_ASCII_CHARS_H_
#define DELIVERD_HYGIENE_ASCII_CHARS_H_

namespace deliverd::hygiene {

struct AsciiCharTable {
  // RFC 5322 atext: letters, digits and "!#$%&'*+-/=?^_`{|}~".
  bool atext[256] = {};
  constexpr AsciiCharTable() {
    for (int c = '0'; c <= '9'; ++c) atext[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) atext[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) atext[c] = true;
    constexpr char kSpecials[] = "!#$%&'*+-/=?^_`{|}~";
    for (const char* p = kSpecials; *p != 0; ++p) {
      atext[static_cast<unsigned char>(*p)] = true;
    }
  }
};
inline constexpr AsciiCharTable kAsciiChars;

inline bool IsAsciiAtext(char c) {
  return kAsciiChars.atext[static_cast<unsigned char>(c)];
}

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_ASCII_CHARS_H_
