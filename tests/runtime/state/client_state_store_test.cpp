#include "runtime/state/client_state_store.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/rng.hpp"
#include "tests/support/state_test_helpers.hpp"

using namespace fedactor;
using fedactor::testing::runtime_error_of;
using fedactor::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp directory, removed at the end of the test.

constexpr uint64_t value_tag = 0x7374617465;  // "state"

// The value of `client` written in `round`: seeded, distinct per (client, round).
std::vector<float> value_for(uint32_t client, uint32_t round, uint32_t floats) {
  rng r{stream_key(11, value_tag, client, round)};
  std::vector<float> v(floats);
  for (auto& x : v) x = static_cast<float>(r.normal());
  return v;
}

// Runs SQL on a store file directly (as a damaged or foreign file would look).
void run_sql(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("client state: a value put is got back unchanged, absent and erased ones are none",
          "[state]") {
  temp_dir dir("roundtrip");
  client_state_store store(dir.path / "nested" / "state.db", 1 << 20);
  CHECK(fs::exists(dir.path / "nested" / "state.db"));
  const auto c = store.declare_slot("scaffold.c", 5);
  const auto bn = store.declare_slot("fedbn", 3);
  CHECK(c.id == 1);
  CHECK(bn.id == 2);

  store.put(7, c, {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f});
  store.put(7, bn, {4, 5, 6});
  store.put(8, c, value_for(8, 0, 5));
  CHECK(store.get(7, c) == std::vector<float>{1.5f, -2.0f, 0.0f, 3.25f, 1e-30f});
  CHECK(store.get(7, bn) == std::vector<float>{4, 5, 6});
  CHECK(store.get(8, c) == value_for(8, 0, 5));
  CHECK_FALSE(store.get(9, c).has_value());
  CHECK_FALSE(store.get(8, bn).has_value());

  store.put(7, c, {9, 9, 9, 9, 9});
  CHECK(store.get(7, c) == std::vector<float>{9, 9, 9, 9, 9});
  store.erase(7, c);
  CHECK_FALSE(store.get(7, c).has_value());
  CHECK(store.get(7, bn) == std::vector<float>{4, 5, 6});

  const auto s = store.stats();
  CHECK(s.entries_in_memory == 5);  // (7,c) erased, (7,bn), (8,c), and known-absent (9,c), (8,bn)
  CHECK(s.bytes_in_memory == 5 * client_state_store::entry_overhead + (3 + 5) * sizeof(float));
  CHECK(s.disk_reads == 2);  // the two absent keys, looked up once each
  CHECK(s.spills == 0);
}

TEST_CASE("client state: declare_slot checks names and sizes and gives a name one slot",
          "[state]") {
  temp_dir dir("slots");
  client_state_store store(dir.path / "state.db", 4096);
  CHECK_THROWS_AS(store.declare_slot("", 4), std::invalid_argument);
  CHECK_THROWS_AS(store.declare_slot("has space", 4), std::invalid_argument);
  CHECK_THROWS_AS(store.declare_slot(std::string(65, 'a'), 4), std::invalid_argument);
  CHECK_THROWS_AS(store.declare_slot("zero", 0), std::invalid_argument);
  // 4096 bytes hold one value of (4096 - overhead) / 4 floats, not one more.
  const uint32_t fit = (4096 - client_state_store::entry_overhead) / sizeof(float);
  CHECK_THROWS_AS(store.declare_slot("big", fit + 1), std::invalid_argument);
  const auto a = store.declare_slot("topk.residual", fit);
  const auto again = store.declare_slot("topk.residual", fit);
  CHECK(again.id == a.id);
  CHECK(again.floats == fit);
  const auto msg = runtime_error_of([&] { store.declare_slot("topk.residual", 4); });
  CHECK(msg.find((dir.path / "state.db").string()) != std::string::npos);
  CHECK(msg.find("topk.residual") != std::string::npos);

  CHECK_THROWS_AS(store.get(1, state_slot{9, fit}), std::invalid_argument);
  CHECK_THROWS_AS(store.put(1, state_slot{a.id, 4}, {1, 2, 3, 4}), std::invalid_argument);
  CHECK_THROWS_AS(store.put(1, a, std::vector<float>(fit - 1)), std::invalid_argument);
  CHECK_THROWS_AS(store.erase(1, state_slot{}), std::invalid_argument);
}

TEST_CASE("client state: 10,000 clients x 100 floats survive a 64 KiB memory bound", "[state]") {
  temp_dir dir("eviction");
  const size_t bound = 64 * 1024;
  const size_t entry = client_state_store::entry_overhead + 100 * sizeof(float);
  client_state_store store(dir.path / "state.db", bound);
  const auto c = store.declare_slot("scaffold.c", 100);
  const uint32_t n = 10000;

  for (uint32_t i = 0; i < n; ++i) store.put(i, c, value_for(i, 0, 100));
  auto s = store.stats();
  CHECK(s.peak_bytes_in_memory <= bound);
  CHECK(s.peak_bytes_in_memory > bound - bound / 8 - entry);  // the cache was used
  CHECK(s.bytes_in_memory == s.entries_in_memory * entry);
  CHECK(s.dirty_entries == s.entries_in_memory);    // nothing read yet: all held are unwritten
  CHECK(s.entries_in_memory + s.disk_writes == n);  // every value is in memory or in the file
  CHECK(s.spills >= s.disk_writes);
  CHECK(s.write_batches > 1);
  CHECK(s.write_batches < s.disk_writes / 8);  // written in batches, not one by one

  store.flush();
  s = store.stats();
  CHECK(s.dirty_entries == 0);
  CHECK(s.disk_writes == n);  // each value written exactly once

  size_t wrong = 0;
  for (uint32_t i = 0; i < n; ++i) wrong += store.get(i, c) != value_for(i, 0, 100);
  CHECK(wrong == 0);
  s = store.stats();
  CHECK(s.hits + s.disk_reads == n);
  CHECK(s.disk_reads > n - bound / entry);

  // Overwrite every third client, erase every seventh, and read everything again.
  for (uint32_t i = 0; i < n; i += 3) store.put(i, c, value_for(i, 1, 100));
  for (uint32_t i = 0; i < n; i += 7) store.erase(i, c);
  wrong = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const auto v = store.get(i, c);
    if (i % 7 == 0) {
      wrong += v.has_value();
    } else {
      wrong += v != value_for(i, i % 3 == 0 ? 1 : 0, 100);
    }
  }
  CHECK(wrong == 0);
  s = store.stats();
  CHECK(s.peak_bytes_in_memory <= bound);
  CHECK(s.bytes_in_memory <= bound);
}

