/**
 * Contacts in Redis (the default: the service then needs nothing but Redis).
 *
 *   {p}:contacts:{user}            hash  name -> JSON of the other fields ({telegram?, whatsapp?, viber?, tags?, timezone?})
 *   {p}:contact-names:{user}       zset  every name, score 0: a lex range is a keyset page in byte (= byName) order
 *   {p}:contact-tag:{user}:{tag}   zset  the names having that tag, score 0
 *
 * The hash is the truth; the zsets are indexes of it. Every write is one Lua
 * script that reads the stored contact and changes the hash and every index
 * together, so two writers of one name cannot both create it and an index
 * never names a contact the hash does not have (or misses one it has). A
 * script finds the tag indexes to update from the stored JSON, so it builds
 * those keys itself from a prefix (as the delivery scripts do).
 */
import type { Redis } from 'ioredis'
import type { RedisKeys } from '../redis-keys.js'
import {
  byName, compactContact, compactFilter, compactPatch,
  contactBookFull, type Contact, type ContactStore, type ContactStoreOptions
} from './contact-store.js'

/**
 * Books written before the name index existed have only the hash: index them
 * on first use. ZCARD and HLEN are O(1), so the check costs nothing once the
 * index matches. Needs `hash` and `names` as locals.
 */
const ENSURE_NAME_INDEX = `
if redis.call('ZCARD', names) ~= redis.call('HLEN', hash) then
  redis.call('DEL', names)
  local all = redis.call('HKEYS', hash)
  for i = 1, #all, 500 do
    local args = {}
    for j = i, math.min(i + 499, #all) do
      args[#args + 1] = 0
      args[#args + 1] = all[j]
    end
    redis.call('ZADD', names, unpack(args))
  end
end
`

/**
 * `read(picked)`: the contacts of those names that exist, in their order, as
 * one JSON text [[name, stored JSON], ...] (HMGET in slices: unpack has a
 * limit). One string instead of two per contact: the client decodes one reply
 * and parses once, not a hundred times (the stored values are JSON already).
 */
const READ_CONTACTS = `
local function read (picked)
  local out = {}
  for i = 1, #picked, 500 do
    local slice = {}
    for j = i, math.min(i + 499, #picked) do slice[#slice + 1] = picked[j] end
    local values = redis.call('HMGET', hash, unpack(slice))
    for j, name in ipairs(slice) do
      if values[j] then out[#out + 1] = '[' .. cjson.encode(name) .. ',' .. values[j] .. ']' end
    end
  end
  return '[' .. table.concat(out, ',') .. ']'
end
local function has (key, name)
  return redis.call('ZSCORE', key, name) ~= false
end
`

/**
 * KEYS[1] the user's hash, KEYS[2] the user's name index.
 * ARGV[1] op: create | replace | upsert | patch | remove; ARGV[2] the user's tag key prefix;
 * ARGV[3] name; ARGV[4] payload: the JSON to store (create, replace), the ids
 * (upsert: the stored tags and timezone are kept), or {set, unset} (patch);
 * ARGV[5] the most contacts the book may hold.
 * Returns {0} when nothing was done (create: the name is taken; the others:
 * no such contact), {3} when a new name would overfill the book, else
 * {1, json} (changed) or {2, json} (created); remove {1}.
 */
const WRITE_SCRIPT = `
local hash, names = KEYS[1], KEYS[2]
local op, tagPrefix, name = ARGV[1], ARGV[2], ARGV[3]
${ENSURE_NAME_INDEX}
local old = redis.call('HGET', hash, name)
if op == 'create' then
  if old then return {0} end
elseif not old and op ~= 'upsert' then
  return {0}
end
if not old and redis.call('ZCARD', names) >= tonumber(ARGV[5]) then return {3} end
local before = old and cjson.decode(old) or {}
local oldTags = before.tags or {}
local doc = nil
local json = ARGV[4]
if op == 'patch' then
  local changes = cjson.decode(ARGV[4])
  doc = before
  for field, value in pairs(changes.set) do doc[field] = value end
  for _, field in ipairs(changes.unset) do doc[field] = nil end
  json = cjson.encode(doc)
elseif op == 'upsert' then
  doc = cjson.decode(ARGV[4])
  doc.tags = before.tags
  doc.timezone = before.timezone
  json = cjson.encode(doc)
elseif op ~= 'remove' then
  doc = cjson.decode(ARGV[4])
end
for _, tag in ipairs(oldTags) do redis.call('ZREM', tagPrefix .. tag, name) end
if not doc then
  redis.call('HDEL', hash, name)
  redis.call('ZREM', names, name)
  return {1}
end
for _, tag in ipairs(doc.tags or {}) do redis.call('ZADD', tagPrefix .. tag, 0, name) end
redis.call('HSET', hash, name, json)
redis.call('ZADD', names, 0, name)
return {old and 1 or 2, json}
`

