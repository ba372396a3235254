-- Uncached goods lists: every request is a URL the server has not built within its cache period,
-- so each one is counted, queried and rendered. The server keys its cache on the parameters it
-- reads, so uniqueness comes from real ones: the request's number across all wrk threads picks
-- pricemin in 0.00–99.99 and pricemax in 200.00–299.99 yuan, one fen apart (10^8 distinct
-- ranges). Every such range holds at least the goods of the narrowest one, 99.99–200.00, which
-- is what the harness counts to give the valid pages.
--
--   WRK_THREADS     wrk's thread count (the stride of the request numbering)
--   WRK_PAGES       pages of 40 in the narrowest range: page is drawn from 1..WRK_PAGES,
--                   page_size from 10..40, ordering from the six below
--   WRK_CATEGORIES  "id:pages,…": each request filters by one of them (top_category) instead
--   WRK_WORDS       "word:pages,…" (URL-encoded): each request searches one of them instead
--   WRK_PAGE_SIZE   a fixed page size instead: page 1, default ordering, only pricemin varies
--                   (0.00–149.99, 15,000 distinct URLs) so that every page is full
local ORDERINGS = { "shop_price", "-shop_price", "sold_num", "-sold_num", "add_time", "-add_time" }

local threads = 0
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

-- "key:pages,…" → { { key, pages }, … }
local function filters(s)
  if not s or s == "" then return nil end
  local out = {}
  for key, pages in string.gmatch(s, "([^,:]+):(%d+)") do out[#out + 1] = { key, tonumber(pages) } end
  return out
end

local stride, pages, categories, words, page_size, n
function init(args)
  stride = tonumber(os.getenv("WRK_THREADS"))
  pages = tonumber(os.getenv("WRK_PAGES") or "1")
  categories = filters(os.getenv("WRK_CATEGORIES"))
  words = filters(os.getenv("WRK_WORDS"))
  page_size = tonumber(os.getenv("WRK_PAGE_SIZE") or "")
  n = 0
  math.randomseed(thread_id * 7919 + 1)
end

local function yuan(fen)
  return string.format("%d.%02d", math.floor(fen / 100), fen % 100)
end

function request()
  n = n + 1
  local u = n * stride + thread_id
  if page_size then
    return wrk.format("GET", string.format("/goods/?page_size=%d&pricemin=%s", page_size, yuan(u % 15000)))
  end
  local filter, last = "", pages
  if categories then
    local c = categories[math.random(#categories)]
    filter, last = "&top_category=" .. c[1], c[2]
  elseif words then
    local w = words[math.random(#words)]
    filter, last = "&search=" .. w[1], w[2]
  end
  local path = string.format("/goods/?page=%d&page_size=%d&ordering=%s&pricemin=%s&pricemax=%s%s",
    math.random(last), math.random(10, 40), ORDERINGS[math.random(#ORDERINGS)],
    yuan(u % 10000), yuan(20000 + math.floor(u / 10000) % 10000), filter)
  return wrk.format("GET", path)
end
