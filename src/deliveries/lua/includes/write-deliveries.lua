--[[
  write_deliveries(w): writes a dispatch's deliveries and its hash, with
  their counts and indexes; shared by creating a dispatch (create-4.lua) and
  rebuilding one that has not started (replace-4.lua). `w` holds:

  dispatch_key, stats_key, dispatches_key, suppressed_key, dispatch_id, user,
  created_at, now, text, send_at, expires_at ('' = none), window (dedup, s),
  fingerprint, deliveries (the decoded flat array
  [contact, messenger, address, due_at ('' = at send_at), suppress ('' = no), contact, ...]),
  template ('' = none), more (flat array of more dispatch fields and values).

  A delivery waits `scheduled` until max(send_at, due_at), `queued` when that
  is not after `now`. It is written `suppressed`, with its `reason`, when the
  caller says so (`address_unreachable`: its address is marked dead, and the
  dispatch skips those), or when it repeats an accepted or pending delivery
  of the same text to the same address within the dedup window (`duplicate`,
  pointing at the one it repeats in `duplicate_of`). Returns the number
  suppressed. When that is all of them the dispatch is finished as it is
  written: its `dispatch.finished` event goes now (no delivery's move will
  send it).
]]
--- @include "keys"
--- @include "delivery-model"

local function write_deliveries (w)
  local n, suppressed = 0, 0
  local send_at, now = tonumber(w.send_at), tonumber(w.now)
  -- Per state, and per messenger and state: how many start in it.
  local in_state, on_messenger = {}, {}
  local deliveries = w.deliveries
  for i = 1, #deliveries, 5 do
    local contact, messenger, address, due_at, suppress = deliveries[i], deliveries[i + 1], deliveries[i + 2], deliveries[i + 3], deliveries[i + 4]
    local id = delivery_id(w.dispatch_id, n)
    n = n + 1
    local repeats = nil
    -- A delivery not sent for its dead address is no earlier send for a repeat to point at.
    if suppress == '' and w.window > 0 then
      local dedup_key = key.dedup(w.user, messenger, address, w.fingerprint)
      local earlier = redis.call('GET', dedup_key)
      if earlier then
        local state = redis.call('HGET', key.delivery(earlier), 'state')
        if ACCEPTED[state] or PENDING[state] then repeats = earlier end
      end
      if not repeats then redis.call('SET', dedup_key, id, 'EX', w.window) end
    end
    -- Only what the delivery does not share with its dispatch: no attempts yet (0), updated when
    -- created, no contact for a direct address. Fewer fields: less Redis work and memory per delivery.
    local fields = { 'messenger', messenger, 'address', address }
    if contact ~= '' then
      fields[#fields + 1] = 'contact'
      fields[#fields + 1] = contact
    end
    local state
    if suppress ~= '' or repeats then
      state = 'suppressed'
      fields[#fields + 1] = 'finished_at'
      fields[#fields + 1] = w.now
      fields[#fields + 1] = 'reason'
      if repeats then
        fields[#fields + 1] = 'duplicate'
        fields[#fields + 1] = 'duplicate_of'
        fields[#fields + 1] = repeats
      else
        fields[#fields + 1] = suppress
      end
      redis.call('ZADD', w.suppressed_key, 0, id)
      suppressed = suppressed + 1
    else
      local due = send_at
      if due_at ~= '' then
        fields[#fields + 1] = 'due_at'
        fields[#fields + 1] = due_at
        due = math.max(due, tonumber(due_at))
      end
      if due > now then state = 'scheduled' else state = 'queued' end
    end
    fields[#fields + 1] = 'state'
    fields[#fields + 1] = state
    redis.call('HSET', key.delivery(id), unpack(fields))
    in_state[state] = (in_state[state] or 0) + 1
    local per = messenger .. ':' .. state
    on_messenger[per] = (on_messenger[per] or 0) + 1
  end
  redis.call('HSET', w.dispatch_key, 'user', w.user, 'text', w.text, 'created_at', w.created_at, 'send_at', w.send_at,
    'legs', n, 'total', n, 'open', n - suppressed)
  if w.expires_at ~= '' then redis.call('HSET', w.dispatch_key, 'expires_at', w.expires_at) end
  if w.template ~= '' then redis.call('HSET', w.dispatch_key, 'whatsapp_template', w.template) end
  if #w.more > 0 then redis.call('HSET', w.dispatch_key, unpack(w.more)) end
  for state, count in pairs(in_state) do
    redis.call('HSET', w.dispatch_key, 'n:' .. state, count)
    redis.call('HINCRBY', w.stats_key, 'n:' .. state, count)
  end
  for per, count in pairs(on_messenger) do redis.call('HSET', w.dispatch_key, 'n:' .. per, count) end
  redis.call('ZADD', w.dispatches_key, 0, w.dispatch_id)
  if n > 0 and suppressed == n and redis.call('EXISTS', key.webhookEndpoints(w.user)) == 1 then
    redis.call('XADD', key.webhookEvents(w.user), '*', 'type', 'dispatch.finished', 'id', w.dispatch_id, 'at', w.now)
  end
  return suppressed
end