/**
 * KEYS[1] the user's hash, KEYS[2] the user's name index, KEYS[3..] the
 * any-tag indexes (ARGV[3] of them), then the all-tag indexes.
 * ARGV[1] where to start ('-', or '(' .. the last name seen), ARGV[2] how many.
 * Returns read(): the contacts in byte order of the names.
 */
const PAGE_SCRIPT = `
local hash, names = KEYS[1], KEYS[2]
${ENSURE_NAME_INDEX}
${READ_CONTACTS}
local start, want, nAny = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local any, all = {}, {}
for i = 3, 2 + nAny do any[#any + 1] = KEYS[i] end
for i = 3 + nAny, #KEYS do all[#all + 1] = KEYS[i] end
local picked = {}
if #all > 0 then
  -- Walk the smallest all-tag index in name order; keep the names every other index has.
  local driver, size = all[1], redis.call('ZCARD', all[1])
  for i = 2, #all do
    local n = redis.call('ZCARD', all[i])
    if n < size then driver, size = all[i], n end
  end
  local chunk = math.max(want, 100)
  local from = start
  while #picked < want do
    local batch = redis.call('ZRANGEBYLEX', driver, from, '+', 'LIMIT', 0, chunk)
    for _, name in ipairs(batch) do
      local ok = true
      for _, key in ipairs(all) do
        if key ~= driver and not has(key, name) then ok = false break end
      end
      if ok and #any > 0 then
        ok = false
        for _, key in ipairs(any) do
          if has(key, name) then ok = true break end
        end
      end
      if ok then
        picked[#picked + 1] = name
        if #picked == want then break end
      end
    end
    if #batch < chunk then break end
    from = '(' .. batch[#batch]
  end
elseif #any > 0 then
  -- The first names of the union are among the first of each index. Lua's < may
  -- follow the server's locale, so names are compared byte by byte, as ZRANGEBYLEX does.
  local seen = {}
  for _, key in ipairs(any) do
    for _, name in ipairs(redis.call('ZRANGEBYLEX', key, start, '+', 'LIMIT', 0, want)) do
      if not seen[name] then
        seen[name] = true
        picked[#picked + 1] = name
      end
    end
  end
  table.sort(picked, function (a, b)
    for i = 1, math.min(#a, #b) do
      local x, y = string.byte(a, i), string.byte(b, i)
      if x ~= y then return x < y end
    end
    return #a < #b
  end)
  for i = #picked, want + 1, -1 do picked[i] = nil end
else
  picked = redis.call('ZRANGEBYLEX', names, start, '+', 'LIMIT', 0, want)
end
return read(picked)
`

/**
 * KEYS[1] the user's hash, KEYS[2..] the any-tag indexes (ARGV[1] of them),
 * then the all-tag indexes (at least one index in all). Returns read().
 */
const FIND_BY_TAGS_SCRIPT = `
local hash = KEYS[1]
${READ_CONTACTS}
local nAny = tonumber(ARGV[1])
local any, all = {}, {}
for i = 2, 1 + nAny do any[#any + 1] = KEYS[i] end
for i = 2 + nAny, #KEYS do all[#all + 1] = KEYS[i] end
if #all == 0 then return read(redis.call('ZUNION', #any, unpack(any))) end
local picked = redis.call('ZINTER', #all, unpack(all))
if #any == 0 then return read(picked) end
local kept = {}
for _, name in ipairs(picked) do
  for _, key in ipairs(any) do
    if has(key, name) then
      kept[#kept + 1] = name
      break
    end
  end
end
return read(kept)
`

/** Names per HMGET when reading many contacts. */
const NAMES_PER_READ = 1000

type WriteOp = 'create' | 'replace' | 'upsert' | 'patch' | 'remove'
type WriteResult = [0] | [1] | [3] | [1 | 2, string]

type ScriptedRedis = Redis & {
  contactWrite (hash: string, names: string, op: WriteOp, tagPrefix: string, name: string, payload: string, maxContacts: number): Promise<WriteResult>
  contactPage (numKeys: number, ...keysAndArgs: Array<string | number>): Promise<string>
  contactFindByTags (numKeys: number, ...keysAndArgs: Array<string | number>): Promise<string>
}

type Stored = Omit<Contact, 'name'>

