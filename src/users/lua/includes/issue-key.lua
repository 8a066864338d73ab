--[[
  Shared by the user scripts, which take ARGV[1] the key prefix, ARGV[2] the
  user, ARGV[3] now (epoch ms), and KEYS[1] the user's record, KEYS[2] the
  user's key index.
  issue(id, hash, label) adds a key record and indexes it; it returns false
  when the user already holds the most active keys allowed (MAX_ACTIVE_KEYS,
  from users/user-store.ts).
]]
--- @include "keys"
--- @include "key-limits"

local user_key, user_keys, user, now = KEYS[1], KEYS[2], ARGV[2], ARGV[3]

local function active ()
  local n = 0
  for _, id in ipairs(redis.call('ZRANGE', user_keys, 0, -1)) do
    if redis.call('HEXISTS', key.apiKey(id), 'revoked_at') == 0 then n = n + 1 end
  end
  return n
end

local function issue (id, hash, label)
  if active() >= MAX_ACTIVE_KEYS then return false end
  local record = key.apiKey(id)
  redis.call('HSET', record, 'user', user, 'hash', hash, 'created_at', now)
  if label ~= '' then redis.call('HSET', record, 'label', label) end
  -- Scored by creation time, kept strictly increasing so that keys made in one millisecond stay in
  -- the order they were made (equal scores would sort by their random ids).
  local last = redis.call('ZRANGE', user_keys, -1, -1, 'WITHSCORES')[2]
  redis.call('ZADD', user_keys, math.max(tonumber(now), last and tonumber(last) + 1 or 0), id)
  return true
end
