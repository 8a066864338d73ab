--[[
  Issues, rotates or revokes one of a user's API keys.

  KEYS[1] the user's record
  KEYS[2] the user's key index
  ARGV[1] key prefix
  ARGV[2] user
  ARGV[3] now (epoch ms)
  ARGV[4] op: issue | rotate | revoke
  ARGV[5] the key id (rotate, revoke)
  ARGV[6] the new key's id (issue, rotate)
  ARGV[7] its hash
  ARGV[8] its label ('' keeps the old key's label when rotating)
  Returns {status, label}: status 'ok', 'no-user', 'no-key', 'revoked' or 'too-many-keys'.

  The key records are reached through the key helpers: the active-key count
  reads every key the index names.
]]
--- @include "includes/issue-key"

local op, old_id = ARGV[4], ARGV[5]
if redis.call('EXISTS', user_key) == 0 then return {'no-user', ''} end
local label = ARGV[8]
if op ~= 'issue' then
  local old = key.apiKey(old_id)
  if redis.call('HGET', old, 'user') ~= user then return {'no-key', ''} end
  if op == 'revoke' then
    redis.call('HSETNX', old, 'revoked_at', now)
    return {'ok', ''}
  end
  if redis.call('HEXISTS', old, 'revoked_at') == 1 then return {'revoked', ''} end
  label = redis.call('HGET', old, 'label') or ''
  redis.call('HSET', old, 'revoked_at', now)
end
if not issue(ARGV[6], ARGV[7], label) then return {'too-many-keys', ''} end
return {'ok', label}