TEST_CASE("client state: a reopened file has the previous store's slots and values", "[state]") {
  temp_dir dir("reopen");
  const auto file = dir.path / "state.db";
  state_slot c, bn;
  {
    client_state_store store(file, 16 * 1024);
    c = store.declare_slot("scaffold.c", 50);
    bn = store.declare_slot("fedbn", 10);
    for (uint32_t i = 0; i < 500; ++i) store.put(i, c, value_for(i, 0, 50));
    store.put(3, bn, value_for(3, 5, 10));
    store.erase(4, c);
  }  // closing writes what is still in memory
  client_state_store store(file, 16 * 1024);
  const auto bn2 = store.declare_slot("fedbn", 10);
  const auto c2 = store.declare_slot("scaffold.c", 50);
  CHECK(c2.id == c.id);
  CHECK(bn2.id == bn.id);
  size_t wrong = 0;
  for (uint32_t i = 0; i < 500; ++i) {
    const auto v = store.get(i, c2);
    wrong += i == 4 ? v.has_value() : v != value_for(i, 0, 50);
  }
  CHECK(wrong == 0);
  CHECK(store.get(3, bn2) == value_for(3, 5, 10));
  CHECK_FALSE(store.get(4, bn2).has_value());
  CHECK(store.stats().disk_reads == 502);
}

