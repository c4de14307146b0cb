-- booking_bench.lua — wrk script of bench/booking_bench.sh: every request
-- books a different, free, in-hours slot (so that it is a real 201 booking,
-- with every check of the API), cycling over the professionals.
--
-- Environment: BENCH_TOKEN (a receptionist's session), BENCH_PROS ("3,6,7,..."),
-- BENCH_BASE (a Monday, 00:00 UTC, as epoch seconds, after the generated data),
-- BENCH_UTC_OFFSET_H (hours to add to 09:00 local to get UTC: 6 for Mexico City).
local token = os.getenv("BENCH_TOKEN")
local base = tonumber(os.getenv("BENCH_BASE"))
local offset_h = tonumber(os.getenv("BENCH_UTC_OFFSET_H") or "6")
local pros = {}
for p in string.gmatch(os.getenv("BENCH_PROS"), "[^,]+") do
  pros[#pros + 1] = tonumber(p)
end

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local counter, nthreads = 0, 1
created, refused = 0, 0 -- globals: done() reads them with thread:get()
function init(args)
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
end

local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }

function request()
  -- Slot n: professional n mod P; then 9 hourly starts a day, Monday to Friday.
  local n = counter * nthreads + tid
  counter = counter + 1
  local pro = pros[(n % #pros) + 1]
  local k = math.floor(n / #pros)
  local day, hour = math.floor(k / 9), 9 + k % 9
  local t = base + (math.floor(day / 5) * 7 + day % 5) * 86400 + (hour + offset_h) * 3600
  local body = string.format(
    '{"client_id":%d,"service_id":1,"professional_id":%d,"branch_id":1,"start":"%s"}',
    1 + n % 6, pro, os.date("!%Y-%m-%dT%H:%M:%SZ", t))
  return wrk.format("POST", "/api/v1/appointments", headers, body)
end

function response(status, hdrs, body)
  if status == 201 then created = created + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local c, r = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    r = r + t:get("refused")
  end
  io.write(string.format("RESULT requests=%d created=%d other=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, c, r, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3))
end
