// UTF-8 encoding of one code point, shared by the parts that build text
// from decoded escapes (deliverctl's output, corpus readers).
//
// Any value up to U+10FFFF is encoded, lone surrogates included: callers
// that need well-formed UTF-8 check their input first, while a corpus that
// deliberately carries a lone surrogate must be reproduced byte for byte.
// Pure; thread-safe.
#ifndef DELIVERD_HYGIENE_UTF8_H_
#define DELIVERD_HYGIENE_UTF8_H_

#include <string>

namespace deliverd::hygiene {

void AppendUtf8(char32_t code_point, std::string* out);

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_UTF8_H_
