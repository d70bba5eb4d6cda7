-- wrk script (bench/soak.sh): residents applying for a service in the service hall — each request
-- creates a draft application for the resident's own account, the next one submits it — with a
-- think time. Each wrk thread is one resident account.
-- wrk ... -s soak_apply.lua URL -- ITEM_ID THINK_MS TOKEN1 TOKEN2 …
local threads, tokens = {}, {}
local item, think, token, pending = 0, 500, "", nil

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  item, think = tonumber(args[1]), tonumber(args[2])
  token = args[2 + ((tid - 1) % (#args - 2)) + 1]
end

function request()
  local h = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  if pending then
    local id = pending
    pending = nil
    return wrk.format("POST", "/api/v1/service-applications/" .. id .. "/submit", h, "")
  end
  return wrk.format("POST", "/api/v1/service-applications", h,
    string.format('{"item_id":%d,"form":{"a":"soak"}}', item))
end

function response(status, headers, body)
  if status == 201 then pending = body:match('"id":(%d+)') end
end

function delay()
  return math.random(math.floor(think / 2), think + math.floor(think / 2))
end

function done(summary, latency, requests)
  io.write(string.format("soak_result role=resident requests=%d non_2xx=%d socket_errors=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f p999_ms=%.1f max_ms=%.1f\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
end
