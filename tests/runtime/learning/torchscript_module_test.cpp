#include "runtime/learning/torchscript_module.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "tests/support/test_paths.hpp"

using namespace fedactor;

namespace {

std::string fixture(const std::string& name) {
  return std::string(FEDACTOR_SOURCE_DIR) + "/tests/fixtures/" + name;
}

std::string runtime_error_of(const std::string& path) {
  try {
    load_script(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("torchscript buffers: float as they are, an int64 num_batches_tracked as a counter",
          "[learning]") {
  CHECK(role_of("bn.running_mean", torch::zeros({4})) == buffer_role::floating);
  CHECK(role_of("x", torch::zeros({2}, torch::kFloat64)) == buffer_role::floating);
  CHECK(role_of("bn.num_batches_tracked", torch::zeros({}, torch::kInt64)) == buffer_role::counter);
  CHECK(role_of("num_batches_tracked", torch::zeros({}, torch::kInt64)) == buffer_role::counter);
  CHECK(role_of("bn.num_batches_tracked", torch::zeros({}, torch::kInt32)) ==
        buffer_role::unfederated);
  CHECK(role_of("bn.steps", torch::zeros({}, torch::kInt64)) == buffer_role::unfederated);
  CHECK(role_of("mask", torch::zeros({3}, torch::kBool)) == buffer_role::unfederated);
}

TEST_CASE("torchscript counts round halves away from zero and refuse what is not a count",
          "[learning]") {
  CHECK(count_of(2.5f, "c") == 3);
  CHECK(count_of(-2.5f, "c") == -3);
  CHECK(count_of(7.49f, "c") == 7);
  CHECK(count_of(0.0f, "c") == 0);
  CHECK_THROWS_AS(count_of(std::numeric_limits<float>::quiet_NaN(), "c"), std::invalid_argument);
  CHECK_THROWS_AS(count_of(std::numeric_limits<float>::infinity(), "c"), std::invalid_argument);
  CHECK_THROWS_AS(count_of(1e19f, "c"), std::invalid_argument);
  CHECK(first_line("one\ntwo\nthree") == "one");
  CHECK(first_line("single") == "single");
}

TEST_CASE("torchscript modules load with their parameters and normalisation ranges", "[learning]") {
  const auto bn = load_script(fixture("bn_cnn.pt"));
  // conv.weight [4,1,3,3], conv.bias, bn.weight, bn.bias, fc.weight [10,676], fc.bias.
  const auto params = script_parameters(bn);
  REQUIRE(params.size() == 6);
  CHECK(params[0].sizes().vec() == std::vector<int64_t>{4, 1, 3, 3});
  CHECK(params[4].sizes().vec() == std::vector<int64_t>{10, 676});
  // bn.weight and bn.bias at 40..48; bn's running mean, var and count at 6818..6827.
  const auto ranges = norm_ranges_of(bn);
  REQUIRE(ranges.size() == 2);
  CHECK((ranges[0].begin == 40 && ranges[0].end == 48));
  CHECK((ranges[1].begin == 6818 && ranges[1].end == 6827));
  CHECK(norm_ranges_of(load_script(fixture("tiny_mlp.pt"))).empty());

  const auto missing = (std::filesystem::temp_directory_path() / "fedactor_no_such.pt").string();
  std::filesystem::remove(missing);
  CHECK(runtime_error_of(missing) == missing + ": no such TorchScript file");
  const auto junk = (std::filesystem::temp_directory_path() / "fedactor_junk_script.pt").string();
  std::ofstream{junk} << "not a zip";
  CHECK(runtime_error_of(junk).rfind(junk + ": not a readable TorchScript module (", 0) == 0);
  std::filesystem::remove(junk);
}
