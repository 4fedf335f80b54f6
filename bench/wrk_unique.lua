-- wrk script of bench/serve_bench.py: one kind of request, made unique per request by a number in its text.
--
--   wrk -t T -c C -d S -s bench/wrk_unique.lua URL -- METHOD PATH BODY FIRST T TRACE [NAME VALUE]...
--
-- BODY is the request body ("" for none). In it \1n\1, \1limit\1 and \1offset\1 stand for the request's number n,
-- 1000 + n and n % 10000 (as fields() in serve_bench.py, which checks the texts under --check-unique). Thread k
-- (0-based) sends the numbers FIRST + k, FIRST + k + T, FIRST + k + 2T, ...: no number twice in the cell, and
-- serve_bench.py starts the next cell past the last one used, so no text repeats in the run (our server caches
-- answers). A BODY without a field is sent as it is. TRACE, unless "", is a file name prefix: thread k writes
-- "n<TAB>body" for each numbered request it makes to TRACE.k (one more than it sends: wrk makes the first thread's
-- first request once before the run, to check it). The NAME VALUE pairs are the request's headers.
--
-- done() prints "serve_bench KEY VALUE" lines for serve_bench.py, and the latency histogram as wrk holds it
-- (serve_bench.py takes wrk's correction for coordinated omission out of it).

local threads = {}

function setup(thread)
   thread:set("index", #threads)
   table.insert(threads, thread)
end

local function fields(n)
   -- strings, so that no number is ever written as 1e+15
   return { n = string.format("%d", n), limit = string.format("%d", 1000 + n), offset = string.format("%d", n % 10000) }
end

function init(args)
   method, path, template = args[1], args[2], args[3]
   first = tonumber(args[4]) + index
   step = tonumber(args[5])
   numbered = template:find("\1", 1, true) ~= nil
   if args[6] ~= "" and numbered then
      trace = assert(io.open(args[6] .. "." .. index, "w"))
   end
   headers = {}
   for i = 7, #args, 2 do
      headers[args[i]] = args[i + 1]
   end
   if template == "" then
      template = nil
   end
   sent = 0
   non_2xx = 0
end

function request()
   local body = template
   if numbered then
      local n = first + step * sent
      local values = fields(n)
      body = template:gsub("\1(%a+)\1", function(name)
         return values[name] or error("wrk_unique.lua: no field " .. name)
      end)
      if trace then
         trace:write(string.format("%d", n), "\t", body, "\n")
         trace:flush()
      end
   end
   sent = sent + 1
   return wrk.format(method, path, headers, body)
end

-- wrk counts only statuses above 399 as errors; the Python client counts every status outside 2xx. (Defining
-- response() makes wrk hand over each body, some microseconds a request.)
function response(status, headers, body)
   if status < 200 or status > 299 then
      non_2xx = non_2xx + 1
   end
end

function done(summary, latency, requests)
   local next_free, non_2xx = nil, 0
   for _, thread in ipairs(threads) do
      local sent = thread:get("sent")
      local after = thread:get("first") + thread:get("step") * (sent - 1) + 1
      if sent > 0 and (next_free == nil or after > next_free) then
         next_free = after
      end
      non_2xx = non_2xx + thread:get("non_2xx")
   end
   local e = summary.errors
   local out = {
      string.format("serve_bench requests %d", summary.requests),
      string.format("serve_bench duration_us %d", summary.duration),
      string.format("serve_bench socket_errors %d", e.connect + e.read + e.write + e.timeout),
      string.format("serve_bench non_2xx %d", non_2xx),
      string.format("serve_bench next %d", next_free or -1),
   }
   -- latency(i) is the i-th distinct value (microseconds) and its count; each call scans the histogram, which
   -- takes a fraction of a second after the run, out of the measured time
   for i = 1, #latency do
      local value, count = latency(i)
      out[#out + 1] = string.format("serve_bench latency %d %d", value, count)
   end
   io.write(table.concat(out, "\n"), "\n")
end
