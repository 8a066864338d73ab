--[[
  Rebuilds a dispatch none of whose deliveries has started (PATCH
  /v1/dispatches/{id}): in one call the old deliveries, their counts, index
  entries and dedup records go, and the new ones are written as create-4.lua
  writes them, under the same id and a revision one higher. A reader sees
  the old dispatch or the new one, never a mix. Release and expire jobs of
  an older revision find the revision changed and do nothing (release-1.lua,
  expire-1.lua), so the old jobs cannot release the new deliveries early.

  KEYS[1] the dispatch
  KEYS[2] the user's stats
  KEYS[3] the user's dispatches
  KEYS[4] the user's finished index of `suppressed`
  ARGV[1] key prefix
  ARGV[2] dispatch id
  ARGV[3] user
  ARGV[4] now (epoch ms)
  ARGV[5] the revision the caller planned from (a concurrent edit changes it)
  ARGV[6] the old text's fingerprint (its dedup records)
  ARGV[7] text
  ARGV[8] send_at (epoch ms)
  ARGV[9] expires_at (epoch ms; '' = none)
  ARGV[10] dedup window (s; 0 = off)
  ARGV[11] the new text's fingerprint
  ARGV[12] the deliveries, as create-4.lua takes them
  ARGV[13] the WhatsApp template, as JSON ('' = none)
  ARGV[14] more dispatch fields, as a JSON array [field, value, ...] (the new `rev` is added here)
  Returns {'replaced', suppressed, new revision}, {'unknown'}, {'changed'}
  (another edit came first) or {'started', <a state that is neither
  scheduled nor suppressed>}: nothing is written then.
]]
--- @include "includes/write-deliveries"

local dispatch_key, stats_key, suppressed_key = KEYS[1], KEYS[2], KEYS[4]
local dispatch_id, user = ARGV[2], ARGV[3]
local dispatch = redis.call('HMGET', dispatch_key, 'user', 'rev', 'legs', 'created_at')
if dispatch[1] ~= user then return { 'unknown' } end
local rev = tonumber(dispatch[2] or '0')
if tostring(rev) ~= ARGV[5] then return { 'changed' } end
local legs = tonumber(dispatch[3] or '0')

local old = {}
for i = 0, legs - 1 do
  local id = delivery_id(dispatch_id, i)
  local delivery = redis.call('HMGET', key.delivery(id), 'state', 'messenger', 'address')
  if delivery[1] then
    if delivery[1] ~= 'scheduled' and delivery[1] ~= 'suppressed' then return { 'started', delivery[1] } end
    old[#old + 1] = { id, delivery[1], delivery[2], delivery[3] }
  end
end

local window = tonumber(ARGV[10])
local gone = {}
for _, delivery in ipairs(old) do
  local id, state, messenger, address = delivery[1], delivery[2], delivery[3], delivery[4]
  if state == 'suppressed' then
    redis.call('ZREM', suppressed_key, id)
  else
    -- Its dedup record points at it only if it was not itself a repeat.
    local dedup_key = key.dedup(user, messenger, address, ARGV[6])
    if redis.call('GET', dedup_key) == id then redis.call('DEL', dedup_key) end
  end
  redis.call('DEL', key.delivery(id))
  gone[state] = (gone[state] or 0) + 1
end
for state, count in pairs(gone) do redis.call('HINCRBY', stats_key, 'n:' .. state, -count) end
redis.call('DEL', dispatch_key)

local more = cjson.decode(ARGV[14])
more[#more + 1] = 'rev'
more[#more + 1] = tostring(rev + 1)
local suppressed = write_deliveries({
  dispatch_key = dispatch_key, stats_key = stats_key, dispatches_key = KEYS[3], suppressed_key = suppressed_key,
  dispatch_id = dispatch_id, user = user, created_at = dispatch[4], now = ARGV[4], text = ARGV[7],
  send_at = ARGV[8], expires_at = ARGV[9], window = window, fingerprint = ARGV[11],
  deliveries = cjson.decode(ARGV[12]), template = ARGV[13], more = more
})
return { 'replaced', suppressed, rev + 1 }
