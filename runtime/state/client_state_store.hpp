#pragma once

// The client state store: per-client state that outlives the client actor (SCAFFOLD's control
// variate c_i, FedBN's local normalisation layers, top-k error-feedback residuals). A value is
// a vector of floats keyed by (client id, slot); a slot is a named kind of state with a fixed
// number of floats, declared once. Values live in a bounded in-memory LRU cache and spill to an
// embedded SQLite database file (write-back, in batches of one transaction), so the state of
// a million clients need not fit in RAM; an existing file is reopened with its values, so a
// resumed run finds its clients' state.
//
// Why SQLite and not LMDB (the other well-kept embedded store in Debian): LMDB maps the whole
// file and needs its maximum size fixed up front (mdb_env_set_mapsize), and its pages count
// toward the process's resident set as they are touched, which works against a memory bound;
// SQLite's file checks itself (a file that is not a database, or holds another schema, is
// refused with a clear error), WAL mode gives readers that never wait for the writer, the
// online backup API gives consistent snapshots for checkpoints, and the sqlite3 shell can
// inspect a run's state. The cache in front absorbs the hot reads LMDB would make faster.
// docs/strategies-state.md describes the file, the memory bound and the crash behaviour.
//
// Thread-safety: every member function may be called from any thread concurrently. One
// mutex guards the cache and is never held across a database read or write: spilled values
// are read on a second connection (WAL: readers do not wait for a write in progress), and
// writes are serialised on their own lock, so a client whose value is cached is served while
// another thread writes a batch.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fedactor {

// A declared slot: obtain from client_state_store::declare_slot, pass by value. Only
// meaningful for the store that declared it.
struct state_slot {
  uint32_t id = 0;      // the slot's number in the store's file (1, 2, ...)
  uint32_t floats = 0;  // the size of every value of this slot
};

// Counters of one store (client_state_store::stats()).
struct client_state_stats {
  uint64_t bytes_in_memory = 0;       // held now: value bytes + entry_overhead per entry
  uint64_t peak_bytes_in_memory = 0;  // the largest bytes_in_memory so far (<= memory_bytes)
  uint64_t entries_in_memory = 0;     // held now (values, erasures, known-absent keys)
  uint64_t dirty_entries = 0;         // held now and not yet written to the file
  uint64_t hits = 0;                  // get()s answered from memory
  uint64_t disk_reads = 0;            // get()s that looked the key up in the file
  uint64_t spills = 0;                // entries pushed out of memory before being written
  uint64_t disk_writes = 0;           // rows written or deleted in the file
  uint64_t write_batches = 0;         // transactions those writes went in
};

class client_state_store {
 public:
  // Memory counted per cached entry on top of its floats (hash node, LRU link, shared buffer
  // header, allocator headers): an estimate of this implementation's real cost.
  static constexpr size_t entry_overhead = 192;

  // Opens `db_file`, creating it and its parent directories if missing; an existing store
  // file is reopened with all its values and slots. `memory_bytes` bounds the cache (values
  // plus entry_overhead each). Throws std::runtime_error, one line naming the file, when the
  // directory or file cannot be created or opened, the file is not a SQLite database, holds
  // another schema (not made by this class), or is already open in another store (this
  // process or another: the file is locked while open). Complexity: O(slots).
  client_state_store(const std::filesystem::path& db_file, size_t memory_bytes);

  // Writes every value not yet in the file (flush()); an error there is printed to stderr as
  // one line (call flush() first to handle it).
  ~client_state_store();

  client_state_store(const client_state_store&) = delete;
  client_state_store& operator=(const client_state_store&) = delete;

  // The slot named `name` holding `floats` floats per client, recorded in the file (the same
  // name gives the same slot on every call and after a reopen). Names are 1-64 characters of
  // [A-Za-z0-9._-], e.g. "scaffold.c", "fedbn", "topk.residual". Throws std::invalid_argument
  // for a bad name, floats == 0, or a value (4·floats + entry_overhead bytes) larger than
  // memory_bytes or SQLite's blob limit; std::runtime_error naming the file when the file
  // already has this slot with another size, or cannot be written.
  state_slot declare_slot(std::string_view name, uint32_t floats);

  // The value of (client, slot), or nullopt if none was put (or it was erased). A value not in
  // memory is read from the file and cached (this may write older values to make room).
  // Throws std::invalid_argument for a slot handle this store did not declare;
  // std::runtime_error naming the file, the client and the slot when the stored value has
  // another size than the slot's (a damaged file), or on a database error. Complexity: O(1)
  // cached; one B-tree lookup otherwise.
  std::optional<std::vector<float>> get(uint32_t client, state_slot slot);

  // Sets the value of (client, slot); the store keeps `value` (moved, not copied). When the
  // memory bound would be exceeded, the least recently used entries leave memory, those not
  // yet in the file written in one transaction (by this call). Throws std::invalid_argument
  // for an unknown slot handle or value.size() != slot.floats; std::runtime_error naming the
  // file when a write fails (the value is then not stored; the entries that were to be
  // written stay in memory and are retried by a later write). Complexity: O(1) amortised,
  // plus the batch write when one is due.
  void put(uint32_t client, state_slot slot, std::vector<float> value);

  // Removes the value of (client, slot) (from the file at the next write). Same throw
  // conditions as put().
  void erase(uint32_t client, state_slot slot);

  // Writes every value not yet in the file, in one transaction, and checkpoints the write-ahead
  // log: when it returns, the file alone holds every value put before the call, durably (it
  // survives a crash or power loss). Throws std::runtime_error naming the file on failure.
  // Complexity: O(entries in memory) plus the writes.
  void flush();

  // Writes a consistent copy of all state (memory and file, as of one instant during the
  // call) to `target`, a complete store file that client_state_store can open. Writes go to
  // a temporary file beside `target`, renamed over it at the end; parent directories are
  // created. Throws std::invalid_argument when `target` is this store's file;
  // std::runtime_error naming `target` on failure. Other threads' get()s and put()s that fit
  // in memory proceed meanwhile; writes to the file wait until the copy is done.
  // Complexity: O(size of the file).
  void snapshot_to(const std::filesystem::path& target);

  client_state_stats stats() const;
  const std::filesystem::path& file() const;
  size_t memory_bytes() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fedactor
