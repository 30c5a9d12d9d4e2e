// One GMime initialisation for the whole process. g_mime_init() keeps a
// plain counter and fills global tables, so two first calls at once would
// race; every user of GMime (the bounce parser here, the composer in
// server/delivery) calls EnsureGMimeInitialized() instead. Thread-safe.
#ifndef DELIVERD_HYGIENE_GMIME_INIT_H_
#define DELIVERD_HYGIENE_GMIME_INIT_H_

namespace deliverd::hygiene {

void EnsureGMimeInitialized();

}  // namespace deliverd::hygiene

#endif  // DELIVERD_HYGIENE_GMIME_INIT_H_
