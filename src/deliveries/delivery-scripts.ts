/**
 * The Lua scripts behind every change of a dispatch or delivery record.
 *
 * Each runs atomically in Redis and checks a delivery's current state before
 * it moves it, so two actors (a sender and a cancel, a crashed sender and its
 * successor, an expiry and a retry) can never give a delivery two terminal
 * states. Every move goes through `move`, which keeps the dispatch's and the
 * user's counts and the per-state indexes in step with the records, so counts
 * always equal what a listing shows.
 *
 * A dispatch hash keeps `legs` (how many it was created with; never changes,
 * so its delivery ids can be walked by index) and `total` (how many still
 * exist: a purge lowers it).
 *
 * ARGV[1] is always the key prefix; the key layout is in src/redis-keys.ts
 * (the scripts build the same keys).
 */

const PRELUDE = `
local P = ARGV[1]
local TERMINAL = { delivered = true, failed = true, cancelled = true, expired = true, suppressed = true }
local PENDING = { scheduled = true, queued = true, sending = true }
local function dkey (id) return P .. ':delivery:' .. id end
local function xkey (id) return P .. ':dispatch:' .. id end
local function skey (user) return P .. ':stats:' .. user end
local function fkey (user, state) return P .. ':finished:' .. user .. ':' .. state end
local function dispatch_of (id) return string.match(id, '^(.*)%.[^.]*$') end
local function leg_id (dispatch, index) return string.format('%s.%05d', dispatch, index) end

-- {user, text, expires_at} of the delivery's dispatch, read once per script call (they never change).
local dispatch_fields = {}
local function dispatch_info (id)
  local dispatch = dispatch_of(id)
  local info = dispatch_fields[dispatch]
  if not info then
    info = redis.call('HMGET', xkey(dispatch), 'user', 'text', 'expires_at')
    dispatch_fields[dispatch] = info
  end
  return info
end

-- Calls fn(id, state, user) for each existing leg of the dispatch from index first to last.
local function each_leg (dispatch, first, last, fields, fn)
  local user = redis.call('HGET', xkey(dispatch), 'user')
  if not user then return end
  for i = tonumber(first), tonumber(last) do
    local id = leg_id(dispatch, i)
    local leg = redis.call('HMGET', dkey(id), 'state', unpack(fields))
    if leg[1] then fn(id, leg, user) end
  end
end

-- Counter changes (HINCRBY): applied at once, or, between defer_counts() and apply_counts(), summed
-- and applied once per counter, so that one delivery's -1 and the next one's +1 on a counter cost nothing.
local deferred = nil
local function count (key, field, n)
  if not deferred then
    redis.call('HINCRBY', key, field, n)
    return
  end
  local fields = deferred.sums[key]
  if not fields then
    fields = {}
    deferred.sums[key] = fields
  end
  if not fields[field] then
    fields[field] = 0
    deferred.order[#deferred.order + 1] = { key, field }
  end
  fields[field] = fields[field] + n
end
local function defer_counts () deferred = { sums = {}, order = {} } end
local function apply_counts ()
  for _, counter in ipairs(deferred.order) do
    local n = deferred.sums[counter[1]][counter[2]]
    if n ~= 0 then redis.call('HINCRBY', counter[1], counter[2], n) end
  end
  deferred = nil
end

-- Moves delivery id (of user) from state 'from' to 'to', keeping counts and indexes in step.
-- 'fields' (optional): more field/value pairs for the delivery, written in the same HSET.
local function move (id, user, from, to, now, fields)
  local dk, xk, sk = dkey(id), xkey(dispatch_of(id)), skey(user)
  local finishing = TERMINAL[to] and not TERMINAL[from]
  local set = { 'state', to, 'updated_at', now }
  if finishing then
    set[5] = 'finished_at'
    set[6] = now
  end
  if fields then
    for i = 1, #fields do set[#set + 1] = fields[i] end
  end
  redis.call('HSET', dk, unpack(set))
  if from == to then return end
  count(xk, 'n:' .. from, -1)
  count(xk, 'n:' .. to, 1)
  count(sk, 'n:' .. from, -1)
  count(sk, 'n:' .. to, 1)
  if finishing then
    count(xk, 'open', -1)
    redis.call('ZADD', fkey(user, to), 0, id)
  elseif TERMINAL[from] and not TERMINAL[to] then
    redis.call('HDEL', dk, 'finished_at')
    count(xk, 'open', 1)
    redis.call('ZREM', fkey(user, from), id)
  end
end
`

