--[[
  Every change of one contact: the hash, the name index and the tag indexes
  change together, so two writers of one name cannot both create it and an
  index never names a contact the hash does not have (or misses one it has).

  KEYS[1] the user's contacts hash
  KEYS[2] the user's name index
  ARGV[1] key prefix
  ARGV[2] user
  ARGV[3] op: create | replace | upsert | patch | remove
  ARGV[4] contact name
  ARGV[5] payload: the JSON to store (create, replace), the ids (upsert: the
          stored tags, timezone and operator are kept), or {set, unset} (patch)
  ARGV[6] the most contacts the book may hold
  Returns {0} when nothing was done (create: the name is taken; the others:
  no such contact), {3} when a new name would overfill the book, else
  {1, json} (changed) or {2, json} (created); remove {1}.

  The tag indexes are reached through the key helpers: which ones to change
  is known only from the stored contact.
]]
--- @include "keys"
--- @include "includes/ensure-name-index"

local hash, names = KEYS[1], KEYS[2]
local user, op, name = ARGV[2], ARGV[3], ARGV[4]
ensure_name_index(hash, names)
local old = redis.call('HGET', hash, name)
if op == 'create' then
  if old then return {0} end
elseif not old and op ~= 'upsert' then
  return {0}
end
if not old and redis.call('ZCARD', names) >= tonumber(ARGV[6]) then return {3} end
local before = old and cjson.decode(old) or {}
local old_tags = before.tags or {}
local doc = nil
local json = ARGV[5]
if op == 'patch' then
  local changes = cjson.decode(ARGV[5])
  doc = before
  for field, value in pairs(changes.set) do doc[field] = value end
  for _, field in ipairs(changes.unset) do doc[field] = nil end
  json = cjson.encode(doc)
elseif op == 'upsert' then
  doc = cjson.decode(ARGV[5])
  doc.tags = before.tags
  doc.timezone = before.timezone
  doc.operator = before.operator
  json = cjson.encode(doc)
elseif op ~= 'remove' then
  doc = cjson.decode(ARGV[5])
end
for _, tag in ipairs(old_tags) do redis.call('ZREM', key.contactTag(user, tag), name) end
if not doc then
  redis.call('HDEL', hash, name)
  redis.call('ZREM', names, name)
  return {1}
end
for _, tag in ipairs(doc.tags or {}) do redis.call('ZADD', key.contactTag(user, tag), 0, name) end
redis.call('HSET', hash, name, json)
redis.call('ZADD', names, 0, name)
return {old and 1 or 2, json}
