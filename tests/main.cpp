// The test runner: Catch2's main, plus CAF's unit-test engine so that
// caf::test::test_coordinator_fixture (deterministic scheduler) can be used from Catch2.

#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#define CAF_TEST_NO_MAIN
#include <caf/test/unit_test_impl.hpp>
