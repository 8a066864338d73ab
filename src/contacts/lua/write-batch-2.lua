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
  ARGV[6], ARGV[7], ... for each contact its name, then the JSON to store
          (the other fields, as write-2.lua stores them); no name twice
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
local user, mode, all_or_nothing, max = ARGV[2], ARGV[3], ARGV[4] == '1', tonumber(ARGV[5])
local FIRST = 6
local n = (#ARGV - FIRST + 1) / 2
local SLICE = 500

ensure_name_index(hash, names)

-- Runs command(key, items...) over the items in slices of `step` (even, for pairs).
local function each_slice (command, key, items, step)
  for i = 1, #items, step do
    redis.call(command, key, unpack(items, i, math.min(i + step - 1, #items)))
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
  for _, field in ipairs({'telegram', 'whatsapp', 'viber', 'timezone'}) do
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
for i = 1, n do batch_names[i] = ARGV[FIRST + 2 * (i - 1)] end
local olds = {}
for i = 1, n, SLICE do
  local values = redis.call('HMGET', hash, unpack(batch_names, i, math.min(i + SLICE - 1, n)))
  for k = 1, #values do olds[i + k - 1] = values[k] end
end

-- First what would become of each, so that all or nothing can write nothing.
local size = redis.call('ZCARD', names)
local outcomes, docs, before = {}, {}, {}
local refused = false
for i = 1, n do
  local old = olds[i]
  if old then
    if mode == 'create' then
      outcomes[i] = 't'
      refused = true
    else
      before[i] = cjson.decode(old)
      docs[i] = cjson.decode(ARGV[FIRST + 2 * i - 1])
      outcomes[i] = same(before[i], docs[i]) and '=' or 'u'
    end
  elseif size >= max then
    outcomes[i] = 'f'
    refused = true
  else
    docs[i] = cjson.decode(ARGV[FIRST + 2 * i - 1])
    outcomes[i] = 'c'
    size = size + 1
  end
end
local result = table.concat(outcomes)
if refused and all_or_nothing then return {0, result} end

-- Then the writes, grouped: one HSET, one ZADD of new names, and per tag one ZREM and one ZADD.
local pairs_to_set, new_names = {}, {}
local tag_removals, tag_additions, tag_order = {}, {}, {}
local function push (lists, tag, name)
  if not tag_removals[tag] and not tag_additions[tag] then tag_order[#tag_order + 1] = tag end
  local list = lists[tag]
  if not list then
    list = {}
    lists[tag] = list
  end
  list[#list + 1] = name
end
for i = 1, n do
  local outcome = outcomes[i]
  if outcome == 'c' or outcome == 'u' then
    local name = batch_names[i]
    pairs_to_set[#pairs_to_set + 1] = name
    pairs_to_set[#pairs_to_set + 1] = ARGV[FIRST + 2 * i - 1]
    if outcome == 'c' then
      new_names[#new_names + 1] = 0
      new_names[#new_names + 1] = name
    else
      for _, tag in ipairs(tags_of(before[i])) do push(tag_removals, tag, name) end
    end
    for _, tag in ipairs(tags_of(docs[i])) do push(tag_additions, tag, name) end
  end
end
each_slice('HSET', hash, pairs_to_set, 2 * SLICE)
each_slice('ZADD', names, new_names, 2 * SLICE)
-- Removals before additions: a tag an updated contact keeps is removed, then added back.
for _, tag in ipairs(tag_order) do
  if tag_removals[tag] then each_slice('ZREM', key.contactTag(user, tag), tag_removals[tag], SLICE) end
end
for _, tag in ipairs(tag_order) do
  local list = tag_additions[tag]
  if list then
    local scored = {}
    for _, name in ipairs(list) do
      scored[#scored + 1] = 0
      scored[#scored + 1] = name
    end
    each_slice('ZADD', key.contactTag(user, tag), scored, 2 * SLICE)
  end
end
return {1, result}