TEST_CASE("client state: after flush the file alone holds every value", "[state]") {
  temp_dir dir("flush");
  const auto file = dir.path / "state.db";
  const auto copy = dir.path / "copy.db";
  client_state_store store(file, 32 * 1024);
  const auto c = store.declare_slot("scaffold.c", 20);
  for (uint32_t i = 0; i < 2000; ++i) store.put(i, c, value_for(i, 0, 20));
  CHECK(store.stats().dirty_entries > 0);
  store.flush();
  CHECK(store.stats().dirty_entries == 0);

  // The write-ahead log is empty: a copy of the database file alone is the whole state.
  CHECK(fs::file_size(file.string() + "-wal") == 0);
  fs::copy_file(file, copy);
  client_state_store reader(copy, 32 * 1024);
  const auto c2 = reader.declare_slot("scaffold.c", 20);
  size_t wrong = 0;
  for (uint32_t i = 0; i < 2000; ++i) wrong += reader.get(i, c2) != value_for(i, 0, 20);
  CHECK(wrong == 0);
  CHECK(reader.stats().disk_reads == 2000);
}

TEST_CASE("client state: a file already open in a store is refused", "[state]") {
  temp_dir dir("locked");
  const auto file = dir.path / "state.db";
  client_state_store store(file, 4096);
  const auto msg = runtime_error_of([&] { client_state_store second(file, 4096); });
  CHECK(msg ==
        "client state store " + file.string() + ": already open in another client state store");
}

TEST_CASE("client state: a stored value of the wrong size is refused on read", "[state]") {
  temp_dir dir("size");
  const auto file = dir.path / "state.db";
  state_slot c;
  {
    client_state_store store(file, 8192);
    c = store.declare_slot("scaffold.c", 4);
    store.put(7, c, {1, 2, 3, 4});
    store.put(8, c, {5, 6, 7, 8});
  }
  // Damage client 7's value: 3 floats instead of 4.
  const uint64_t key = (uint64_t{c.id} << 32) | 7;
  run_sql(file, "UPDATE state SET value = zeroblob(12) WHERE key = " + std::to_string(key));

  client_state_store store(file, 8192);
  c = store.declare_slot("scaffold.c", 4);
  const auto msg = runtime_error_of([&] { store.get(7, c); });
  CHECK(msg == "client state store " + file.string() +
                   ": client 7 slot 'scaffold.c' holds 12 bytes, expected 16 (4 floats)");
  CHECK(store.get(8, c) == std::vector<float>{5, 6, 7, 8});
  // The slot's size is recorded in the file: another size is refused.
  const auto msg2 = runtime_error_of([&] { store.declare_slot("scaffold.c", 5); });
  CHECK(msg2 == "client state store " + file.string() +
                    ": slot 'scaffold.c' holds 4 floats per value, declared with 5");
}

TEST_CASE("client state: a file that is not a store is refused with one line naming it",
          "[state]") {
  temp_dir dir("corrupt");
  fs::create_directories(dir.path);

  const auto text = dir.path / "notes.db";
  std::ofstream(text) << "these are not the floats you are looking for\n" << std::string(600, 'x');
  const auto msg = runtime_error_of([&] { client_state_store store(text, 4096); });
  CHECK(msg == "client state store " + text.string() + ": not a SQLite database");

  const auto other = dir.path / "other.db";
  run_sql(other, "CREATE TABLE t(x INTEGER)");
  const auto msg2 = runtime_error_of([&] { client_state_store store(other, 4096); });
  CHECK(msg2 == "client state store " + other.string() +
                    ": not a client state store (another SQLite database)");

  // Our identity, but a table changed.
  const auto altered = dir.path / "altered.db";
  { client_state_store store(altered, 4096); }
  run_sql(altered, "DROP TABLE state; CREATE TABLE state(key INTEGER PRIMARY KEY, value TEXT)");
  const auto msg3 = runtime_error_of([&] { client_state_store store(altered, 4096); });
  CHECK(msg3 == "client state store " + altered.string() +
                    ": unexpected schema (tables differ from a client state store's)");
  for (const auto& m : {msg, msg2, msg3}) CHECK(m.find('\n') == std::string::npos);
}

