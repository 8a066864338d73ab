/** `fanout contacts add|list|show|edit|invite|rm`: the contact book (/v1/contacts). */
import { Command, Option } from 'commander'
import type { paths } from '../api-types.js'
import { contextOf, type Context } from '../context.js'
import { localTime } from '../output.js'
import { addContactFileCommands } from './contact-files.js'
import { UsageError } from '../errors.js'

type Contact = paths['/v1/contacts']['get']['responses']['200']['content']['application/json']['contacts'][number]
type ContactWithHealth = paths['/v1/contacts/{name}']['get']['responses']['200']['content']['application/json']
type Health = NonNullable<ContactWithHealth['health'][keyof ContactWithHealth['health']]>
type Patch = NonNullable<paths['/v1/contacts/{name}']['patch']['requestBody']>['content']['application/json']

const MESSENGER_FLAGS = [
  ['telegram', '<id>', 'Telegram chat id or @username'],
  ['whatsapp', '<number>', 'WhatsApp number, E.164 (+15551234567)'],
  ['viber', '<id>', 'Viber subscriber id']
] as const

/** Tags from repeated and/or comma-separated flags. */
export const tagList = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((t) => t.trim()).filter((t) => t !== '')]

function showContacts (ctx: Context, contacts: Contact[]): void {
  if (ctx.out.json) { ctx.out.data(contacts); return }
  if (contacts.length === 0) { ctx.out.note('No contacts. Add one with `fanout contacts add <name> --telegram <id>`.'); return }
  ctx.out.table(['name', 'telegram', 'whatsapp', 'viber', 'tags', 'timezone', 'operator'],
    contacts.map((c) => [c.name, c.telegram, c.whatsapp, c.viber, (c.tags ?? []).join(','), c.timezone, c.operator]))
}

/** A contact's health, a line per messenger it has an address on. */
function showHealth (ctx: Context, contact: ContactWithHealth): void {
  const rows = (['telegram', 'whatsapp', 'viber'] as const).flatMap((m) => {
    const health: Health | undefined = contact.health[m]
    if (health === undefined) return []
    if (health.reachable) return [[m, 'reachable', '', '', '']]
    return [[m, `unreachable: ${health.reason}`, String(health.code), `${health.count}`, localTime(health.at)]]
  })
  if (rows.length === 0) return
  ctx.out.line()
  ctx.out.table(['messenger', 'health', 'code', 'failures', 'last failed'], rows)
  const dead = rows.filter((r) => r[1] !== 'reachable').map((r) => r[0])
  if (dead.length > 0) {
    ctx.out.note(`Sends with --skip-unreachable skip ${dead.join(', ')}; to try again regardless: \`fanout contacts reset-health ${contact.name} ${dead[0]!}\``)
  }
}

/** The addresses the contact connected by invite, newest first. */
function showConnections (ctx: Context, contact: ContactWithHealth): void {
  const connections = contact.connections ?? []
  if (connections.length === 0) return
  ctx.out.line()
  ctx.out.line('Connected by invite:')
  ctx.out.table(['messenger', 'id', 'replaced', 'at'], connections.map((c) => [c.messenger, c.id, c.previous_id, localTime(c.at)]))
}

