#include "runtime/state/client_state_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "runtime/math/rng.hpp"
#include "runtime/state/state_db.hpp"

namespace fedactor {

namespace fs = std::filesystem;

namespace {

using namespace state_db;

static_assert(sizeof(float) == 4, "values are stored as 4-byte floats");

// The file's identity: PRAGMA application_id (ASCII "FDST") and user_version (the layout).
constexpr int64_t store_application_id = 0x46445354;
constexpr int64_t store_format = 1;

// The schema, exactly as sqlite_master records it (an existing file must match it).
// A value's key is slot id · 2^32 + client id: one integer primary key, the fastest path.
constexpr const char* slots_table =
    "CREATE TABLE slots(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
    "floats INTEGER NOT NULL)";
constexpr const char* state_table =
    "CREATE TABLE state(key INTEGER PRIMARY KEY, value BLOB NOT NULL)";

constexpr size_t epoch_stripes = 1024;

using value_ptr = std::shared_ptr<const std::vector<float>>;

uint64_t make_key(uint32_t client, uint32_t slot) {
  return (uint64_t{slot} << 32) | client;
}

size_t value_bytes(const value_ptr& v) {
  return v ? v->size() * sizeof(float) : 0;
}

size_t stripe(uint64_t key) {
  return mix64(key) % epoch_stripes;
}

struct fd_handle {
  int fd = -1;
  fd_handle() = default;
  fd_handle(const fd_handle&) = delete;
  fd_handle& operator=(const fd_handle&) = delete;
  ~fd_handle() {
    if (fd >= 0) ::close(fd);
  }
};

bool valid_slot_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

}  // namespace

// Memory model. Every held key has one entry in `map`. An entry is either cached (in the
// LRU list) or spilled (pushed out of the list but dirty, waiting to be written). A write
// batch (one transaction) marks its entries in_batch and works on shared pointers to their
// values without holding `mu`; when it commits, written entries become clean and spilled ones
// are dropped. A put() that replaces an entry in a batch leaves the batch's (old) value
// counted until the batch ends. So `bytes` counts every value the store keeps alive, and it
// never exceeds `bound`: a put or a cache fill waits for its room to be written first.
//
// Locks: `db_mu` serialises the writer connection and every batch (so batches reach the file
// in the order they were formed); `read_mu` the reader connection; `mu` everything else.
// Order: db_mu before mu; mu is never held while waiting for db_mu or read_mu.
struct client_state_store::impl {
  struct entry {
    value_ptr value;  // null: erased (dirty) or known absent from the file (clean)
    std::list<uint64_t>::iterator lru;
    bool cached = false;  // in the LRU list (else spilled: dirty, waiting for a batch)
    bool dirty = false;   // newer than the file
    bool in_batch = false;
  };
  struct slot_info {
    std::string name;
    uint32_t floats;
  };
  struct item {
    uint64_t key;
    value_ptr value;
  };
  enum class row_status { found, absent, bad_size };

  fs::path file;
  size_t bound;

  fd_handle lock_fd;  // declared first: closed after the connections
  db_handle writer, reader;
  stmt_handle put_stmt, delete_stmt, get_stmt;

  std::mutex db_mu;
  std::mutex read_mu;
  mutable std::mutex mu;
  std::vector<slot_info> slots;  // [id - 1]
  std::unordered_map<uint64_t, entry> map;
  std::list<uint64_t> lru;        // front: most recently used
  std::vector<uint64_t> spilled;  // keys pushed out of the LRU while dirty (may be stale)
  std::array<uint32_t, epoch_stripes> epochs{};  // put/erase count per key stripe
  size_t bytes = 0;                              // see above; <= bound
  size_t cached_bytes = 0;                       // the part held by cached entries
  client_state_stats counters;  // hits, reads, spills, writes, batches, dirty, peak

  impl(const fs::path& db_file, size_t memory_bytes);

  size_t cost(const entry& e) const {
    return client_state_store::entry_overhead + value_bytes(e.value);
  }

  const slot_info& check_slot(state_slot slot) const {
    if (slot.id == 0 || slot.id > slots.size() || slots[slot.id - 1].floats != slot.floats) {
      throw std::invalid_argument("client state store " + file.string() + ": slot handle (id " +
                                  std::to_string(slot.id) + ", " + std::to_string(slot.floats) +
                                  " floats) was not declared by this store");
    }
    return slots[slot.id - 1];
  }

  // --- the cache (mu held) ---

