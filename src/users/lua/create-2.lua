--[[
  Creates a user with a first API key. (The caller has added the name to the
  index of names: that index is in a slot of its own.)

  KEYS[1] the user's record
  KEYS[2] the user's key index
  ARGV[1] key prefix
  ARGV[2] user
  ARGV[3] now (epoch ms)
  ARGV[4] the first key's id
  ARGV[5] its hash
  ARGV[6] its label ('' = none)
  Returns 0 when the name is taken, else 1.

  The key records are reached through the key helpers: the active-key count
  reads every key the index names.
]]
--- @include "includes/issue-key"

if redis.call('EXISTS', user_key) == 1 then return 0 end
redis.call('HSET', user_key, 'created_at', now)
issue(ARGV[4], ARGV[5], ARGV[6])
return 1
