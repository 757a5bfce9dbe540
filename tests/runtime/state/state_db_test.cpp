#include "runtime/state/state_db.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/state_test_helpers.hpp"

using namespace fedactor;
using fedactor::testing::runtime_error_of;
using fedactor::testing::temp_dir;
namespace fs = std::filesystem;

TEST_CASE("state_db runs statements and answers queries as text rows and one integer", "[state]") {
  const temp_dir dir("db");
  fs::create_directories(dir.path);
  const auto file = dir.path / "s.db";
  auto db = state_db::open_db(file);
  CHECK(fs::exists(file));
  state_db::exec(db.get(), file, "CREATE TABLE t(a INTEGER, b TEXT)");
  state_db::exec(db.get(), file, "INSERT INTO t VALUES (1, 'x'), (2, NULL)");
  const auto rows = state_db::query(db.get(), file, "SELECT a, b FROM t ORDER BY a");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::vector<std::string>{"1", "x"});
  CHECK(rows[1] == std::vector<std::string>{"2", ""});
  CHECK(state_db::query_int(db.get(), file, "SELECT SUM(a) FROM t") == 3);
  CHECK(runtime_error_of([&] { state_db::query_int(db.get(), file, "SELECT a FROM t"); }) ==
        "client state store " + file.string() + ": no answer to SELECT a FROM t");
  CHECK(runtime_error_of([&] { state_db::exec(db.get(), file, "SELECT * FROM missing"); }) ==
        "client state store " + file.string() +
            ": cannot run SELECT * FROM missing: no such table: missing");
  // A prepared statement is kept and reset by stmt_reset whichever way its scope is left.
  auto s = state_db::prepare(db.get(), file, "SELECT COUNT(*) FROM t");
  for (int i = 0; i < 2; ++i) {
    state_db::stmt_reset reset{s.get()};
    REQUIRE(sqlite3_step(s.get()) == SQLITE_ROW);
    CHECK(sqlite3_column_int(s.get(), 0) == 2);
  }
}

TEST_CASE("state_db says plainly that a file is not a SQLite database", "[state]") {
  const temp_dir dir("junk");
  fs::create_directories(dir.path);
  const auto file = dir.path / "junk.db";
  std::ofstream{file} << std::string(4096, 'j');
  auto db = state_db::open_db(file);  // SQLite reads the header lazily
  CHECK(runtime_error_of([&] { state_db::exec(db.get(), file, "PRAGMA user_version"); }) ==
        "client state store " + file.string() + ": not a SQLite database");
  CHECK(state_db::describe(nullptr, SQLITE_CORRUPT, "x").rfind("damaged SQLite database (", 0) ==
        0);
  CHECK(state_db::describe(nullptr, SQLITE_BUSY, "cannot run y") ==
        std::string{"cannot run y: "} + sqlite3_errstr(SQLITE_BUSY));
}
