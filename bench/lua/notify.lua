-- Alipay notifications: POSTs the signed bodies of WRK_BODIES (one form body per line) to
-- /alipay/return/. wrk's threads take every WRK_THREADS-th body each, so that the first pass
-- over the file delivers every body once (each pays its order); after it, every request is a
-- delivery again (a duplicate), as Alipay retries.
local counter = 0
function setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
end

local bodies = {}
local n = 0
function init(args)
  local threads = tonumber(os.getenv("WRK_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("WRK_BODIES")) do
    if i % threads == thread_id then bodies[#bodies + 1] = line end
    i = i + 1
  end
end

function request()
  n = n + 1
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8" }
  return wrk.format("POST", "/alipay/return/", headers, bodies[((n - 1) % #bodies) + 1])
end
