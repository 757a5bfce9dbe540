#pragma once

// A request to stop a run early, from any thread (the CLI's signal-waiting thread, an
// embedding host's UI), before or while the run goes on. The first request counts; what a
// stop means is armed by whoever is running at the time (federation::run arms "send the server
// stop_atom", a node arms "tell my actor to leave"), and a request made before anything was
// armed is carried out as soon as something is.

#include <functional>
#include <mutex>
#include <string>

namespace fedactor {

class stop_switch {
 public:
  using action = std::function<void(const std::string& reason)>;

  // Disarms on destruction (a guard that outlives its switch is a bug).
  class guard {
   public:
    guard() = default;
    guard(guard&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    guard& operator=(guard&& other) noexcept;
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    ~guard() { release(); }
    // Disarms now (waits for an action running on another thread to return).
    void release();

   private:
    friend class stop_switch;
    explicit guard(stop_switch* owner) : owner_(owner) {}
    stop_switch* owner_ = nullptr;
  };

  // Requests a stop for `reason` (e.g. "SIGINT"). The first request is kept and runs the
  // armed action, if any, on the calling thread; later ones change nothing. Returns true when
  // an armed action ran for this request.
  bool request(const std::string& reason);

  bool requested() const;
  std::string reason() const;  // empty until requested

  // Makes `act` what a stop means until the guard is released (one armed action at a time:
  // release the previous guard before arming the next).
  // When a stop was already requested, `act` runs at once, on this thread. The action runs
  // under the switch's lock: it must not block or call back into the switch.
  [[nodiscard]] guard arm(action act);

  // Forgets a request (federation: a stop ends one run, not the next).
  void reset();

 private:
  mutable std::mutex mu_;
  bool requested_ = false;
  std::string reason_;
  action act_;
};

}  // namespace fedactor
