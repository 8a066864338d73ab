--[[
  Writes a dispatch and all its deliveries. (The caller has put the dispatch
  in the outbox first: the outbox sweep queues it should the caller die
  before it does, and drops it should this script never have run.)

  A delivery repeating an accepted (sent, delivered, read) or pending
  delivery of the same text to the same address within the dedup window is
  written `suppressed`,
  pointing at the one it repeats.

  KEYS[1] the dispatch
  KEYS[2] the user's stats
  KEYS[3] the user's dispatches
  KEYS[4] the user's finished index of `suppressed`
  ARGV[1] key prefix
  ARGV[2] dispatch id
  ARGV[3] user
  ARGV[4] now (epoch ms)
  ARGV[5] text
  ARGV[6] send_at (epoch ms)
  ARGV[7] expires_at (epoch ms; '' = none)
  ARGV[8] the deliveries' first state: scheduled or queued
  ARGV[9] dedup window (s; 0 = off)
  ARGV[10] the text's fingerprint
  ARGV[11] the deliveries as one JSON array [contact, messenger, address, contact, ...]
          (one argument however many: a call with 300,000 arguments overflows the client's stack)
  ARGV[12] the WhatsApp template, as JSON ('' = none)
  Returns the number of deliveries written `suppressed`.

  The delivery and dedup keys are built here, through the key helpers: one
  pair per delivery, up to 100,000, is more than a call should carry.
]]
--- @include "keys"
--- @include "delivery-model"

local dispatch_key, stats_key, dispatches_key, suppressed_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local dispatch_id, user, now, initial = ARGV[2], ARGV[3], ARGV[4], ARGV[8]
local window, fingerprint = tonumber(ARGV[9]), ARGV[10]
local n, suppressed = 0, 0
-- Per messenger: how many start in the first state, how many are suppressed.
local open_on, suppressed_on = {}, {}
local deliveries = cjson.decode(ARGV[11])
for i = 1, #deliveries, 3 do
  local contact, messenger, address = deliveries[i], deliveries[i + 1], deliveries[i + 2]
  local id = delivery_id(dispatch_id, n)
  n = n + 1
  local repeats = nil
  if window > 0 then
    local dedup_key = key.dedup(user, messenger, address, fingerprint)
    local earlier = redis.call('GET', dedup_key)
    if earlier then
      local state = redis.call('HGET', key.delivery(earlier), 'state')
      if ACCEPTED[state] or PENDING[state] then repeats = earlier end
    end
    if not repeats then redis.call('SET', dedup_key, id, 'EX', window) end
  end
  -- Only what the delivery does not share with its dispatch: no attempts yet (0), updated when
  -- created, no contact for a direct address. Fewer fields: less Redis work and memory per delivery.
  local fields = { 'messenger', messenger, 'address', address }
  if contact ~= '' then
    fields[5] = 'contact'
    fields[6] = contact
  end
  if repeats then
    fields[#fields + 1] = 'state'
    fields[#fields + 1] = 'suppressed'
    fields[#fields + 1] = 'finished_at'
    fields[#fields + 1] = now
    fields[#fields + 1] = 'duplicate_of'
    fields[#fields + 1] = repeats
    redis.call('HSET', key.delivery(id), unpack(fields))
    redis.call('ZADD', suppressed_key, 0, id)
    suppressed = suppressed + 1
    suppressed_on[messenger] = (suppressed_on[messenger] or 0) + 1
  else
    fields[#fields + 1] = 'state'
    fields[#fields + 1] = initial
    redis.call('HSET', key.delivery(id), unpack(fields))
    open_on[messenger] = (open_on[messenger] or 0) + 1
  end
end
local open = n - suppressed
redis.call('HSET', dispatch_key, 'user', user, 'text', ARGV[5], 'created_at', now, 'send_at', ARGV[6],
  'legs', n, 'total', n, 'open', open, 'n:' .. initial, open, 'n:suppressed', suppressed)
if ARGV[7] ~= '' then redis.call('HSET', dispatch_key, 'expires_at', ARGV[7]) end
if ARGV[12] ~= '' then redis.call('HSET', dispatch_key, 'whatsapp_template', ARGV[12]) end
for messenger, count in pairs(open_on) do redis.call('HSET', dispatch_key, 'n:' .. messenger .. ':' .. initial, count) end
for messenger, count in pairs(suppressed_on) do redis.call('HSET', dispatch_key, 'n:' .. messenger .. ':suppressed', count) end
redis.call('HINCRBY', stats_key, 'n:' .. initial, open)
redis.call('HINCRBY', stats_key, 'n:suppressed', suppressed)
redis.call('ZADD', dispatches_key, 0, dispatch_id)
return suppressed
