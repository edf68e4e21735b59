// The diagnostic switches that turn off one of paygate's layers over SQLite (page cache, WAL VFS, allocator), for
// A/B measurements against SQLite's own behaviour (docs/configuration.md, PAYGATE_SQLITE_PLAIN_*).
#pragma once

namespace paygate::storage::sqlite {

// True (and logged) when the environment variable `name` is "1": the caller leaves SQLite's own part in place.
bool plain_switch_on(const char* name);

}  // namespace paygate::storage::sqlite
