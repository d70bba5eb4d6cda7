-- wrk script: POST /api/v1/canteen/sales, a counter sale with a new client_ref per request, the diners
-- taken in turn from a list (each sale prices the diner's record: rules, one subsidised meal per slot),
-- paid in cash so that no card runs dry.
-- wrk ... -s post_sale.lua URL -- TOKEN MENU_ITEM_ID RUN_TAG RESIDENT_ID[,RESIDENT_ID…]
local counter, token, item, tag, diners = 0, "", 0, "", {}
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  token, item, tag = args[1], tonumber(args[2]), args[3]
  for id in string.gmatch(args[4], "%d+") do diners[#diners + 1] = tonumber(id) end
end

function request()
  counter = counter + 1
  local body = string.format('{"client_ref":"b-%s-%d-%d","menu_item_id":%d,"resident_id":%d,"method":"cash"}',
    tag, tid, counter, item, diners[counter % #diners + 1])
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json"}, body)
end

function done(summary)
  io.write(string.format("non_2xx=%d\n", summary.errors.status))
end