export function contactsCommand (): Command {
  const contacts = new Command('contacts').description('the contact book: add, list, show, edit, remove contacts; import and export files')

  const add = contacts.command('add <name>').description('add a contact with its messenger ids (a taken name is refused: use edit)')
  for (const [flag, arg, what] of MESSENGER_FLAGS) add.option(`--${flag} ${arg}`, what)
  add.option('--tag <tags>', 'a tag to pick the contact by (repeat, or comma-separate)', tagList)
    .option('--timezone <zone>', 'the person\'s IANA time zone, e.g. Europe/Moscow')
    .option('--operator <code>', 'the mobile operator code, e.g. RU-Beeline (default: derived from the WhatsApp number where it can be)')
    .addHelpText('after', '\nExample:\n  fanout contacts add Lera --telegram 123456789 --viber lera-viber-id --tag team')
    .action(async (name: string, options: { telegram?: string, whatsapp?: string, viber?: string, tag?: string[], timezone?: string, operator?: string }, command: Command) => {
      const ctx = contextOf(command)
      const contact = await ctx.call(ctx.api.POST('/v1/contacts', {
        body: {
          name,
          ...(options.telegram !== undefined && { telegram: options.telegram }),
          ...(options.whatsapp !== undefined && { whatsapp: options.whatsapp }),
          ...(options.viber !== undefined && { viber: options.viber }),
          ...(options.tag !== undefined && { tags: options.tag }),
          ...(options.timezone !== undefined && { timezone: options.timezone }),
          ...(options.operator !== undefined && { operator: options.operator })
        }
      }))
      if (ctx.out.json) { ctx.out.data(contact); return }
      ctx.out.line(`Added contact ${contact.name}`)
      showContacts(ctx, [contact])
    })

  contacts.command('list').alias('ls').description('list the contact book in name order (every page)')
    .option('--tag <tags>', 'only contacts with at least one of these tags', tagList)
    .option('--all-tags <tags>', 'only contacts with every one of these tags', tagList)
    .action(async (options: { tag?: string[], allTags?: string[] }, command: Command) => {
      const ctx = contextOf(command)
      const all: Contact[] = []
      let cursor: string | undefined
      do {
        const page = await ctx.call(ctx.api.GET('/v1/contacts', {
          params: {
            query: {
              limit: 1000,
              ...(cursor !== undefined && { cursor }),
              ...(options.tag !== undefined && { tags_any: options.tag }),
              ...(options.allTags !== undefined && { tags_all: options.allTags })
            }
          }
        }))
        all.push(...page.contacts)
        cursor = page.next_cursor
      } while (cursor !== undefined)
      showContacts(ctx, all)
    })

  contacts.command('show <name>').description('one contact, the health of its addresses (whether a failure said one is dead), and what it connected by invite')
    .action(async (name: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      const contact = await ctx.call(ctx.api.GET('/v1/contacts/{name}', { params: { path: { name } } }))
      if (ctx.out.json) { ctx.out.data([contact]); return }
      showContacts(ctx, [contact])
      showHealth(ctx, contact)
      showConnections(ctx, contact)
    })

  contacts.command('reset-health <name> <messenger>').description('clear the dead mark of a contact\'s address on telegram, whatsapp or viber: it is sent to again')
    .action(async (name: string, messenger: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      if (messenger !== 'telegram' && messenger !== 'whatsapp' && messenger !== 'viber') {
        throw new UsageError(`"${messenger}" is not a messenger`, 'give telegram, whatsapp or viber')
      }
      const contact = await ctx.call(ctx.api.POST('/v1/contacts/{name}/health/{messenger}/reset', { params: { path: { name, messenger } } }))
      if (ctx.out.json) { ctx.out.data(contact); return }
      ctx.out.line(`Reset the ${messenger} health of ${contact.name}`)
      showHealth(ctx, contact)
    })

  const edit = contacts.command('edit <name>').description('change some fields of a contact; --no-<field> removes one')
  for (const [flag, arg, what] of MESSENGER_FLAGS) {
    edit.option(`--${flag} ${arg}`, `set the ${what}`)
    edit.addOption(new Option(`--no-${flag}`, `remove the ${flag} id`))
  }
  edit.option('--tag <tags>', 'replace the tags with these (repeat, or comma-separate)', tagList)
    .addOption(new Option('--no-tag', 'remove every tag'))
    .option('--timezone <zone>', 'set the time zone')
    .addOption(new Option('--no-timezone', 'remove the time zone'))
    .option('--operator <code>', 'set the mobile operator code, e.g. RU-Beeline')
    .addOption(new Option('--no-operator', 'remove the operator code'))
    .addHelpText('after', '\nExample:\n  fanout contacts edit Lera --whatsapp +15551234567 --no-viber')
    .action(async (name: string, options: Record<string, string | string[] | false | undefined>, command: Command) => {
      const ctx = contextOf(command)
      const body: Patch = {}
      const set = (field: 'telegram' | 'whatsapp' | 'viber' | 'timezone' | 'operator', value: string | string[] | false | undefined) => {
        if (value !== undefined) body[field] = value === false ? null : String(value)
      }
      set('telegram', options.telegram)
      set('whatsapp', options.whatsapp)
      set('viber', options.viber)
      set('timezone', options.timezone)
      set('operator', options.operator)
      if (options.tag !== undefined) body.tags = options.tag === false ? null : options.tag as string[]
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change', 'give at least one of --telegram, --whatsapp, --viber, --tag, --timezone, --operator (or --no-...)')
      const contact = await ctx.call(ctx.api.PATCH('/v1/contacts/{name}', { params: { path: { name } }, body }))
      if (ctx.out.json) { ctx.out.data(contact); return }
      ctx.out.line(`Changed contact ${contact.name}`)
      showContacts(ctx, [contact])
    })

  contacts.command('invite <name>').description('new invite links for a contact: the person opens one to connect their messenger id (each works once)')
    .addHelpText('after', '\nExample:\n  fanout contacts add Lera && fanout contacts invite Lera')
    .action(async (name: string, _options: object, command: Command) => {
      const ctx = contextOf(command)
      const invite = await ctx.call(ctx.api.POST('/v1/contacts/{name}/invites', { params: { path: { name } } }))
      if (ctx.out.json) { ctx.out.data(invite); return }
      const links = Object.entries(invite.links)
      ctx.out.line(links.length === 0
        ? `No invite links for ${invite.contact}: the service has none of the messengers' settings`
        : `Invite links for ${invite.contact}, each usable once until ${invite.expires_at}:`)
      // Lines, not a table: a link is never cut to fit a column.
      for (const [messenger, link] of links) ctx.out.line(`  ${messenger.padEnd(9)} ${link.url}`)
      for (const { messenger, reason } of invite.unavailable) ctx.out.note(`No ${messenger} link: ${reason}`)
    })

  contacts.command('rm <names...>').alias('remove').description('remove contacts')
    .action(async (names: string[], _options: object, command: Command) => {
      const ctx = contextOf(command)
      for (const name of names) {
        await ctx.call(ctx.api.DELETE('/v1/contacts/{name}', { params: { path: { name } } }))
        if (ctx.out.json) ctx.out.data({ removed: name })
        else ctx.out.line(`Removed contact ${name}`)
      }
    })

  addContactFileCommands(contacts)
  return contacts
}