  void touch(std::unordered_map<uint64_t, entry>::iterator it) {
    entry& e = it->second;
    if (e.cached) {
      lru.splice(lru.begin(), lru, e.lru);
    } else {
      lru.push_front(it->first);
      e.lru = lru.begin();
      e.cached = true;
      cached_bytes += cost(e);
    }
  }

  void insert(uint64_t key, value_ptr value, bool dirty) {
    auto [it, fresh] = map.try_emplace(key);
    (void)fresh;
    entry& e = it->second;
    e.value = std::move(value);
    e.dirty = dirty;
    lru.push_front(key);
    e.lru = lru.begin();
    e.cached = true;
    bytes += cost(e);
    cached_bytes += cost(e);
    if (dirty) ++counters.dirty_entries;
    counters.peak_bytes_in_memory = std::max<uint64_t>(counters.peak_bytes_in_memory, bytes);
  }

  // Forgets an entry. A value in a batch stays counted until the batch ends.
  void drop(std::unordered_map<uint64_t, entry>::iterator it) {
    entry& e = it->second;
    if (e.cached) {
      lru.erase(e.lru);
      cached_bytes -= cost(e);
    }
    bytes -= e.in_batch ? client_state_store::entry_overhead : cost(e);
    if (e.dirty) --counters.dirty_entries;
    map.erase(it);
  }

  // Pushes least recently used entries out until the cached part leaves `need` bytes and some
  // slack (so that a batch gathers several entries): clean ones are forgotten, dirty ones
  // spill (they still count until a batch has written them).
  void evict_for(size_t need) {
    const size_t target = std::max(bound - bound / 8, need);
    while (!lru.empty() && cached_bytes + need > target) {
      const uint64_t key = lru.back();
      auto it = map.find(key);
      entry& e = it->second;
      if (!e.dirty) {
        drop(it);
        continue;
      }
      lru.pop_back();
      e.cached = false;
      cached_bytes -= cost(e);
      if (!e.in_batch) spilled.push_back(key);
      ++counters.spills;
    }
  }

  // After a batch: written entries are clean (spilled ones forgotten); on failure they stay
  // dirty and spilled ones wait for the next batch. Values replaced meanwhile are uncounted.
  void finish_batch(const std::vector<item>& items, bool committed) {
    for (const auto& x : items) {
      auto it = map.find(x.key);
      if (it == map.end() || !it->second.in_batch) {
        bytes -= value_bytes(x.value);
        continue;
      }
      entry& e = it->second;
      e.in_batch = false;
      if (!committed) {
        if (!e.cached) spilled.push_back(x.key);
        continue;
      }
      e.dirty = false;
      --counters.dirty_entries;
      if (!e.cached) drop(it);
    }
    if (committed) {
      counters.disk_writes += items.size();
      ++counters.write_batches;
    }
  }

  // Stores a dirty value (null: an erasure) under `key`, making room first. lk holds mu.
  void store(std::unique_lock<std::mutex>& lk, uint64_t key, value_ptr value) {
    ++epochs[stripe(key)];
    const size_t need = client_state_store::entry_overhead + value_bytes(value);
    for (;;) {
      auto it = map.find(key);
      size_t freed = 0;
      if (it != map.end()) {
        // Kept until the new value is in: a failed write must not lose it.
        freed = it->second.in_batch ? client_state_store::entry_overhead : cost(it->second);
        touch(it);
      }
      if (bytes - freed + need <= bound) {
        if (it != map.end()) drop(it);
        insert(key, std::move(value), true);
        return;
      }
      evict_for(need);
      if (bytes + need <= bound) continue;
      lk.unlock();
      write_spilled();
      lk.lock();
    }
  }

  // --- the file ---

  // Writes the spilled entries in one transaction. Takes db_mu, then mu briefly.
  void write_spilled() {
    std::lock_guard<std::mutex> db_lock(db_mu);
    std::vector<item> items;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (uint64_t key : spilled) {
        auto it = map.find(key);
        if (it == map.end()) continue;
        entry& e = it->second;
        if (e.cached || !e.dirty || e.in_batch) continue;
        e.in_batch = true;
        items.push_back({key, e.value});
      }
      spilled.clear();
    }
    write_batch(items);
  }

