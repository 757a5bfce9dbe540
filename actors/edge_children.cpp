// A middle edge's child edges and the client ids their subtrees host.

#include "actors/edge_children.hpp"

#include <algorithm>

#include "messages/tree.hpp"

namespace fedactor {

void edge_children::add(uint32_t id, edge_actor edge, caf::actor control,
                        std::vector<uint32_t> covers, std::string name) {
  std::lock_guard<std::mutex> guard{mu_};
  entries_.erase(
      std::remove_if(entries_.begin(), entries_.end(), [&](const entry& e) { return e.id == id; }),
      entries_.end());
  entries_.push_back(
      entry{id, std::move(edge), std::move(control), std::move(covers), std::move(name)});
}

bool edge_children::set_cover(uint32_t id, const caf::actor_addr& control,
                              std::vector<uint32_t> covers) {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto& e : entries_)
    if (e.id == id && e.control.address() == control) {
      e.covers = std::move(covers);
      return true;
    }
  return false;
}

std::optional<uint32_t> edge_children::remove(const caf::actor_addr& control) {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->control.address() == control) {
      const uint32_t id = it->id;
      entries_.erase(it);
      return id;
    }
  return std::nullopt;
}

std::optional<edge_children::route> edge_children::find(uint32_t client) const {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    for (size_t i = 0; i + 1 < it->covers.size(); i += 2)
      if (client >= it->covers[i] && client <= it->covers[i + 1]) return route{it->id, it->edge};
  return std::nullopt;
}

std::vector<uint32_t> edge_children::covers() const {
  std::lock_guard<std::mutex> guard{mu_};
  std::vector<uint32_t> out;
  for (auto& e : entries_) out.insert(out.end(), e.covers.begin(), e.covers.end());
  return out;
}

std::vector<caf::actor> edge_children::controls() const {
  std::lock_guard<std::mutex> guard{mu_};
  std::vector<caf::actor> out;
  for (auto& e : entries_) out.push_back(e.control);
  return out;
}

std::string edge_children::name_of(uint32_t id) const {
  std::lock_guard<std::mutex> guard{mu_};
  for (auto& e : entries_)
    if (e.id == id) return e.name;
  return "child edge " + std::to_string(id);
}

size_t edge_children::size() const {
  std::lock_guard<std::mutex> guard{mu_};
  return entries_.size();
}

std::string cover_problem(const std::vector<uint32_t>& covers, uint64_t clients) {
  if (covers.size() % 2 != 0)
    return "client ranges of " + std::to_string(covers.size()) + " values, not pairs";
  if (covers.size() / 2 > max_cover_ranges)
    return std::to_string(covers.size() / 2) + " client ranges, at most " +
           std::to_string(max_cover_ranges);
  for (size_t i = 0; i < covers.size(); i += 2)
    if (covers[i] > covers[i + 1] || covers[i + 1] >= clients)
      return "client ids " + std::to_string(covers[i]) + "-" + std::to_string(covers[i + 1]) +
             (clients == 0 ? std::string{": the scenario has no clients"}
                           : " outside 0-" + std::to_string(clients - 1));
  return {};
}

}  // namespace fedactor
