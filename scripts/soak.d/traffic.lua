-- wrk script of scripts/soak: the requests of one traffic class, and a count of the answers by
-- status, printed as one JSON line when wrk ends (wrk itself only counts "non-2xx").
--
--   wrk ... http://127.0.0.1:PORT -s scripts/soak.d/traffic.lua -- CLASS [FILE]
--
-- CLASS is the request's path (/api/CLASS) and decides its Authorization header:
--   cached, store, forged   a value from FILE (one header value a line), picked at random
--   wrongpw                 Basic, a username from FILE ("*": a random one), a random password
--   bearer                  Bearer, a random value no identity service knows
--   garbage                 a malformed value, of one of the kinds below
-- A header is random wherever the module must not answer it from its cache: a repeated wrong
-- password would cost one hash per negative TTL, not one per request.

local bit = require("bit")

local values, make
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

local function read_lines(path)
    local out = {}
    for line in io.lines(path) do
        if line ~= "" then
            table.insert(out, line)
        end
    end
    assert(#out > 0, path .. " is empty")
    return out
end

local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

local function random_from(alphabet, n)
    local out = {}
    for i = 1, n do
        local k = math.random(#alphabet)
        out[i] = alphabet:sub(k, k)
    end
    return table.concat(out)
end

-- Bytes a header value can carry on the wire: printable ASCII and bytes above 0x7f (CR, LF and
-- NUL would end or break the request itself, which is NGINX's business, not the module's).
local function random_bytes(n)
    local out = {}
    for i = 1, n do
        local b = math.random(0x20, 0xfe)
        if b == 0x7f then
            b = 0x21
        end
        out[i] = string.char(b)
    end
    return table.concat(out)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
    local out = {}
    for i = 1, #s, 3 do
        local a, b, c = s:byte(i, i + 2)
        local n = bit.bor(bit.lshift(a, 16), bit.lshift(b or 0, 8), c or 0)
        for j = 0, 3 do
            if j <= (#s - i + 1) then
                local k = bit.band(bit.rshift(n, 18 - 6 * j), 63) + 1
                table.insert(out, B64:sub(k, k))
            else
                table.insert(out, "=")
            end
        end
    end
    return table.concat(out)
end

-- Each a way a client gets the header wrong; every one is refused, by NGINX or by the module.
local GARBAGE = {
    function() return "" end,
    function() return "Basic" end,
    function() return "Basic " .. random_from(ALNUM .. "!*#", math.random(1, 40)) end,
    function() return "Basic " .. base64(random_bytes(math.random(1, 60))) end,
    function() return "Basic " .. base64(random_bytes(8) .. ":" .. random_bytes(8)) end,
    function() return "Digest username=\"" .. random_from(ALNUM, 8) .. "\"" end,
    function() return "Bearer " .. random_from(ALNUM, 8) .. " " .. random_from(ALNUM, 8) end,
    function() return "Basic YTpi, Bearer x, Basic Yzpk, Bearer y" end,
    function() return random_bytes(math.random(1, 200)) end,
    function() return random_from(ALNUM, 4) .. " " .. random_bytes(math.random(1, 100)) end,
    -- Longer than NGINX's header buffer (8 KiB): NGINX itself refuses it.
    function() return "Bearer " .. random_from(ALNUM, 9000) end,
}

local function wrong_password()
    local user = values[math.random(#values)]
    if user == "*" then
        user = "nobody-" .. random_from(ALNUM, 10)
    end
    return "Basic " .. base64(user .. ":" .. random_from(ALNUM, 16))
end

local MAKERS = {
    cached = function() return values[math.random(#values)] end,
    wrongpw = wrong_password,
    bearer = function() return "Bearer soak-" .. random_from(ALNUM, 32) end,
    garbage = function() return GARBAGE[math.random(#GARBAGE)]() end,
}
MAKERS.store = MAKERS.cached
MAKERS.forged = MAKERS.cached

function init(args)
    -- class and statuses are globals: done() reads them from each thread (thread:get).
    class = args[1]
    make = MAKERS[class]
    assert(make, "unknown traffic class " .. tostring(class))
    if args[2] then
        values = read_lines(args[2])
    end
    -- Threads start within the same second: the address of a fresh table tells them apart.
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
    statuses = {}
end

function request()
    return wrk.format(nil, "/api/" .. class, { ["Authorization"] = make() })
end

function response(status)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, _latency, _requests)
    local total = {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses")) do
            total[status] = (total[status] or 0) + n
        end
    end
    local parts = {}
    for status, n in pairs(total) do
        table.insert(parts, string.format('"%d": %d', status, n))
    end
    local e = summary.errors
    io.write(string.format(
        '{"class": "%s", "requests": %d, "seconds": %.3f, "statuses": {%s}, ' ..
        '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
        threads[1]:get("class"), summary.requests, summary.duration / 1e6, table.concat(parts, ", "),
        e.connect, e.read, e.write, e.timeout))
end