  // Every dirty entry to the file, then a full checkpoint (the file alone is durable).
  // db_mu held.
  void flush_locked() {
    std::vector<item> items;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [key, e] : map) {
        if (!e.dirty || e.in_batch) continue;
        e.in_batch = true;
        items.push_back({key, e.value});
      }
      spilled.clear();  // every spilled entry is in this batch
    }
    write_batch(items);
    const int rc = sqlite3_wal_checkpoint_v2(writer.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                             nullptr, nullptr);
    if (rc != SQLITE_OK) fail(file, describe(writer.get(), rc, "cannot checkpoint"));
  }

  // One transaction for `items` (sorted by key: B-tree order). db_mu held, mu not.
  void write_batch(std::vector<item>& items) {
    if (items.empty()) return;
    std::sort(items.begin(), items.end(),
              [](const item& a, const item& b) { return a.key < b.key; });
    try {
      exec(writer.get(), file, "BEGIN IMMEDIATE");
      try {
        for (const auto& x : items) {
          sqlite3_stmt* s = x.value ? put_stmt.get() : delete_stmt.get();
          stmt_reset reset{s};
          sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(x.key));
          if (x.value) {
            sqlite3_bind_blob64(s, 2, x.value->data(), value_bytes(x.value), SQLITE_STATIC);
          }
          const int rc = sqlite3_step(s);
          if (rc != SQLITE_DONE) {
            fail(file, describe(writer.get(), rc,
                                "cannot write " + std::to_string(items.size()) + " values"));
          }
        }
        exec(writer.get(), file, "COMMIT");
      } catch (...) {
        sqlite3_exec(writer.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      finish_batch(items, false);
      throw;
    }
    std::lock_guard<std::mutex> lock(mu);
    finish_batch(items, true);
  }

  // Looks `key` up in the file on the reader connection. read_mu taken, mu not held.
  row_status read_row(uint64_t key, uint32_t floats, std::vector<float>& out, size_t& bytes_found) {
    std::lock_guard<std::mutex> lock(read_mu);
    sqlite3_stmt* s = get_stmt.get();
    stmt_reset reset{s};
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(key));
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return row_status::absent;
    if (rc != SQLITE_ROW) fail(file, describe(reader.get(), rc, "cannot read"));
    const void* blob = sqlite3_column_blob(s, 0);
    bytes_found = static_cast<size_t>(sqlite3_column_bytes(s, 0));
    if (bytes_found != size_t{floats} * sizeof(float)) return row_status::bad_size;
    out.resize(floats);
    if (floats > 0) std::memcpy(out.data(), blob, bytes_found);
    return row_status::found;
  }
};

client_state_store::impl::impl(const fs::path& db_file, size_t memory_bytes)
    : file(db_file), bound(memory_bytes) {
  if (file.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) fail(file, "cannot create the directory: " + ec.message());
  }
  // Our own lock on the file (SQLite's locks allow a second connection; our cache must be
  // the only writer). Kept open until the connections are closed.
  lock_fd.fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd.fd < 0) fail(file, std::string("cannot open: ") + std::strerror(errno));
  if (::flock(lock_fd.fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) fail(file, "already open in another client state store");
    fail(file, std::string("cannot lock: ") + std::strerror(errno));
  }

  writer = open_db(file);
  sqlite3* w = writer.get();
  const int64_t app = query_int(w, file, "PRAGMA application_id");
  const int64_t tables = query_int(w, file, "SELECT count(*) FROM sqlite_master");
  if (app == 0 && tables == 0) {  // a new (empty) file
    exec(w, file, "PRAGMA journal_mode=WAL");
    exec(w, file, "BEGIN IMMEDIATE");
    exec(w, file, slots_table);
    exec(w, file, state_table);
    exec(w, file, ("PRAGMA application_id=" + std::to_string(store_application_id)).c_str());
    exec(w, file, ("PRAGMA user_version=" + std::to_string(store_format)).c_str());
    exec(w, file, "COMMIT");
  } else {
    if (app != store_application_id)
      fail(file, "not a client state store (another SQLite database)");
    const int64_t format = query_int(w, file, "PRAGMA user_version");
    if (format != store_format) {
      fail(file, "client state store format " + std::to_string(format) + ", expected " +
                     std::to_string(store_format));
    }
    auto schema =
        query(w, file, "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name");
    const std::vector<std::vector<std::string>> expected{{"slots", slots_table},
                                                         {"state", state_table}};
    if (schema != expected)
      fail(file, "unexpected schema (tables differ from a client state store's)");
  }
  const auto mode = query(w, file, "PRAGMA journal_mode=WAL");
  if (mode.size() != 1 || mode[0].size() != 1 || mode[0][0] != "wal") {
    fail(file, "cannot use write-ahead logging");
  }
  // Commits are not synced; checkpoints (every 32 MiB of log, and flush()) are.
  exec(w, file, "PRAGMA synchronous=NORMAL");
  exec(w, file, "PRAGMA wal_autocheckpoint=8192");

  for (const auto& row : query(w, file, "SELECT id, name, floats FROM slots ORDER BY id")) {
    const int64_t id = std::stoll(row[0]);
    const int64_t floats = std::stoll(row[2]);
    if (id != static_cast<int64_t>(slots.size()) + 1 || floats <= 0 || floats > UINT32_MAX ||
        !valid_slot_name(row[1])) {
      fail(file, "damaged slots table (slot id " + row[0] + ")");
    }
    slots.push_back({row[1], static_cast<uint32_t>(floats)});
  }
  put_stmt = prepare(w, file, "INSERT OR REPLACE INTO state(key, value) VALUES(?1, ?2)");
  delete_stmt = prepare(w, file, "DELETE FROM state WHERE key = ?1");

  reader = open_db(file);
  get_stmt = prepare(reader.get(), file, "SELECT value FROM state WHERE key = ?1");
}

