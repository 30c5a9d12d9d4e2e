#include "server/store/wal_batching_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>

namespace deliverd::store {
namespace {

constexpr char kName[] = "deliverd-wal-batching";
constexpr size_t kMaxHeld = size_t{1} << 20;

sqlite3_vfs* platform_vfs = nullptr;  // set once, before registration

// SQLite allocates vfs.szOsFile bytes and hands them to xOpen; the file is
// built there with placement new and destroyed in Close. The platform's
// own file object follows it in the same allocation.
struct BatchingFile {
  sqlite3_file base;  // first, so a sqlite3_file* is a BatchingFile*
  sqlite3_file* real;
  bool wal;
  std::string held;
  sqlite3_int64 held_at = 0;
};

BatchingFile* Of(sqlite3_file* file) {
  return reinterpret_cast<BatchingFile*>(file);
}

// The unix VFS writes at most 128 KB - 1 per call (it masks the length, so
// a write of exactly 128 KB would write nothing and report a full disk):
// flush in pieces below that.
constexpr size_t kMaxPiece = 0x1f000;

int Flush(BatchingFile* f) {
  int rc = SQLITE_OK;
  for (size_t done = 0; done < f->held.size() && rc == SQLITE_OK;) {
    size_t piece = std::min(kMaxPiece, f->held.size() - done);
    rc = f->real->pMethods->xWrite(
        f->real, f->held.data() + done, static_cast<int>(piece),
        f->held_at + static_cast<sqlite3_int64>(done));
    done += piece;
  }
  f->held.clear();
  return rc;
}

int Close(sqlite3_file* file) {
  BatchingFile* f = Of(file);
  int rc = Flush(f);
  int closed = f->real->pMethods->xClose(f->real);
  f->~BatchingFile();
  return rc != SQLITE_OK ? rc : closed;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  BatchingFile* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount,
          sqlite3_int64 offset) {
  BatchingFile* f = Of(file);
  if (!f->wal) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  if (!f->held.empty() &&
      offset != f->held_at + static_cast<sqlite3_int64>(f->held.size())) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (f->held.empty()) f->held_at = offset;
  f->held.append(static_cast<const char*>(data), static_cast<size_t>(amount));
  return f->held.size() >= kMaxHeld ? Flush(f) : SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  BatchingFile* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  BatchingFile* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  BatchingFile* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) {
  return Of(file)->real->pMethods->xLock(Of(file)->real, level);
}

int Unlock(sqlite3_file* file, int level) {
  return Of(file)->real->pMethods->xUnlock(Of(file)->real, level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
  return Of(file)->real->pMethods->xCheckReservedLock(Of(file)->real, out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  BatchingFile* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int SectorSize(sqlite3_file* file) {
  return Of(file)->real->pMethods->xSectorSize(Of(file)->real);
}

int DeviceCharacteristics(sqlite3_file* file) {
  return Of(file)->real->pMethods->xDeviceCharacteristics(Of(file)->real);
}

int ShmMap(sqlite3_file* file, int region, int size, int extend,
           void volatile** out) {
  return Of(file)->real->pMethods->xShmMap(Of(file)->real, region, size,
                                           extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Of(file)->real->pMethods->xShmLock(Of(file)->real, offset, n, flags);
}

void ShmBarrier(sqlite3_file* file) {
  Of(file)->real->pMethods->xShmBarrier(Of(file)->real);
}

int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Of(file)->real->pMethods->xShmUnmap(Of(file)->real, delete_flag);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  BatchingFile* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return Of(file)->real->pMethods->xUnfetch(Of(file)->real, offset, page);
}

// Version 3: the shared-memory and memory-map methods are forwarded too.
const sqlite3_io_methods kMethods = {
    3,          Close,     Read,     Write,     Truncate,
    Sync,       FileSize,  Lock,     Unlock,    CheckReservedLock,
    FileControl, SectorSize, DeviceCharacteristics, ShmMap, ShmLock,
    ShmBarrier, ShmUnmap,  Fetch,    Unfetch};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags,
         int* out_flags) {
  auto* f = new (file) BatchingFile();
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = platform_vfs->xOpen(platform_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr) {
    // SQLite does not call xClose after a failed xOpen.
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->~BatchingFile();
    file->pMethods = nullptr;
    return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
  }
  if (f->real->pMethods->iVersion < 3) {
    f->real->pMethods->xClose(f->real);
    f->~BatchingFile();
    file->pMethods = nullptr;
    return SQLITE_CANTOPEN;  // a platform VFS without shared memory
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

// The rest of the VFS is the platform's, called with its own object.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return platform_vfs->xDelete(platform_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return platform_vfs->xAccess(platform_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return platform_vfs->xFullPathname(platform_vfs, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) {
  return platform_vfs->xDlOpen(platform_vfs, name);
}
void DlError(sqlite3_vfs*, int size, char* out) {
  platform_vfs->xDlError(platform_vfs, size, out);
}
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return platform_vfs->xDlSym(platform_vfs, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) {
  platform_vfs->xDlClose(platform_vfs, handle);
}
int Randomness(sqlite3_vfs*, int size, char* out) {
  return platform_vfs->xRandomness(platform_vfs, size, out);
}
int Sleep(sqlite3_vfs*, int micros) {
  return platform_vfs->xSleep(platform_vfs, micros);
}
int CurrentTime(sqlite3_vfs*, double* out) {
  return platform_vfs->xCurrentTime(platform_vfs, out);
}
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return platform_vfs->xGetLastError(platform_vfs, size, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return platform_vfs->xCurrentTimeInt64(platform_vfs, out);
}

sqlite3_vfs batching_vfs;

}  // namespace

const char* WalBatchingVfsName() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    platform_vfs = sqlite3_vfs_find(nullptr);
    if (platform_vfs == nullptr || platform_vfs->iVersion < 2) abort();
    batching_vfs = sqlite3_vfs{};
    batching_vfs.iVersion = 2;
    batching_vfs.szOsFile =
        static_cast<int>(sizeof(BatchingFile)) + platform_vfs->szOsFile;
    batching_vfs.mxPathname = platform_vfs->mxPathname;
    batching_vfs.zName = kName;
    batching_vfs.xOpen = Open;
    batching_vfs.xDelete = Delete;
    batching_vfs.xAccess = Access;
    batching_vfs.xFullPathname = FullPathname;
    batching_vfs.xDlOpen = DlOpen;
    batching_vfs.xDlError = DlError;
    batching_vfs.xDlSym = DlSym;
    batching_vfs.xDlClose = DlClose;
    batching_vfs.xRandomness = Randomness;
    batching_vfs.xSleep = Sleep;
    batching_vfs.xCurrentTime = CurrentTime;
    batching_vfs.xGetLastError = GetLastError;
    batching_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    if (sqlite3_vfs_register(&batching_vfs, /*makeDflt=*/0) != SQLITE_OK) {
      abort();
    }
  });
  return kName;
}

}  // namespace deliverd::store
