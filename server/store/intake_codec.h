// The byte encoding of one accepted message (a NewMessage) in the embedded
// store's intake log (intake_log.h): every field InsertMessages stores, so
// a message read back from the log is stored exactly as it would have been
// at once.
//
// Hand-written rather than a protobuf because NewMessage is the store's own
// type (the API's protos are a different shape) and the log only ever holds
// what this process wrote: a version byte, then fixed-width integers and
// length-prefixed strings in a fixed order. Decode checks every length
// against the bytes left and fails with DATA_LOSS on anything malformed.
//
// Pure functions; thread-safe.
#ifndef DELIVERD_SERVER_STORE_INTAKE_CODEC_H_
#define DELIVERD_SERVER_STORE_INTAKE_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/store/store.h"

namespace deliverd::store {

// Appends the encoding of `item` to `out`.
void EncodeIntakeMessage(const NewMessage& item, std::string* out);

absl::StatusOr<NewMessage> DecodeIntakeMessage(absl::string_view bytes);

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_INTAKE_CODEC_H_
