#include "runtime/state/state_db.hpp"

#include <stdexcept>
#include <utility>

namespace fedactor::state_db {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& file, const std::string& what) {
  throw std::runtime_error("client state store " + file.string() + ": " + what);
}

std::string db_error(sqlite3* db, int rc) {
  return db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
}

// The message for a failed statement on `file`: a file that is not a database, or is
// damaged, says so plainly.
std::string describe(sqlite3* db, int rc, const std::string& doing) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      return "not a SQLite database";
    case SQLITE_CORRUPT:
      return "damaged SQLite database (" + db_error(db, rc) + ")";
    default:
      return doing + ": " + db_error(db, rc);
  }
}

db_handle open_db(const fs::path& file) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(file.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_handle db(raw);
  if (rc != SQLITE_OK) fail(file, describe(raw, rc, "cannot open"));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 60000);
  return db;
}

void exec(sqlite3* db, const fs::path& file, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(file, describe(db, rc, std::string("cannot run ") + sql));
}

stmt_handle prepare(sqlite3* db, const fs::path& file, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  stmt_handle s(raw);
  if (rc != SQLITE_OK) fail(file, describe(db, rc, std::string("cannot prepare ") + sql));
  return s;
}

std::vector<std::vector<std::string>> query(sqlite3* db, const fs::path& file, const char* sql) {
  auto s = prepare(db, file, sql);
  std::vector<std::vector<std::string>> rows;
  for (;;) {
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) return rows;
    if (rc != SQLITE_ROW) fail(file, describe(db, rc, std::string("cannot run ") + sql));
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(s.get()); ++c) {
      const auto* text = sqlite3_column_text(s.get(), c);
      row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(std::move(row));
  }
}

int64_t query_int(sqlite3* db, const fs::path& file, const char* sql) {
  auto rows = query(db, file, sql);
  if (rows.size() != 1 || rows[0].size() != 1) fail(file, std::string("no answer to ") + sql);
  return std::stoll(rows[0][0]);
}

}  // namespace fedactor::state_db