/**
 * ARGV: prefix, dispatch id, user, now, text, send_at, expires_at ('' = none),
 * initial state, dedup window (s, 0 = off), text fingerprint, and the legs as
 * one JSON array [contact, messenger, address, contact, ...] (one argument
 * however many legs: a call with 300,000 arguments overflows the client's stack).
 * Writes the dispatch and its deliveries; a leg repeating a delivered or
 * pending delivery of the same text to the same address within the window
 * is written `suppressed`, pointing at it. Puts the dispatch in the outbox
 * when anything is left to send. Returns the number suppressed.
 */
export const CREATE = PRELUDE + `
local id, user, now, initial = ARGV[2], ARGV[3], ARGV[4], ARGV[8]
local window, fingerprint = tonumber(ARGV[9]), ARGV[10]
local n, suppressed = 0, 0
local legs = cjson.decode(ARGV[11])
for i = 1, #legs, 3 do
  local contact, messenger, address = legs[i], legs[i + 1], legs[i + 2]
  local did = leg_id(id, n)
  n = n + 1
  local repeats = nil
  if window > 0 then
    local dedup = P .. ':dedup:' .. user .. ':' .. messenger .. ':' .. address .. ':' .. fingerprint
    local earlier = redis.call('GET', dedup)
    if earlier then
      local state = redis.call('HGET', dkey(earlier), 'state')
      if state == 'delivered' or PENDING[state] then repeats = earlier end
    end
    if not repeats then redis.call('SET', dedup, did, 'EX', window) end
  end
  -- Only what the leg does not share with its dispatch: no attempts yet (0), updated when created,
  -- no contact for a direct address. Fewer fields: less Redis work and memory per delivery.
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
    redis.call('HSET', dkey(did), unpack(fields))
    redis.call('ZADD', fkey(user, 'suppressed'), 0, did)
    suppressed = suppressed + 1
  else
    fields[#fields + 1] = 'state'
    fields[#fields + 1] = initial
    redis.call('HSET', dkey(did), unpack(fields))
  end
end
local open = n - suppressed
local xk = xkey(id)
redis.call('HSET', xk, 'user', user, 'text', ARGV[5], 'created_at', now, 'send_at', ARGV[6],
  'legs', n, 'total', n, 'open', open, 'n:' .. initial, open, 'n:suppressed', suppressed)
if ARGV[7] ~= '' then redis.call('HSET', xk, 'expires_at', ARGV[7]) end
redis.call('HINCRBY', skey(user), 'n:' .. initial, open)
redis.call('HINCRBY', skey(user), 'n:suppressed', suppressed)
redis.call('ZADD', P .. ':dispatches:' .. user, 0, id)
redis.call('SADD', P .. ':users', user)
if open > 0 then redis.call('ZADD', P .. ':outbox', now, id) end
return suppressed
`

/**
 * start_leg(id, now, generation of the job): a pending delivery becomes
 * `sending` and its attempt is counted; returns {'sending', attempts,
 * messenger, address, text, user}. Instead it ends `expired` past its
 * dispatch's expires_at, or `cancelled` when a cancel came while a crashed
 * attempt held it; returns {'ended', that state}. A finished one is left
 * alone: {its state}. A job of an older generation (the delivery was
 * redriven, or its retry left a batch, since): {'stale'}. Unknown: false.
 */
