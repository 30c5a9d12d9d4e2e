// Public message ids: "m_" + 26 characters of Crockford base32 holding a
// 48-bit millisecond timestamp and 80 random bits. Ids sort roughly by
// creation time, are unguessable, and are safe in file names, URLs and the
// local part of a VERP return path. Thread-safe.
#ifndef DELIVERD_SERVER_API_MESSAGE_IDS_H_
#define DELIVERD_SERVER_API_MESSAGE_IDS_H_

#include <string>

#include "absl/time/time.h"

namespace deliverd::api {

std::string NewMessageId(absl::Time now);

}  // namespace deliverd::api

#endif  // DELIVERD_SERVER_API_MESSAGE_IDS_H_
