--[[
  How every script changes a delivery's state: `move` writes the delivery's
  record and, in the same call, its dispatch's and its user's counts and the
  per-state index of finished deliveries, so counts always equal what a
  listing shows.

  A dispatch hash holds user, text, whatsapp_template? (JSON), created_at,
  send_at, expires_at?, rev? (bumped by each edit; absent: 0), release_times?
  (comma-separated epoch ms: deliveries held for a local window), targets?
  (JSON: what an edit fans out again), `legs`
  (how many deliveries it was created with, or rebuilt with by an edit; nothing
  else changes it, so its delivery ids can be walked by index), `total` (how many still exist: a purge lowers
  it), `open` (how many are not finished), `n:<state>` counts and
  `n:<messenger>:<state>` counts. A delivery
  hash holds messenger, address, contact?, state, attempts, updated_at,
  finished_at? (when it finished; absent while that is its updated_at),
  url? (the API address its last attempt went to; '' when that is its
  dispatch's `url:<messenger>`; absent before any), due_at? (held for its contact's local window
  until then), and `gen`, its generation (bumped by each redrive).
]]
--- @include "keys"
--- @include "delivery-model"

-- {user, text, expires_at, whatsapp_template} of a delivery's dispatch, read once per script call (they never change).
local dispatch_fields = {}
local function dispatch_info (delivery_id)
  local dispatch_id = dispatch_of(delivery_id)
  local info = dispatch_fields[dispatch_id]
  if not info then
    info = redis.call('HMGET', key.dispatch(dispatch_id), 'user', 'text', 'expires_at', 'whatsapp_template')
    dispatch_fields[dispatch_id] = info
  end
  return info
end

-- Status webhooks: each change a user's endpoints may hear of is appended to the user's event stream by the
-- same script that makes it, so no crash can keep the change and lose its event (the relay moves them into
-- the webhook queue). A user with no endpoint costs one EXISTS per script call and user.
local WEBHOOK_EVENT = { sent = true, delivered = true, read = true, failed = true, expired = true, cancelled = true }
local webhooks_of = {}
local function emit_event (user, event_type, id, now)
  local on = webhooks_of[user]
  if on == nil then
    on = redis.call('EXISTS', key.webhookEndpoints(user)) == 1
    webhooks_of[user] = on
  end
  if on then redis.call('XADD', key.webhookEvents(user), '*', 'type', event_type, 'id', id, 'at', now) end
end

-- The dispatches whose `open` count a move lowered: {user, dispatch id, now}, to tell when it reaches 0.
local closing = {}
local function counted (counter_key, field, n, value)
  if field == 'open' and n < 0 and value == 0 and closing[counter_key] then
    local d = closing[counter_key]
    emit_event(d[1], 'dispatch.finished', d[2], d[3])
  end
end

-- Counter changes (HINCRBY): applied at once or, between defer_counts() and apply_counts(), summed and
-- applied once per counter, so that one delivery's -1 and the next one's +1 on a counter cost nothing.
local deferred = nil
local function count (counter_key, field, n)
  if not deferred then
    counted(counter_key, field, n, redis.call('HINCRBY', counter_key, field, n))
    return
  end
  local fields = deferred.sums[counter_key]
  if not fields then
    fields = {}
    deferred.sums[counter_key] = fields
  end
  if not fields[field] then
    fields[field] = 0
    deferred.order[#deferred.order + 1] = { counter_key, field }
  end
  fields[field] = fields[field] + n
end
local function defer_counts () deferred = { sums = {}, order = {} } end
local function apply_counts ()
  for _, counter in ipairs(deferred.order) do
    local n = deferred.sums[counter[1]][counter[2]]
    if n ~= 0 then counted(counter[1], counter[2], n, redis.call('HINCRBY', counter[1], counter[2], n)) end
  end
  deferred = nil
end

-- The API address each dispatch's sends on a messenger went to ('url:<messenger>'), read once per script call.
local shared_urls = {}
local function shared_url (dispatch_key, messenger, url)
  local field = 'url:' .. messenger
  local urls = shared_urls[dispatch_key]
  if not urls then
    urls = {}
    shared_urls[dispatch_key] = urls
  end
  if urls[field] == nil then urls[field] = redis.call('HGET', dispatch_key, field) or false end
  if not urls[field] then
    redis.call('HSET', dispatch_key, field, url)
    urls[field] = url
  end
  return urls[field]
end

-- Moves delivery `id` (of `user`, on `messenger`) from state `from` to `to`. `fields` (optional):
-- more field/value pairs for the delivery, written in the same HSET.
-- Two fields most deliveries share are not written on each (a finished delivery is kept for the
-- history retention, and its bytes count): the time it finished, while it is its updated_at (a
-- later change, a receipt, writes it down first), and the URL its send went to, the same for
-- every delivery of a messenger (kept once on the dispatch; the delivery's `url` is '' then).
local function move (id, user, messenger, from, to, now, fields)
  local delivery_key, dispatch_key, stats_key = key.delivery(id), key.dispatch(dispatch_of(id)), key.stats(user)
  local finishing = FINISHED[to] and not FINISHED[from]
  local set = { 'state', to, 'updated_at', now }
  if FINISHED[from] and FINISHED[to] then
    local times = redis.call('HMGET', delivery_key, 'finished_at', 'updated_at')
    if not times[1] and times[2] then
      set[5] = 'finished_at'
      set[6] = times[2]
    end
  end
  if fields then
    for i = 1, #fields, 2 do
      local name, value = fields[i], fields[i + 1]
      if name == 'url' and shared_url(dispatch_key, messenger, value) == value then value = '' end
      set[#set + 1] = name
      set[#set + 1] = value
    end
  end
  redis.call('HSET', delivery_key, unpack(set))
  if from == to then return end
  if WEBHOOK_EVENT[to] then emit_event(user, 'delivery.' .. to, id, now) end
  count(dispatch_key, 'n:' .. from, -1)
  count(dispatch_key, 'n:' .. to, 1)
  count(dispatch_key, 'n:' .. messenger .. ':' .. from, -1)
  count(dispatch_key, 'n:' .. messenger .. ':' .. to, 1)
  count(stats_key, 'n:' .. from, -1)
  count(stats_key, 'n:' .. to, 1)
  if finishing then
    closing[dispatch_key] = { user, dispatch_of(id), now }
    count(dispatch_key, 'open', -1)
    redis.call('ZADD', key.finished(user, to), 0, id)
  elseif FINISHED[from] and not FINISHED[to] then
    -- A redrive: pending again.
    redis.call('HDEL', delivery_key, 'finished_at')
    count(dispatch_key, 'open', 1)
    redis.call('ZREM', key.finished(user, from), id)
  elseif FINISHED[from] then
    -- A receipt: from one outcome to a better-known one.
    redis.call('ZREM', key.finished(user, from), id)
    redis.call('ZADD', key.finished(user, to), 0, id)
  end
end