client_state_store::client_state_store(const fs::path& db_file, size_t memory_bytes)
    : impl_(std::make_unique<impl>(db_file, memory_bytes)) {}

client_state_store::~client_state_store() {
  try {
    flush();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
  }
}

state_slot client_state_store::declare_slot(std::string_view name, uint32_t floats) {
  impl& m = *impl_;
  const std::string where =
      "client state store " + m.file.string() + ": slot '" + std::string(name) + "'";
  if (!valid_slot_name(name)) {
    throw std::invalid_argument("client state store " + m.file.string() + ": bad slot name '" +
                                std::string(name) + "' (1-64 characters of A-Za-z0-9._-)");
  }
  if (floats == 0) throw std::invalid_argument(where + ": 0 floats per value");
  const uint64_t value_size = uint64_t{floats} * sizeof(float);
  if (value_size + entry_overhead > m.bound) {
    throw std::invalid_argument(
        where + ": a value takes " + std::to_string(value_size + entry_overhead) +
        " bytes in memory, more than the memory bound of " + std::to_string(m.bound));
  }
  std::lock_guard<std::mutex> db_lock(m.db_mu);
  const auto blob_limit =
      static_cast<uint64_t>(sqlite3_limit(m.writer.get(), SQLITE_LIMIT_LENGTH, -1));
  if (value_size > blob_limit) {
    throw std::invalid_argument(where + ": " + std::to_string(value_size) +
                                " bytes per value, more than SQLite's limit of " +
                                std::to_string(blob_limit));
  }
  {
    std::lock_guard<std::mutex> lock(m.mu);
    for (size_t i = 0; i < m.slots.size(); ++i) {
      if (m.slots[i].name != name) continue;
      if (m.slots[i].floats != floats) {
        fail(m.file, "slot '" + m.slots[i].name + "' holds " + std::to_string(m.slots[i].floats) +
                         " floats per value, declared with " + std::to_string(floats));
      }
      return {static_cast<uint32_t>(i + 1), floats};
    }
  }
  auto s =
      prepare(m.writer.get(), m.file, "INSERT INTO slots(id, name, floats) VALUES(?1, ?2, ?3)");
  const size_t id = m.slots.size() + 1;                         // slots only grow under db_mu
  if (id >= (size_t{1} << 31)) fail(m.file, "too many slots");  // keys stay positive
  sqlite3_bind_int64(s.get(), 1, static_cast<sqlite3_int64>(id));
  sqlite3_bind_text(s.get(), 2, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.get(), 3, floats);
  const int rc = sqlite3_step(s.get());
  if (rc != SQLITE_DONE) fail(m.file, describe(m.writer.get(), rc, "cannot record the slot"));
  std::lock_guard<std::mutex> lock(m.mu);
  m.slots.push_back({std::string(name), floats});
  return {static_cast<uint32_t>(id), floats};
}

