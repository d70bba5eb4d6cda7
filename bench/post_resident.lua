-- wrk script: POST /api/v1/residents with a new, valid, unique fictional ID number per request.
-- wrk ... -s post_resident.lua URL -- TOKEN COMMUNITY GRID OFFSET
local counter, token, community, grid = 0, "", 0, 0
local base = os.time{year = 1930, month = 1, day = 1, hour = 12}
local weights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  token, community, grid = args[1], tonumber(args[2]), tonumber(args[3])
  counter = tonumber(args[4]) + tid * 1000000
end

local function id_number(n)
  local day, seq = math.floor(n / 1000), n % 1000
  local first = "110105" .. os.date("!%Y%m%d", base + day * 86400) .. string.format("%03d", seq)
  local s = 0
  for i = 1, 17 do s = s + tonumber(first:sub(i, i)) * weights[i] end
  local check = ("10X98765432"):sub(s % 11 + 1, s % 11 + 1)
  return first .. check
end

function request()
  counter = counter + 1
  local body = string.format('{"name":"压测%d","id_number":"%s","grid_id":%d,"community_id":%d}',
    counter, id_number(counter), grid, community)
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json"}, body)
end

local created, other = 0, 0
function response(status)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary)
  io.write(string.format("non_2xx=%d\n", summary.errors.status))
end
