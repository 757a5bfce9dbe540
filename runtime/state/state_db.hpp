#pragma once

// The SQLite access of the client state store (client_state_store.cpp): RAII handles for a
// connection and its statements, and the few calls the store makes, each throwing
// std::runtime_error("client state store FILE: WHAT") with a plain message on failure (a file
// that is not a database or is damaged says so).

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace fedactor::state_db {

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what);

struct db_closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using db_handle = std::unique_ptr<sqlite3, db_closer>;

struct stmt_finalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using stmt_handle = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

// Resets a statement (ends its read or write) whichever way the scope is left.
struct stmt_reset {
  sqlite3_stmt* s;
  ~stmt_reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

// SQLite's message for `rc` (the connection's last error when there is a connection).
std::string db_error(sqlite3* db, int rc);

// The message for a failed call (`rc`) while `doing` something: "not a SQLite database",
// "damaged SQLite database (...)", else "DOING: SQLite's message".
std::string describe(sqlite3* db, int rc, const std::string& doing);

// Opens (creating) `file` read-write, extended result codes on, 60 s busy timeout.
db_handle open_db(const std::filesystem::path& file);
void exec(sqlite3* db, const std::filesystem::path& file, const char* sql);
stmt_handle prepare(sqlite3* db, const std::filesystem::path& file, const char* sql);
// The rows of a query (each as text columns): for the few small queries made on opening.
std::vector<std::vector<std::string>> query(sqlite3* db, const std::filesystem::path& file,
                                            const char* sql);
// The one integer a query answers (fails unless it answers exactly one value).
int64_t query_int(sqlite3* db, const std::filesystem::path& file, const char* sql);

}  // namespace fedactor::state_db
