/**
 * `fanout keys list|add|rotate|rm`: the user's own API keys (/v1/keys). A new
 * key is printed once, when it is made (that is what `add` and `rotate` are
 * for); the key the command runs with is never printed, only marked in the
 * list.
 */
import { Command } from 'commander'
import type { paths } from '../api-types.js'
import { contextOf, type Context } from '../context.js'
import { localTime } from '../output.js'
import { keyIdOf } from '../settings.js'

type Issued = paths['/v1/keys']['post']['responses']['201']['content']['application/json']

function showIssued (ctx: Context, key: Issued, what: string): void {
  if (ctx.out.json) { ctx.out.data(key); return }
  ctx.out.line(`${what} key ${key.id}${key.label === undefined ? '' : ` (${key.label})`}:`)
  ctx.out.line(`  ${key.key}`)
  ctx.out.note('Copy it now: it is not shown again. Use it with FANOUT_API_KEY, or "api_key" in the config file.')
}

export function keysCommand (): Command {
  const keys = new Command('keys').description('your API keys: list, add, rotate, remove')

  keys.command('list').alias('ls').description('your keys (never their secrets), revoked ones too; * marks the one in use')
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command)
      const answer = await ctx.call(ctx.api.GET('/v1/keys'))
      if (ctx.out.json) { ctx.out.data(answer.keys); return }
      const current = keyIdOf(ctx.settings.apiKey)
      ctx.out.table(['id', 'label', 'created', 'revoked', 'in use'],
        answer.keys.map((k) => [k.id, k.label, localTime(k.created_at), localTime(k.revoked_at), k.id === current ? '*' : '']))
    })

  keys.command('add').description('issue another key; it is printed once')
    .option('--label <label>', 'what the key is for, e.g. "billing server"')
    .action(async (options: { label?: string }, command: Command) => {
      const ctx = contextOf(command)
      showIssued(ctx, await ctx.call(ctx.api.POST('/v1/keys', { body: { ...(options.label !== undefined && { label: options.label }) } })), 'New')
    })

  keys.command('rotate <id>').description('replace a key: a new one with the same label, printed once; the old one stops at once')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      showIssued(ctx, await ctx.call(ctx.api.POST('/v1/keys/{id}/rotate', { params: { path: { id } } })), `Key ${id} replaced by`)
      if (id === keyIdOf(ctx.settings.apiKey)) ctx.out.note('That was the key this command runs with: put the new one in FANOUT_API_KEY or the config file.')
    })

  keys.command('rm <id>').alias('revoke').description('revoke a key: requests with it are refused from now on')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      const key = await ctx.call(ctx.api.DELETE('/v1/keys/{id}', { params: { path: { id } } }))
      if (ctx.out.json) { ctx.out.data(key); return }
      ctx.out.line(`Revoked key ${key.id}`)
      if (id === keyIdOf(ctx.settings.apiKey)) ctx.out.note('That was the key this command runs with: it no longer works.')
    })

  return keys
}
