--[[
  read(hash key, names): the contacts of those names that exist, in their
  order, as one JSON text [[name, stored JSON], ...] (HMGET in slices: unpack
  has a limit). One string instead of two per contact: the client decodes one
  reply and parses once, not a hundred times (the stored values are JSON
  already).
  has(index key, name): whether the name is in that index.
]]
local function read (hash, picked)
  local out = {}
  for i = 1, #picked, 500 do
    local slice = {}
    for j = i, math.min(i + 499, #picked) do slice[#slice + 1] = picked[j] end
    local values = redis.call('HMGET', hash, unpack(slice))
    for j, name in ipairs(slice) do
      if values[j] then out[#out + 1] = '[' .. cjson.encode(name) .. ',' .. values[j] .. ']' end
    end
  end
  return '[' .. table.concat(out, ',') .. ']'
end

local function has (index, name)
  return redis.call('ZSCORE', index, name) ~= false
end
