/**
 * The Lua scripts, one file a script beside the code that calls it
 * (src/<area>/lua/), as BullMQ keeps its src/commands: each file opens with a
 * header naming its KEYS, its ARGV and what it returns. A file named
 * `<name>-<n>.lua` takes n KEYS; `<name>.lua` takes a number of KEYS that
 * the caller passes first.
 *
 * Two kinds of line pull in shared pieces, each once per script:
 *
 *   --- @include "includes/move-delivery"   a file, relative to the including file's folder
 *   --- @include "keys"                     a piece built from TypeScript: the key helpers of
 *                                           src/redis-keys.ts (the script then takes the key
 *                                           prefix as ARGV[1]), or one the area provides
 *
 * Every script runs with a `#!lua` shebang (Redis 7): on a cluster every key
 * it touches must be in the slot of its KEYS (even a key of another slot on
 * the same node is refused, so a mistake fails at once rather than after a
 * resharding), and a full Redis refuses it before it writes anything.
 *
 * A folder is read once per process (`loadScripts`); `defineScripts` makes
 * its scripts commands of a connection, named after the area and the file
 * (create-6.lua of the deliveries: `deliveryCreate`).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Cluster } from 'ioredis'
import type { RedisClient } from './redis-connection.js'
import { luaKeyHelpers } from './redis-keys.js'

export interface ScriptCommand {
  name: string
  /** Undefined: the caller passes the number of keys as the first argument. */
  numberOfKeys?: number
  lua: string
}

const SCRIPT_FILE = /^([a-z][a-z-]*?)(?:-(\d+))?\.lua$/
const INCLUDE = /^--- @include "([^"]+)"[ \t]*$/gm

const camel = (kebab: string) => kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

/** The script's text with its includes in place; `included` holds what the script has pulled in so far. */
function expand (file: string, generated: Readonly<Record<string, string>>, included: Set<string>): string {
  return readFileSync(file, 'utf8').replace(INCLUDE, (_line, name: string) => {
    const source = Object.hasOwn(generated, name) ? name : join(dirname(file), `${name}.lua`)
    if (included.has(source)) return ''
    included.add(source)
    return source === name ? generated[name]! : expand(source, generated, included)
  })
}

/**
 * Reads every script of `dir`. `area` names the commands (`delivery` +
 * `create` = `deliveryCreate`); `generated` adds includes built from code
 * (the "keys" include is always there).
 */
export function loadScripts (dir: string, area: string, generated: Record<string, string> = {}): ScriptCommand[] {
  const pieces = { keys: luaKeyHelpers(), ...generated }
  return readdirSync(dir).filter((file) => file.endsWith('.lua')).sort().map((file) => {
    const match = SCRIPT_FILE.exec(file)
    if (match === null) throw new Error(`${join(dir, file)}: a script is named <name>-<number of keys>.lua or <name>.lua`)
    const [, name = '', keys] = match
    return {
      name: camel(`${area}-${name}`),
      ...(keys !== undefined && { numberOfKeys: Number(keys) }),
      // The shebang: see above.
      lua: `#!lua\n${expand(join(dir, file), pieces, new Set())}`
    }
  })
}

/**
 * Defines the scripts as commands of the connection, unless it has them
 * already (one connection may serve several stores). Define them before the
 * connection is used: ioredis leaves a command defined while an auto-pipeline
 * is queued out of that pipeline (ioredis issue #1931).
 */
export function defineScripts (redis: RedisClient, scripts: readonly ScriptCommand[]): void {
  for (const { name, numberOfKeys, lua } of scripts) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue
    redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys })
    // A cluster's auto-pipeline picks its node by a command's first argument, which for these
    // scripts is the number of keys, not a key: two calls for users on different nodes then
    // share a pipeline, and ioredis refuses it whole ("All keys in the pipeline should belong to
    // the same slots allocation group"). They go on their own, each to its keys' node.
    // (A new list: the one there may be ioredis's default, shared by every cluster client.)
    if (numberOfKeys === undefined && redis instanceof Cluster) {
      redis.options.autoPipeliningIgnoredCommands = [...(redis.options.autoPipeliningIgnoredCommands ?? []), name]
    }
  }
}
