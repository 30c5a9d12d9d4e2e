// Early-return helpers for absl::Status and absl::StatusOr inside the
// store implementations (server/store/*.cc only; not part of any interface).
#ifndef DELIVERD_SERVER_STORE_STATUS_MACROS_H_
#define DELIVERD_SERVER_STORE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"

#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    absl::Status _status = (expr);     \
    if (!_status.ok()) return _status; \
  } while (0)

// Declares `lhs` (auto) from a StatusOr, or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr)               \
  auto lhs##_or = (expr);                         \
  if (!lhs##_or.ok()) return lhs##_or.status();   \
  auto lhs = std::move(*lhs##_or)

#endif  // DELIVERD_SERVER_STORE_STATUS_MACROS_H_