const START_LEG = `
local function start_leg (id, now, generation)
  local dk = dkey(id)
  local leg = redis.call('HMGET', dk, 'state', 'gen', 'cancel', 'messenger', 'address', 'attempts')
  local state = leg[1]
  if not state then return false end
  if TERMINAL[state] then return { state } end
  if (leg[2] or '0') ~= generation then return { 'stale' } end
  local dispatch = dispatch_info(id)
  local user = dispatch[1]
  if dispatch[3] and tonumber(now) >= tonumber(dispatch[3]) then
    move(id, user, state, 'expired', now)
    return { 'ended', 'expired' }
  end
  if leg[3] == '1' then
    move(id, user, state, 'cancelled', now)
    return { 'ended', 'cancelled' }
  end
  local attempts = tonumber(leg[6] or '0') + 1
  move(id, user, state, 'sending', now, { 'attempts', attempts })
  return { 'sending', attempts, leg[4], leg[5], dispatch[2], user }
end
`

/**
 * transition_leg(id, now, states it may leave (comma-separated), new state,
 * the generation it must be in ('' = any), a new generation to give it
 * ('' = keep), {field, value, ...} to set).
 * A delivery going back to `queued` for a retry ends `cancelled` instead when
 * a cancel came while it was being sent, and `expired` when its dispatch's
 * expires_at has passed. Returns {1, previous state, new state} when applied,
 * {0, current state} when not (another state, or another generation); false if unknown.
 */
const TRANSITION_LEG = `
local function transition_leg (id, now, from, to, generation, nextGeneration, fields)
  local dk = dkey(id)
  local leg = redis.call('HMGET', dk, 'state', 'gen', 'cancel')
  local state = leg[1]
  if not state then return false end
  if not string.find(',' .. from .. ',', ',' .. state .. ',', 1, true) then return { 0, state } end
  if generation ~= '' and (leg[2] or '0') ~= generation then return { 0, state } end
  local dispatch = dispatch_info(id)
  if to == 'queued' then
    if leg[3] == '1' then
      to = 'cancelled'
    elseif dispatch[3] and tonumber(now) >= tonumber(dispatch[3]) then
      to = 'expired'
    end
  end
  if nextGeneration ~= '' then
    fields[#fields + 1] = 'gen'
    fields[#fields + 1] = nextGeneration
  end
  move(id, dispatch[1], state, to, now, fields)
  return { 1, state, to }
end
`

/** ARGV: prefix, delivery id, now, the job's generation. Returns start_leg's answer. */
export const START = PRELUDE + START_LEG + `
return start_leg(ARGV[2], ARGV[3], ARGV[4])
`

/**
 * ARGV: prefix, delivery id, now, states it may leave, new state, generation
 * ('' = any), new generation ('' = keep), then field/value pairs. Returns
 * transition_leg's answer.
 */
export const TRANSITION = PRELUDE + TRANSITION_LEG + `
return transition_leg(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], { unpack(ARGV, 8) })
`

/**
 * One delivery's end and the next one's start, in one call (a sender going
 * from one delivery of a batch to the next): ARGV: prefix, now, delivery id,
 * states it may leave, new state, generation ('' = any), the next delivery's
 * id and job generation, then field/value pairs for the first. Returns
 * {transition_leg's answer, start_leg's answer}. The two deliveries' count
 * changes are summed (the first's `sending` -1 and the next's +1 cancel out).
 */
export const TRANSITION_START = PRELUDE + TRANSITION_LEG + START_LEG + `
defer_counts()
local finished = transition_leg(ARGV[3], ARGV[2], ARGV[4], ARGV[5], ARGV[6], '', { unpack(ARGV, 9) })
local started = start_leg(ARGV[7], ARGV[2], ARGV[8])
apply_counts()
return { finished, started }
`

/**
 * ARGV: prefix, now, delivery ids. Every leg not yet sent ends `cancelled`; a
 * leg being sent is marked so that it ends `cancelled` rather than retried.
 * Returns per id: 'cancelled' (by this call), 'in_flight', 'finished:<state>'
 * when it had already ended, or 'unknown'.
 */
export const CANCEL = PRELUDE + `
local now = ARGV[2]
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local dk = dkey(id)
  local state = redis.call('HGET', dk, 'state')
  if not state then
    out[#out + 1] = 'unknown'
  elseif state == 'scheduled' or state == 'queued' then
    move(id, redis.call('HGET', xkey(dispatch_of(id)), 'user'), state, 'cancelled', now)
    out[#out + 1] = 'cancelled'
  elseif state == 'sending' then
    redis.call('HSET', dk, 'cancel', '1')
    out[#out + 1] = 'in_flight'
  else
    out[#out + 1] = 'finished:' .. state
  end
end
return out
`

