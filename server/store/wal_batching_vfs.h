// A SQLite VFS that wraps the platform's and turns the writes SQLite makes to
// a write-ahead log between two syncs into one write system call.
//
// Why: SQLite writes each WAL frame with two calls (its 24-byte header, then
// the page), so a commit that changes 25 pages makes 50 system calls before
// its fsync; on this project's store that was a quarter of the writer
// thread's time per Send (bench/send_bench).
//
// Contract: bytes written to a WAL file are held, in order, until the next
// sync, read, truncate, size query, file control or close of that file, a
// write that does not continue them, or 1 MB; then they go out in one
// write. It is only correct where every commit syncs the WAL before other
// connections can see it, which SQLite does with synchronous=FULL (never
// open a NORMAL or OFF connection with it). An error of a held write is
// returned by the call that flushes it: for a commit, its sync, so the
// commit fails as it would have. Every other file passes straight through.
//
// Thread safety: as SQLite's own VFS; registering is thread-safe.
#ifndef DELIVERD_SERVER_STORE_WAL_BATCHING_VFS_H_
#define DELIVERD_SERVER_STORE_WAL_BATCHING_VFS_H_

namespace deliverd::store {

// Registers the VFS (once, not as the default) and returns its name, for
// sqlite3_open_v2.
const char* WalBatchingVfsName();

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_WAL_BATCHING_VFS_H_