/** A stored value, parsed, back into a contact; a value from before tags and time zones existed reads as ids only. */
function fromStored (name: string, { telegram, whatsapp, viber, tags, timezone }: Stored): Contact {
  // An empty Lua table encodes as `{}`, not `[]`: only an array is a list of tags.
  return compactContact({ name, telegram, whatsapp, viber, tags: Array.isArray(tags) ? tags : undefined, timezone })
}

function toContact (name: string, json: string): Contact {
  return fromStored(name, JSON.parse(json) as Stored)
}

function toJson (contact: Contact): string {
  const { name: _name, ...rest } = compactContact(contact)
  return JSON.stringify(rest)
}

/** A script's read() into contacts. */
function toContacts (json: string): Contact[] {
  return (JSON.parse(json) as Array<[string, Stored]>).map(([name, stored]) => fromStored(name, stored))
}

export function createRedisContactStore (redis: Redis, keys: RedisKeys, { maxContacts }: ContactStoreOptions): ContactStore {
  const scripted = redis as ScriptedRedis
  // One client may serve several stores (the app and tests): define the scripts once.
  if (typeof scripted.contactWrite !== 'function') {
    redis.defineCommand('contactWrite', { numberOfKeys: 2, lua: WRITE_SCRIPT })
    redis.defineCommand('contactPage', { lua: PAGE_SCRIPT })
    redis.defineCommand('contactFindByTags', { lua: FIND_BY_TAGS_SCRIPT })
  }

  async function write (user: string, op: WriteOp, name: string, payload: string): Promise<WriteResult> {
    // contactTag(user, '') is the prefix every tag key of the user shares.
    const result = await scripted.contactWrite(keys.contacts(user), keys.contactNames(user), op, keys.contactTag(user, ''), name, payload, maxContacts)
    if (result[0] === 3) throw contactBookFull(maxContacts)
    return result
  }

  return {
    async upsert (user, contact) {
      const { name, telegram, whatsapp, viber } = contact
      const [status] = await write(user, 'upsert', name, toJson({ name, telegram, whatsapp, viber }))
      return { created: status === 2 }
    },

    async create (user, contact) {
      const [status] = await write(user, 'create', contact.name, toJson(contact))
      return status === 2
    },

    async get (user, name) {
      const json = await redis.hget(keys.contacts(user), name)
      return json === null ? undefined : toContact(name, json)
    },

    async replace (user, contact) {
      const [status] = await write(user, 'replace', contact.name, toJson(contact))
      return status !== 0
    },

    async patch (user, name, changes) {
      const result = await write(user, 'patch', name, JSON.stringify(compactPatch(changes)))
      return result[0] === 0 ? undefined : toContact(name, result[1] ?? '{}')
    },

    async remove (user, name) {
      const [status] = await write(user, 'remove', name, '')
      return status === 1
    },

    async list (user) {
      const book = await redis.hgetall(keys.contacts(user))
      return Object.entries(book)
        .map(([name, json]) => toContact(name, json))
        .sort(byName)
    },

    async page (user, { after, limit, tags }) {
      const filter = compactFilter(tags)
      const tagKeys = [...filter.any, ...filter.all].map((tag) => keys.contactTag(user, tag))
      const json = await scripted.contactPage(
        2 + tagKeys.length, keys.contacts(user), keys.contactNames(user), ...tagKeys,
        after === undefined ? '-' : `(${after}`, limit + 1, filter.any.length
      )
      const contacts = toContacts(json)
      if (contacts.length <= limit) return { contacts }
      const shown = contacts.slice(0, limit)
      return { contacts: shown, next: shown[shown.length - 1]?.name }
    },

    async findByNames (user, names) {
      const unique = [...new Set(names)]
      if (unique.length === 0) return []
      // A slice per HMGET: a dispatch may name 100,000 contacts, more arguments than one call can spread.
      const slices: string[][] = []
      for (let i = 0; i < unique.length; i += NAMES_PER_READ) slices.push(unique.slice(i, i + NAMES_PER_READ))
      const values = (await Promise.all(slices.map(async (slice) => await redis.hmget(keys.contacts(user), ...slice)))).flat()
      const found: Contact[] = []
      unique.forEach((name, i) => {
        const json = values[i]
        if (json != null) found.push(toContact(name, json))
      })
      return found
    },

    async findByTags (user, tags) {
      const filter = compactFilter(tags)
      if (filter.any.length === 0 && filter.all.length === 0) return []
      const tagKeys = [...filter.any, ...filter.all].map((tag) => keys.contactTag(user, tag))
      return toContacts(await scripted.contactFindByTags(1 + tagKeys.length, keys.contacts(user), ...tagKeys, filter.any.length))
    }
  }
}
