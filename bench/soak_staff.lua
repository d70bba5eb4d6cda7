-- wrk script (bench/soak.sh): a member of staff browsing — resident lists and searches, one resident,
-- alerts, devices, applications and the overview figures, in turn — with a think time per connection.
-- wrk ... -s soak_staff.lua URL -- TOKEN RESIDENTS THINK_MS
local token, residents, think = "", 1, 200
local paths = {
  "/api/v1/residents?limit=20",
  "/api/v1/residents?limit=20&q=%E7%8E%8B",
  "/api/v1/residents/%d",
  "/api/v1/alerts?limit=20",
  "/api/v1/devices?limit=50",
  "/api/v1/service-applications?limit=20",
  "/api/v1/stats/overview",
  "/api/v1/residents?limit=20&sort=-age",
}
local n = 0

function init(args)
  token, residents, think = args[1], tonumber(args[2]), tonumber(args[3])
  n = math.random(1, #paths)
end

function request()
  n = n + 1
  local p = paths[n % #paths + 1]
  if p:find("%%d") then p = string.format(p, math.random(1, residents)) end
  return wrk.format("GET", p, {["Authorization"] = "Bearer " .. token})
end

function delay()
  return math.random(math.floor(think / 2), think + math.floor(think / 2))
end

function done(summary, latency, requests)
  io.write(string.format("soak_result role=staff requests=%d non_2xx=%d socket_errors=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f p999_ms=%.1f max_ms=%.1f\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
end
