// Versioned schema migrations. Each store applies, in version order, every
// migration newer than the version recorded in its schema_migrations table,
// each in its own transaction. Migrations are never edited once released;
// a change is a new file with the next number.
#ifndef DELIVERD_SERVER_STORE_MIGRATIONS_H_
#define DELIVERD_SERVER_STORE_MIGRATIONS_H_

#include <string>
#include <vector>

namespace deliverd::store {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// server/store/migrations/sqlite/*.sql, embedded at build time, in order.
const std::vector<Migration>& SqliteMigrations();
// server/store/migrations/mysql/*.sql, embedded at build time, in order.
const std::vector<Migration>& MysqlMigrations();

}  // namespace deliverd::store

#endif  // DELIVERD_SERVER_STORE_MIGRATIONS_H_
