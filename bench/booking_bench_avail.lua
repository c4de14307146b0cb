-- booking_bench_avail.lua — wrk script of bench/booking_bench.sh: the same
-- availability request (one professional, 31 days) again and again.
-- Environment: BENCH_TOKEN, BENCH_PATH (the path with its query string).
local headers = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
local req = wrk.format("GET", os.getenv("BENCH_PATH"), headers)
function request()
  return req
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3))
end
