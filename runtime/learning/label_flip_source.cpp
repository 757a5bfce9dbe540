#include "runtime/learning/label_flip_source.hpp"

#include "runtime/protocol/attack.hpp"

namespace fedactor {

label_flip_source::label_flip_source(std::shared_ptr<const data_source> inner, attack_config attack)
    : inner_(std::move(inner)), attack_(attack) {}

client_dataset label_flip_source::make(uint64_t client) const {
  auto d = inner_->make(client);
  if (!is_malicious(attack_, client)) return d;
  const auto last = static_cast<int64_t>(inner_->classes()) - 1;
  for (auto& y : d.y) y = last - y;
  return d;
}

}  // namespace fedactor
