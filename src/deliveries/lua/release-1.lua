--[[
  Releases a range of a dispatch's deliveries at its send_at: `scheduled`
  ones become `queued`. Run again to reconcile (the outbox sweep), it also
  returns the deliveries that have waited since before `stuck_before`:
  queued ones whose job may be gone, and sending ones whose sender and job
  may be (a crash, a Redis failover that lost writes). Their jobs are
  queued again; a job that still exists is not added twice.

  KEYS[1] the dispatch
  ARGV[1] key prefix
  ARGV[2] dispatch id
  ARGV[3] now (epoch ms)
  ARGV[4] first delivery index
  ARGV[5] last delivery index
  ARGV[6] stuck_before (epoch ms; '' = a first release: every queued one)
  ARGV[7] the release job's revision of the dispatch ('' = not a job: the sweep, any revision, send_at not checked)
  Returns (id, messenger, generation) of every delivery in the range that
  waits for a job, flat.

  A `scheduled` delivery moves only once its due_at (its contact's local
  window) has come and, for a job, the dispatch's send_at too (an edit may
  have moved it); a job of an older revision (replace-4.lua rebuilt the
  dispatch since) releases nothing: the edit's own jobs do.

  The deliveries and the user's indexes are reached through the key helpers:
  one delivery key per index of the range.
]]
--- @include "includes/each-delivery"

local now, stuck_before = ARGV[3], tonumber(ARGV[6])
local dispatch = redis.call('HMGET', KEYS[1], 'created_at', 'send_at', 'rev')
local created_at, send_at = tonumber(dispatch[1] or '0'), tonumber(dispatch[2] or '0')
local out = {}
if ARGV[7] ~= '' and ARGV[7] ~= (dispatch[3] or '0') then return out end
local now_ms = tonumber(now)
if ARGV[7] == '' then send_at = 0 end
each_delivery(ARGV[2], ARGV[4], ARGV[5], { 'messenger', 'gen', 'updated_at', 'due_at' }, function (id, delivery, user)
  local state = delivery[1]
  local waiting
  if state == 'scheduled' then
    if math.max(send_at, tonumber(delivery[5] or '0')) > now_ms then return end
    move(id, user, delivery[2], 'scheduled', 'queued', now)
    waiting = true
  elseif stuck_before == nil then
    waiting = state == 'queued'
  else
    waiting = (state == 'queued' or state == 'sending') and tonumber(delivery[4] or created_at) < stuck_before
  end
  if waiting then
    out[#out + 1] = id
    out[#out + 1] = delivery[2]
    out[#out + 1] = delivery[3] or '0'
  end
end)
return out
