-- wrk script: every request carries an API key no earlier request used, so the module can
-- never answer it from its cache and has to ask the identity service each time.
local prefix
local counter = 0

function init(args)
    -- One Lua state per wrk thread; a fresh table's address tells the threads apart.
    prefix = string.format("bench-%d-%s", os.time(), tostring({}):match("0x(%x+)") or tostring(math.random(1e9)))
end

function request()
    counter = counter + 1
    return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. prefix .. "-" .. counter })
end
