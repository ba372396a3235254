-- Paced runs (load.py --paced): runs the scenario's script (WRK_SCRIPT; none for a plain URL)
-- and makes each connection wait WRK_PACE_MS between a response and its next request. wrk takes
-- whole milliseconds, so a fractional pause is dithered between its floor and ceiling.
local script = os.getenv("WRK_SCRIPT")
if script and script ~= "" then dofile(script) end

local pause = tonumber(os.getenv("WRK_PACE_MS"))
local whole = math.floor(pause)
function delay()
  if math.random() < pause - whole then return whole + 1 end
  return whole
end
