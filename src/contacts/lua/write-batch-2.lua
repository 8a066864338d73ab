--[[
  Many contacts in one step (a batch of an import): each name the book does
  not have is created while the book has room, in the order given; each name
  it has is replaced (mode upsert) or left alone (mode create). The hash, the
  name index and the tag indexes change together, as in write-2.lua.

  KEYS[1] the user's contacts hash
  KEYS[2] the user's name index
  ARGV[1] key prefix
  ARGV[2] user
  ARGV[3] mode: upsert | create
  ARGV[4] all or nothing: 1 (when any contact is refused, write none) or 0
  ARGV[5] the most contacts the book may hold
  ARGV[6], ARGV[7], ... for each contact three: its name, the JSON to store
          (the other fields, as write-2.lua stores them) and its tags joined
          by ',' (no tag holds one; '' for none); no name twice
  Returns {written, outcomes}: written is 0 only when all or nothing refused
  the batch (then nothing was written); outcomes has one letter per contact,
  in order: c created, u updated, = unchanged (the book held the very same
  contact; nothing written), t taken (mode create, and the book has the name),
  f full (a new name, and the book is at its limit).

  The tag indexes are reached through the key helpers: which ones change is
  known only from the stored contacts. A call may carry 100,000 contacts (an
  all-or-nothing import), so every variadic command goes in slices: unpack
  has a limit.
]]
--- @include "keys"
--- @include "includes/ensure-name-index"

local hash, names = KEYS[1], KEYS[2]
local argv = ARGV
local user, mode, all_or_nothing, max = argv[2], argv[3], argv[4] == '1', tonumber(argv[5])
local FIRST = 6
local n = (#argv - FIRST + 1) / 3
local SLICE = 500
local call, gmatch = redis.call, string.gmatch
-- Contact i's name is argv[at(i)], its JSON argv[at(i) + 1], its tags argv[at(i) + 2].
local function at (i) return FIRST + 3 * (i - 1) end

ensure_name_index(hash, names)

-- Runs command(key, items...) over the first `count` items in slices of `step` (even, for pairs).
local function each_slice (command, key, items, count, step)
  for i = 1, count, step do
    call(command, key, unpack(items, i, math.min(i + step - 1, count)))
  end
end

-- A stored field: "" and JSON null mean absent, as compactContact says.
local function text (value)
  if value == nil or value == cjson.null or value == '' then return nil end
  return value
end

local function tags_of (doc)
  if type(doc.tags) ~= 'table' then return {} end
  return doc.tags
end

-- Whether two stored contacts are the same contact (tags in the same order).
local function same (a, b)
  for _, field in ipairs({'telegram', 'whatsapp', 'viber', 'timezone', 'operator'}) do
    if text(a[field]) ~= text(b[field]) then return false end
  end
  local x, y = tags_of(a), tags_of(b)
  if #x ~= #y then return false end
  for i = 1, #x do
    if x[i] ~= y[i] then return false end
  end
  return true
end

local batch_names = {}
for i = 1, n do batch_names[i] = argv[at(i)] end
local olds = {}
for i = 1, n, SLICE do
  local values = call('HMGET', hash, unpack(batch_names, i, math.min(i + SLICE - 1, n)))
  for k = 1, #values do olds[i + k - 1] = values[k] end
end

-- First what would become of each, so that all or nothing can write nothing.
-- The same text is the same contact (the common case of a file imported again): decoded only when they differ.
local size = call('ZCARD', names)
local outcomes, before = {}, {}
local refused = false
for i = 1, n do
  local old = olds[i]
  if old then
    if mode == 'create' then
      outcomes[i] = 't'
      refused = true
    elseif old == argv[at(i) + 1] then
      outcomes[i] = '='
    else
      before[i] = cjson.decode(old)
      outcomes[i] = same(before[i], cjson.decode(argv[at(i) + 1])) and '=' or 'u'
    end
  elseif size >= max then
    outcomes[i] = 'f'
    refused = true
  else
    outcomes[i] = 'c'
    size = size + 1
  end
end
local result = table.concat(outcomes)
if refused and all_or_nothing then return {0, result} end

-- Then the writes, grouped: one HSET, one ZADD of new names, and per tag one ZREM and one ZADD.
-- (Lists are filled by counters: # costs a search in Lua 5.1.)
local pairs_to_set, new_names, set_count, new_count = {}, {}, 0, 0
local removals, additions, tag_order, tag_count = {}, {}, {}, 0
local function list_of (lists, tag)
  local list = lists[tag]
  if not list then
    if not removals[tag] and not additions[tag] then
      tag_count = tag_count + 1
      tag_order[tag_count] = tag
    end
    list = {count = 0}
    lists[tag] = list
  end
  return list
end
for i = 1, n do
  local outcome = outcomes[i]
  if outcome == 'c' or outcome == 'u' then
    local name = batch_names[i]
    pairs_to_set[set_count + 1] = name
    pairs_to_set[set_count + 2] = argv[at(i) + 1]
    set_count = set_count + 2
    if outcome == 'c' then
      new_names[new_count + 1] = 0
      new_names[new_count + 2] = name
      new_count = new_count + 2
    else
      for _, tag in ipairs(tags_of(before[i])) do
        local list = list_of(removals, tag)
        list.count = list.count + 1
        list[list.count] = name
      end
    end
    for tag in gmatch(argv[at(i) + 2], '[^,]+') do
      local list = list_of(additions, tag)
      list[list.count + 1] = 0
      list[list.count + 2] = name
      list.count = list.count + 2
    end
  end
end
each_slice('HSET', hash, pairs_to_set, set_count, 2 * SLICE)
each_slice('ZADD', names, new_names, new_count, 2 * SLICE)
-- Removals before additions: a tag an updated contact keeps is removed, then added back.
for k = 1, tag_count do
  local list = removals[tag_order[k]]
  if list then each_slice('ZREM', key.contactTag(user, tag_order[k]), list, list.count, SLICE) end
end
for k = 1, tag_count do
  local list = additions[tag_order[k]]
  if list then each_slice('ZADD', key.contactTag(user, tag_order[k]), list, list.count, 2 * SLICE) end
end
return {1, result}
