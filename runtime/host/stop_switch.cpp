#include "runtime/host/stop_switch.hpp"

#include <utility>

namespace fedactor {

stop_switch::guard& stop_switch::guard::operator=(guard&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

void stop_switch::guard::release() {
  if (!owner_) return;
  std::lock_guard<std::mutex> lock{owner_->mu_};
  owner_->act_ = nullptr;
  owner_ = nullptr;
}

bool stop_switch::request(const std::string& reason) {
  std::lock_guard<std::mutex> lock{mu_};
  if (requested_) return false;
  requested_ = true;
  reason_ = reason;
  if (!act_) return false;
  act_(reason_);
  return true;
}

bool stop_switch::requested() const {
  std::lock_guard<std::mutex> lock{mu_};
  return requested_;
}

std::string stop_switch::reason() const {
  std::lock_guard<std::mutex> lock{mu_};
  return reason_;
}

stop_switch::guard stop_switch::arm(action act) {
  std::lock_guard<std::mutex> lock{mu_};
  act_ = std::move(act);
  if (requested_ && act_) act_(reason_);
  return guard{this};
}

void stop_switch::reset() {
  std::lock_guard<std::mutex> lock{mu_};
  requested_ = false;
  reason_.clear();
}

}  // namespace fedactor