TEST_CASE("client state: 4 threads put and get distinct and shared clients concurrently",
          "[state]") {
  temp_dir dir("threads");
  const size_t bound = 32 * 1024;
  client_state_store store(dir.path / "state.db", bound);
  const auto c = store.declare_slot("scaffold.c", 32);
  constexpr uint32_t threads = 4, own = 400, shared = 40, rounds = 5;
  constexpr uint32_t shared_base = 1000000;

  // A shared client's value names its writer and round in its first two floats.
  auto shared_value = [](uint32_t client, uint32_t t, uint32_t r) {
    auto v = value_for(client, 1000 * t + r, 32);
    v[0] = static_cast<float>(t);
    v[1] = static_cast<float>(r);
    return v;
  };
  auto shared_valid = [&](uint32_t client, const std::vector<float>& v) {
    const auto t = static_cast<uint32_t>(v[0]), r = static_cast<uint32_t>(v[1]);
    return t < threads && r < rounds && v == shared_value(client, t, r);
  };

  std::vector<size_t> errors(threads, 0);
  std::vector<std::thread> pool;
  for (uint32_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (uint32_t r = 0; r < rounds; ++r) {
        for (uint32_t i = 0; i < own; ++i) {
          const uint32_t client = t * own + i;
          if (r > 0) errors[t] += store.get(client, c) != value_for(client, r - 1, 32);
          store.put(client, c, value_for(client, r, 32));
          const uint32_t s = shared_base + (i + t) % shared;
          const auto v = store.get(s, c);
          if (v) errors[t] += !shared_valid(s, *v);
          if (i % 10 == t) store.put(s, c, shared_value(s, t, r));
        }
        for (uint32_t s = shared_base; s < shared_base + shared; ++s) {
          store.put(s, c, shared_value(s, t, r));
        }
      }
    });
  }
  for (auto& th : pool) th.join();

  for (uint32_t t = 0; t < threads; ++t) CHECK(errors[t] == 0);
  size_t wrong = 0;
  for (uint32_t client = 0; client < threads * own; ++client) {
    wrong += store.get(client, c) != value_for(client, rounds - 1, 32);
  }
  for (uint32_t s = shared_base; s < shared_base + shared; ++s) {
    // Every thread's last put to a shared client is of the last round.
    const auto v = store.get(s, c);
    wrong += !v || !shared_valid(s, *v) || (*v)[1] != static_cast<float>(rounds - 1);
  }
  CHECK(wrong == 0);
  const auto st = store.stats();
  CHECK(st.peak_bytes_in_memory <= bound);
  CHECK(st.spills > 0);
  CHECK(st.disk_reads > 0);
}

TEST_CASE("client state: snapshot_to writes a copy that a fresh store reads back equal",
          "[state]") {
  temp_dir dir("snapshot");
  const auto snap = dir.path / "checkpoints" / "round-3" / "state.db";
  client_state_store store(dir.path / "state.db", 16 * 1024);
  const auto c = store.declare_slot("scaffold.c", 25);
  const auto bn = store.declare_slot("fedbn", 5);
  for (uint32_t i = 0; i < 1000; ++i) store.put(i, c, value_for(i, 0, 25));
  for (uint32_t i = 0; i < 100; ++i) store.put(i, bn, value_for(i, 0, 5));
  store.erase(10, c);
  CHECK(store.stats().dirty_entries > 0);  // part of the state is only in memory

  store.snapshot_to(snap);
  CHECK_FALSE(fs::exists(snap.string() + ".tmp." + std::to_string(::getpid())));
  // Later changes do not reach the snapshot.
  for (uint32_t i = 0; i < 1000; i += 2) store.put(i, c, value_for(i, 1, 25));
  store.snapshot_to(dir.path / "later.db");
  CHECK_THROWS_AS(store.snapshot_to(dir.path / "state.db"), std::invalid_argument);

  client_state_store copy(snap, 16 * 1024);
  const auto c2 = copy.declare_slot("scaffold.c", 25);
  const auto bn2 = copy.declare_slot("fedbn", 5);
  size_t wrong = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    const auto v = copy.get(i, c2);
    wrong += i == 10 ? v.has_value() : v != value_for(i, 0, 25);
  }
  for (uint32_t i = 0; i < 100; ++i) wrong += copy.get(i, bn2) != value_for(i, 0, 5);
  CHECK(wrong == 0);

  client_state_store later(dir.path / "later.db", 16 * 1024);
  const auto c3 = later.declare_slot("scaffold.c", 25);
  wrong = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    wrong += later.get(i, c3) != value_for(i, i % 2 == 0 ? 1 : 0, 25);  // 10 was put again
  }
  CHECK(wrong == 0);
}