/**
 * ARGV: prefix, now, delivery ids. Each `failed` leg goes back to `queued`
 * with a fresh attempt budget and a new generation (its next job's id), and
 * its dispatch enters the outbox until the jobs are queued. Returns per id
 * {'redriven', generation, messenger} or {its state} ('unknown' if none).
 */
export const REDRIVE = PRELUDE + `
local now = ARGV[2]
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local dk = dkey(id)
  local leg = redis.call('HMGET', dk, 'state', 'messenger')
  if leg[1] == 'failed' then
    local dispatch = dispatch_of(id)
    move(id, redis.call('HGET', xkey(dispatch), 'user'), 'failed', 'queued', now)
    redis.call('HSET', dk, 'attempts', 0)
    local gen = redis.call('HINCRBY', dk, 'gen', 1)
    redis.call('ZADD', P .. ':outbox', now, dispatch)
    out[#out + 1] = { 'redriven', gen, leg[2] }
  else
    out[#out + 1] = { leg[1] or 'unknown' }
  end
end
return out
`

/**
 * ARGV: prefix, dispatch id, now, first and last leg index.
 * `scheduled` legs become `queued` (their send_at has come); returns
 * (id, messenger, generation) of every leg in the range waiting for a job.
 */
export const RELEASE = PRELUDE + `
local now = ARGV[3]
local out = {}
each_leg(ARGV[2], ARGV[4], ARGV[5], { 'messenger', 'gen' }, function (id, leg, user)
  if leg[1] == 'scheduled' then move(id, user, 'scheduled', 'queued', now) end
  if leg[1] == 'scheduled' or leg[1] == 'queued' then
    out[#out + 1] = id
    out[#out + 1] = leg[2]
    out[#out + 1] = leg[3] or '0'
  end
end)
return out
`

/**
 * ARGV: prefix, dispatch id, now, first and last leg index.
 * Legs still waiting (scheduled or queued) end `expired`; a leg being sent
 * finishes its attempt, and ends `expired` if it would be retried. Returns
 * how many expired.
 */
export const EXPIRE = PRELUDE + `
local now = ARGV[3]
local expired = 0
each_leg(ARGV[2], ARGV[4], ARGV[5], {}, function (id, leg, user)
  if leg[1] == 'scheduled' or leg[1] == 'queued' then
    move(id, user, leg[1], 'expired', now)
    expired = expired + 1
  end
end)
return expired
`

/**
 * ARGV: prefix, user, finished before (epoch ms, '' = any time), state, ids
 * from that state's index. Deletes each delivery that is still in that state
 * and finished before the bound, with its counts; a dispatch left with no
 * deliveries goes too. Ids whose record is gone leave the index. Returns the
 * number deleted.
 */
export const PURGE = PRELUDE + `
local user, before, state = ARGV[2], ARGV[3], ARGV[4]
local purged = 0
for i = 5, #ARGV do
  local id = ARGV[i]
  local dk = dkey(id)
  local leg = redis.call('HMGET', dk, 'state', 'finished_at')
  if not leg[1] then
    redis.call('ZREM', fkey(user, state), id)
  elseif leg[1] == state and (before == '' or tonumber(leg[2]) < tonumber(before)) then
    local dispatch = dispatch_of(id)
    local xk = xkey(dispatch)
    redis.call('DEL', dk)
    redis.call('ZREM', fkey(user, state), id)
    redis.call('HINCRBY', skey(user), 'n:' .. state, -1)
    redis.call('HINCRBY', xk, 'n:' .. state, -1)
    if redis.call('HINCRBY', xk, 'total', -1) <= 0 then
      redis.call('DEL', xk)
      redis.call('ZREM', P .. ':dispatches:' .. user, dispatch)
    end
    purged = purged + 1
  end
end
return purged
`