std::optional<std::vector<float>> client_state_store::get(uint32_t client, state_slot slot) {
  impl& m = *impl_;
  const uint64_t key = make_key(client, slot.id);
  std::unique_lock<std::mutex> lk(m.mu);
  m.check_slot(slot);
  auto answer = [&](const value_ptr& v) -> std::optional<std::vector<float>> {
    if (!v) return std::nullopt;
    return *v;
  };
  if (auto it = m.map.find(key); it != m.map.end()) {
    m.touch(it);
    ++m.counters.hits;
    value_ptr v = it->second.value;  // keeps the value alive for the copy outside the lock
    lk.unlock();
    return answer(v);
  }
  const uint32_t epoch = m.epochs[stripe(key)];
  ++m.counters.disk_reads;
  lk.unlock();

  std::vector<float> row;
  size_t found_bytes = 0;
  const auto status = m.read_row(key, slot.floats, row, found_bytes);
  if (status == impl::row_status::bad_size) {
    lk.lock();
    fail(m.file, "client " + std::to_string(client) + " slot '" + m.slots[slot.id - 1].name +
                     "' holds " + std::to_string(found_bytes) + " bytes, expected " +
                     std::to_string(size_t{slot.floats} * sizeof(float)) + " (" +
                     std::to_string(slot.floats) + " floats)");
  }
  value_ptr v;
  if (status == impl::row_status::found) {
    v = std::make_shared<const std::vector<float>>(std::move(row));
  }

  // Cache what was read, unless the key changed meanwhile (then memory has the newer value,
  // or a newer one was written: the value read was current when this call began).
  lk.lock();
  const size_t need = entry_overhead + value_bytes(v);
  for (;;) {
    if (auto it = m.map.find(key); it != m.map.end()) {
      m.touch(it);
      v = it->second.value;
      break;
    }
    if (m.epochs[stripe(key)] != epoch) break;
    if (m.bytes + need <= m.bound) {
      m.insert(key, v, false);
      break;
    }
    m.evict_for(need);
    if (m.bytes + need <= m.bound) continue;
    lk.unlock();
    m.write_spilled();
    lk.lock();
  }
  lk.unlock();
  return answer(v);
}

void client_state_store::put(uint32_t client, state_slot slot, std::vector<float> value) {
  impl& m = *impl_;
  std::unique_lock<std::mutex> lk(m.mu);
  const auto& info = m.check_slot(slot);
  if (value.size() != info.floats) {
    throw std::invalid_argument("client state store " + m.file.string() + ": put of " +
                                std::to_string(value.size()) + " floats for client " +
                                std::to_string(client) + " into slot '" + info.name + "' of " +
                                std::to_string(info.floats));
  }
  m.store(lk, make_key(client, slot.id),
          std::make_shared<const std::vector<float>>(std::move(value)));
}

void client_state_store::erase(uint32_t client, state_slot slot) {
  impl& m = *impl_;
  const uint64_t key = make_key(client, slot.id);
  std::unique_lock<std::mutex> lk(m.mu);
  m.check_slot(slot);
  if (auto it = m.map.find(key); it != m.map.end() && !it->second.value && !it->second.dirty) {
    m.touch(it);  // known absent from the file already
    return;
  }
  m.store(lk, key, nullptr);
}

void client_state_store::flush() {
  std::lock_guard<std::mutex> db_lock(impl_->db_mu);
  impl_->flush_locked();
}

void client_state_store::snapshot_to(const fs::path& target) {
  impl& m = *impl_;
  std::error_code ec;
  if (fs::weakly_canonical(target, ec) == fs::weakly_canonical(m.file, ec)) {
    throw std::invalid_argument("client state store " + m.file.string() +
                                ": cannot snapshot onto its own file");
  }
  auto fail_target = [&](const std::string& what) {
    throw std::runtime_error("client state store snapshot " + target.string() + ": " + what);
  };
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) fail_target("cannot create the directory: " + ec.message());
  }
  fs::path tmp = target;
  tmp += ".tmp." + std::to_string(::getpid());

  std::lock_guard<std::mutex> db_lock(m.db_mu);  // no batch until the copy is done
  m.flush_locked();
  fs::remove(tmp, ec);
  {
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(tmp.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_handle dest(raw);
    if (rc != SQLITE_OK) {
      fs::remove(tmp, ec);
      fail_target("cannot create: " + db_error(raw, rc));
    }
    sqlite3_backup* backup = sqlite3_backup_init(raw, "main", m.writer.get(), "main");
    if (!backup) {
      std::string what = db_error(raw, sqlite3_errcode(raw));
      dest.reset();
      fs::remove(tmp, ec);
      fail_target("cannot copy: " + what);
    }
    rc = sqlite3_backup_step(backup, -1);
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) {
      std::string what = db_error(raw, rc);
      dest.reset();
      fs::remove(tmp, ec);
      fail_target("cannot copy: " + what);
    }
    if (sqlite3_close(dest.release()) != SQLITE_OK) {
      fs::remove(tmp, ec);
      fail_target("cannot close the copy");
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail_target("cannot rename the copy into place: " + ec.message());
  }
  // Make the rename durable.
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

client_state_stats client_state_store::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  client_state_stats s = impl_->counters;
  s.bytes_in_memory = impl_->bytes;
  s.entries_in_memory = impl_->map.size();
  return s;
}

const fs::path& client_state_store::file() const {
  return impl_->file;
}

size_t client_state_store::memory_bytes() const {
  return impl_->bound;
}

}  // namespace fedactor
