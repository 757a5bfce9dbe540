# Included by ctest after the test cases catch_discover_tests found: the tests that run
# headless Chromium on `fedactor report` pages (tests/runtime/cli/report_command_test.cpp) get
# a time bound of their own, above the sum of their inner timeouts (two runs of 60 s, the
# report 30 s, Chromium 60 s). Keep the names equal to their TEST_CASE names.
set_tests_properties(
  "fedactor report page of a sync run draws every chart in headless chromium"
  "fedactor report page of an async run draws every chart in headless chromium"
  "fedactor report page of a run with events, beside a sync run, draws every chart in headless chromium"
  PROPERTIES TIMEOUT 240)
# The live view's page in headless Chromium (tests/runtime/cli/live_view_test.cpp): the run
# 60 s, Chromium 60 s.
set_tests_properties(
  "fedactor run --http page of a lingering run draws every chart in headless chromium"
  PROPERTIES TIMEOUT 240)
# The live page updating in place (tests/runtime/http/live_routes_test.cpp): Chromium 60 s.
set_tests_properties(
  "the live page updates its charts in place as records arrive, in headless chromium"
  PROPERTIES TIMEOUT 240)
