-- Checkout mix: buyers (WRK_TOKENS, comma-separated) alternately put a random goods
-- (WRK_GOODS) in their cart and order their cart. Each wrk thread takes its own buyers.
local counter = 0
local threads = {}
function setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

local function split(s)
  local out = {}
  for item in string.gmatch(s, "[^,]+") do out[#out + 1] = item end
  return out
end

local tokens, goods, n
function init(args)
  tokens = split(os.getenv("WRK_TOKENS"))
  goods = split(os.getenv("WRK_GOODS"))
  n = 0
  server_errors = 0
  math.randomseed(thread_id * 7919 + 1)
end

function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("server_errors") end
  io.write(string.format("5xx responses: %d\n", total))
end

function request()
  n = n + 1
  local buyer = tokens[((thread_id + math.floor(n / 2) * 2) % #tokens) + 1]
  local headers = { ["Authorization"] = "Bearer " .. buyer, ["Content-Type"] = "application/json" }
  if n % 2 == 1 then
    local g = goods[math.random(#goods)]
    return wrk.format("POST", "/shopcarts/", headers, '{"goods":' .. g .. ',"nums":1}')
  end
  return wrk.format("POST", "/orders/", headers, '{"post_script":"bench","singer_mobile":"13800138000"}')
end
