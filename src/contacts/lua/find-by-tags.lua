--[[
  Every contact matching a tag filter, in no particular order.

  KEYS[1] the user's contacts hash
  KEYS[2...] the any-tag indexes (ARGV[1] of them), then the all-tag indexes
             (at least one index in all)
  ARGV[1] how many of the tag indexes are any-tag ones
  Returns read(): the contacts as one JSON text.
]]
--- @include "includes/read-contacts"

local hash = KEYS[1]
local n_any = tonumber(ARGV[1])
local any, all = {}, {}
for i = 2, 1 + n_any do any[#any + 1] = KEYS[i] end
for i = 2 + n_any, #KEYS do all[#all + 1] = KEYS[i] end
if #all == 0 then return read(hash, redis.call('ZUNION', #any, unpack(any))) end
local picked = redis.call('ZINTER', #all, unpack(all))
if #any == 0 then return read(hash, picked) end
local kept = {}
for _, name in ipairs(picked) do
  for _, index in ipairs(any) do
    if has(index, name) then
      kept[#kept + 1] = name
      break
    end
  end
end
return read(hash, kept)
