--[[
  ensure_name_index(hash key, name index key): books written before the name
  index existed have only the hash; they are indexed on first use. ZCARD and
  HLEN are O(1), so the check costs nothing once the index matches.
]]
local function ensure_name_index (hash, names)
  if redis.call('ZCARD', names) == redis.call('HLEN', hash) then return end
  redis.call('DEL', names)
  local all = redis.call('HKEYS', hash)
  for i = 1, #all, 500 do
    local args = {}
    for j = i, math.min(i + 499, #all) do
      args[#args + 1] = 0
      args[#args + 1] = all[j]
    end
    redis.call('ZADD', names, unpack(args))
  end
end
