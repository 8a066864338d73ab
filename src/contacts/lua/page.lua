--[[
  One page of a book in name order, optionally only contacts with given tags.

  KEYS[1] the user's contacts hash
  KEYS[2] the user's name index
  KEYS[3...] the any-tag indexes (ARGV[3] of them), then the all-tag indexes
  ARGV[1] where to start: '-', or '(' .. the last name seen
  ARGV[2] how many
  ARGV[3] how many of the tag indexes are any-tag ones
  Returns read(): the contacts in byte order of their names.
]]
--- @include "includes/ensure-name-index"
--- @include "includes/read-contacts"

local hash, names = KEYS[1], KEYS[2]
ensure_name_index(hash, names)
local start, want, n_any = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local any, all = {}, {}
for i = 3, 2 + n_any do any[#any + 1] = KEYS[i] end
for i = 3 + n_any, #KEYS do all[#all + 1] = KEYS[i] end
local picked = {}
if #all > 0 then
  -- Walk the smallest all-tag index in name order; keep the names every other index has.
  local driver, size = all[1], redis.call('ZCARD', all[1])
  for i = 2, #all do
    local n = redis.call('ZCARD', all[i])
    if n < size then driver, size = all[i], n end
  end
  local chunk = math.max(want, 100)
  local from = start
  while #picked < want do
    local batch = redis.call('ZRANGEBYLEX', driver, from, '+', 'LIMIT', 0, chunk)
    for _, name in ipairs(batch) do
      local ok = true
      for _, index in ipairs(all) do
        if index ~= driver and not has(index, name) then ok = false break end
      end
      if ok and #any > 0 then
        ok = false
        for _, index in ipairs(any) do
          if has(index, name) then ok = true break end
        end
      end
      if ok then
        picked[#picked + 1] = name
        if #picked == want then break end
      end
    end
    if #batch < chunk then break end
    from = '(' .. batch[#batch]
  end
elseif #any > 0 then
  -- The first names of the union are among the first of each index. Lua's < may
  -- follow the server's locale, so names are compared byte by byte, as ZRANGEBYLEX does.
  local seen = {}
  for _, index in ipairs(any) do
    for _, name in ipairs(redis.call('ZRANGEBYLEX', index, start, '+', 'LIMIT', 0, want)) do
      if not seen[name] then
        seen[name] = true
        picked[#picked + 1] = name
      end
    end
  end
  table.sort(picked, function (a, b)
    for i = 1, math.min(#a, #b) do
      local x, y = string.byte(a, i), string.byte(b, i)
      if x ~= y then return x < y end
    end
    return #a < #b
  end)
  for i = #picked, want + 1, -1 do picked[i] = nil end
else
  picked = redis.call('ZRANGEBYLEX', names, start, '+', 'LIMIT', 0, want)
end
return read(hash, picked)
