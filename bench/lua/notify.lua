-- Alipay notifications: POSTs the signed bodies of WRK_BODIES (one form body per line) to
-- /alipay/return/ in turn. The first for each order pays it; the rest are duplicates.
local bodies = {}
local n = 0
function init(args)
  for line in io.lines(os.getenv("WRK_BODIES")) do bodies[#bodies + 1] = line end
end

function request()
  n = n + 1
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8" }
  return wrk.format("POST", "/alipay/return/", headers, bodies[(n % #bodies) + 1])
end
