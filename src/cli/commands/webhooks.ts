/**
 * `fanout webhooks list|add|rm|test`: the user's status webhook endpoints
 * (/v1/webhooks). An endpoint's signing secret is printed once, by `add`.
 */
import { Command } from 'commander'
import { contextOf } from '../context.js'
import { localTime } from '../output.js'

const EVENTS = ['delivery.sent', 'delivery.delivered', 'delivery.read', 'delivery.failed', 'delivery.expired', 'delivery.cancelled', 'dispatch.finished', 'contact.connected'] as const
type Event = typeof EVENTS[number]

export function webhooksCommand (): Command {
  const webhooks = new Command('webhooks').description('your status webhook endpoints: list, add, remove, test')

  webhooks.command('list').alias('ls').description('your endpoints (never their secrets)')
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command)
      const answer = await ctx.call(ctx.api.GET('/v1/webhooks'))
      if (ctx.out.json) { ctx.out.data(answer.endpoints); return }
      ctx.out.table(['id', 'url', 'events', 'enabled', 'created'],
        answer.endpoints.map((e) => [e.id, e.url, e.events.join(','), e.enabled ? 'yes' : `no${e.disabled_reason === undefined ? '' : `: ${e.disabled_reason}`}`, localTime(e.created_at)]))
    })

  webhooks.command('add <url>').description('add an endpoint; its signing secret is printed once')
    .option('--events <events>', `comma-separated, of ${EVENTS.join(', ')}`, EVENTS.join(','))
    .action(async (url: string, options: { events: string }, command: Command) => {
      const ctx = contextOf(command)
      const events = options.events.split(',').map((e) => e.trim()).filter((e) => e !== '') as Event[]
      const created = await ctx.call(ctx.api.POST('/v1/webhooks', { body: { url, events } }))
      if (ctx.out.json) { ctx.out.data(created); return }
      ctx.out.line(`New endpoint ${created.id} for ${created.url}, signing secret:`)
      ctx.out.line(`  ${created.secret}`)
      ctx.out.note('Copy it now: it is not shown again. Verify each request with it (a Standard Webhooks library).')
    })

  webhooks.command('rm <id>').description('remove an endpoint and its attempts')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      await ctx.call(ctx.api.DELETE('/v1/webhooks/{id}', { params: { path: { id } } }))
      if (ctx.out.json) { ctx.out.data({ id, removed: true }); return }
      ctx.out.line(`Removed endpoint ${id}`)
    })

  webhooks.command('test <id>').description('send the endpoint a test event now')
    .action(async (id: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      const queued = await ctx.call(ctx.api.POST('/v1/webhooks/{id}/test', { params: { path: { id } } }))
      if (ctx.out.json) { ctx.out.data(queued); return }
      ctx.out.line(`Test event ${queued.message_id} queued for ${id}: see its attempt with GET /v1/webhooks/${id}/attempts`)
    })

  return webhooks
}
