--[[
  Applies receipts (what the messenger said after it accepted the send) to
  one delivery. The delivery moves only to a higher RECEIPT_RANK (sent <
  failed < delivered < read), so the result is the same whatever the order
  the receipts come in, and a repeat changes nothing. Each status enters the
  delivery's timeline once, the first time it is heard of.

  KEYS[1] the delivery
  KEYS[2] its dispatch
  ARGV[1] key prefix
  ARGV[2] delivery id
  ARGV[3] the messenger's message id the receipts are about
  ARGV[4] now (epoch ms)
  ARGV[5] the receipts, as JSON: [[status, epoch ms, code or null, error text or null], ...]
  Returns {outcome, state, address}: 'applied' (the state or timeline changed),
  'ignored' (nothing new), 'stale' (the delivery has another message id now:
  it was redriven and sent again), or 'unknown' (no such delivery); the
  delivery's address (what the receipts say about it: its health).

  The user's stats and finished indexes are reached through the key helpers:
  the user is known only from the dispatch record.
]]
--- @include "includes/move-delivery"

local id, provider_id, now = ARGV[2], ARGV[3], ARGV[4]
local delivery = redis.call('HMGET', KEYS[1], 'state', 'provider_message_id', 'receipts', 'messenger', 'address')
local state = delivery[1]
if not state then return { 'unknown', '', '' } end
local address = delivery[5] or ''
if delivery[2] ~= provider_id or not RECEIPT_RANK[state] then return { 'stale', state, address } end

local timeline = delivery[3] and cjson.decode(delivery[3]) or {}
local heard = {}
for _, entry in ipairs(timeline) do heard[entry[1]] = true end
local best, error_text, changed = state, nil, false
for _, receipt in ipairs(cjson.decode(ARGV[5])) do
  local status, at, code, text = receipt[1], receipt[2], receipt[3], receipt[4]
  if RECEIPT_RANK[status] then
    if not heard[status] then
      heard[status] = true
      changed = true
      timeline[#timeline + 1] = code ~= cjson.null and { status, at, code } or { status, at }
    end
    if RECEIPT_RANK[status] > RECEIPT_RANK[best] then
      best = status
      error_text = text ~= cjson.null and text or nil
    end
  end
end
if not changed and best == state then return { 'ignored', state, address } end
local fields = { 'receipts', cjson.encode(timeline) }
if best == 'failed' and error_text then
  fields[3] = 'error'
  fields[4] = error_text
end
move(id, dispatch_info(id)[1], delivery[4], state, best, now, fields)
return { 'applied', best, address }
