#include "runtime/math/model_digest.hpp"

#include <catch2/catch.hpp>

TEST_CASE("sha256 matches the FIPS 180-2 test vector", "[math]") {
  CHECK(fedactor::sha256_hex("abc", 3) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("model digest changes with one flipped parameter and l2 is the Euclidean norm",
          "[math]") {
  std::vector<float> a{3.0f, 4.0f};
  auto b = a;
  b[1] = 4.0000005f;
  CHECK(fedactor::model_sha256(a) != fedactor::model_sha256(b));
  CHECK(fedactor::l2_norm(a) == 5.0);
}
