/**
 * The admin page's live progress in a real browser (Debian's chromium driven
 * by playwright-core) against a real, listening service: a dispatch's bars
 * move while it is being sent and the failed list fills as Viber's failures
 * come in, with no click on Refresh and no polling by the page (its only
 * requests after the send are the event stream and the deliveries reloads
 * that stream's events ask for). The mock's Telegram and Viber answer slowly,
 * one send at a time, so the dispatch takes seconds. Screenshots of the
 * dispatch in progress and finished go to .tap/screenshots/ (the test prints
 * where).
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import t, { type Test } from 'tap'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { addContacts, client } from '../helpers/api.js'
import { AUTH_ENV, build, eventually } from '../helpers/app.js'
import { bearer, createUser } from '../helpers/auth.js'
import type { TestMock } from '../helpers/mock.js'

const CONTACTS = 12
const SCREENSHOTS = resolve('.tap/screenshots/admin-page-live')
mkdirSync(SCREENSHOTS, { recursive: true })

const browser: Browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']
})
t.teardown(() => browser.close())

/** Slow enough to watch: Telegram 300-600 ms a send, Viber (which always fails) 200-400 ms, one send at a time each. */
const SLOW_ENV = { TELEGRAM_CONCURRENCY: '1', VIBER_CONCURRENCY: '1' }
async function slowDown (mock: TestMock): Promise<void> {
  await mock.behave('telegram', { latencyMs: [300, 600] })
  await mock.behave('viber', { latencyMs: [200, 400] })
}

const team = Array.from({ length: CONTACTS }, (_, i) => ({ name: `c${i}`, telegram: String(1000 + i), viber: `viber-${i}`, tags: ['team'] }))

/** A fresh browser profile at /admin; it records the page's API requests, and an error its script throws fails the test. */
async function open (t: Test, base: string, credentials?: { username: string, password: string }): Promise<{ page: Page, requests: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...(credentials !== undefined && { httpCredentials: credentials }) })
  t.teardown(() => context.close())
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  const requests: string[] = []
  page.on('request', (req) => {
    const url = new URL(req.url())
    if (url.pathname.startsWith('/v1/')) requests.push(`${req.method()} ${url.pathname}${url.search}`)
  })
  page.on('pageerror', (error) => { t.fail(`the page's script threw: ${error.message}`) })
  await page.goto(`${base}/admin`)
  return { page, requests }
}

/** The figures beside a row's bars: the overall "n/24 done", then "telegram n/12" and so on. */
async function bars (row: Locator): Promise<string[]> {
  return await row.locator('.bar-line .bar-text').allInnerTexts()
}
const doneOf = (figures: string[]) => Number(/^(\d+)\//.exec(figures[0] ?? '')?.[1] ?? NaN)

async function sendToTeam (page: Page, text: string): Promise<Locator> {
  await page.locator('#send-form').getByLabel('Text').fill(text)
  await page.locator('#send-form').getByLabel('Tags').fill('team')
  await page.getByRole('button', { name: 'Send', exact: true }).click()
  await page.locator('#message').getByText(`Sending: ${2 * CONTACTS} deliveries`).waitFor()
  const row = page.locator('#dispatches-rows tr', { hasText: text })
  await row.waitFor()
  return row
}

t.test('with authentication on: the bars move while the dispatch is sent, the failed list fills, then finished', async (t) => {
  const { app, mock } = await build(t, { env: { ...AUTH_ENV, ...SLOW_ENV } })
  await slowDown(mock)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const alice = await createUser(app, 'alice')
  await addContacts(client(app, { headers: bearer(alice.key) }), team)

  const { page, requests } = await open(t, base, { username: 'alice', password: alice.key })
  await page.getByText('No dispatches yet.').waitFor()
  t.equal(await page.locator('#delivery-state').inputValue(), 'failed', 'the deliveries table shows the failed ones')
  const beforeSend = requests.length
  const row = await sendToTeam(page, 'Standup in 5')
  const failedRows = page.locator('#deliveries-rows tr')

  // Under way: part done, and moving. Each read is of the page as it stands; nothing is clicked.
  const first = await eventually(async () => {
    const figures = await bars(row)
    const done = doneOf(figures)
    return done > 0 && done < 2 * CONTACTS && await failedRows.count() > 0 && figures
  }, 'the bar part done, with failures listed', 30_000)
  const firstFailed = await failedRows.count()
  const shot = join(SCREENSHOTS, 'in-progress.png')
  await page.screenshot({ path: shot, fullPage: true })
  t.comment(`screenshot of the dispatch in progress: ${shot}`)
  t.comment(`in progress: ${first.join(' | ')}; ${firstFailed} failed listed`)
  t.match(first, [/^\d+\/24 done$/, /^telegram \d+\/12$/, /^viber \d+\/12$/], 'an overall bar and one per messenger, with their figures')
  t.equal(await row.locator('td').nth(2).innerText(), 'in_progress', 'the status says it is being sent')
  t.match(await row.getAttribute('class'), /\blive\b/, 'the row is marked live')
  t.match(await row.locator('.progress').first().getAttribute('aria-label'), /^\d+ of 24 done: .*pending \d+/, 'the bar says what it shows')

  const later = await eventually(async () => {
    const figures = await bars(row)
    const done = doneOf(figures)
    return done > doneOf(first) && done < 2 * CONTACTS && figures
  }, 'the bar to move on before the end', 30_000)
  t.comment(`later: ${later.join(' | ')}`)
  t.ok(doneOf(later) > doneOf(first), `the counts in the bar changed while the dispatch ran (${doneOf(first)} then ${doneOf(later)} of 24 done)`)

  // Finished: full bars, the status, the whole failed list.
  await row.locator('td').nth(2).getByText('finished', { exact: true }).waitFor({ timeout: 30_000 })
  await eventually(async () => await failedRows.count() === CONTACTS, 'every Viber failure in the failed list', 30_000)
  t.ok(firstFailed < CONTACTS, `the failed list filled as failures came in (${firstFailed} listed while sending, then ${CONTACTS})`)
  const last = join(SCREENSHOTS, 'finished.png')
  await page.screenshot({ path: last, fullPage: true })
  t.comment(`screenshot of the dispatch finished: ${last}`)
  t.same(await bars(row), ['24/24 done', 'telegram 12/12', 'viber 12/12'], 'every bar full')
  t.equal(await row.locator('.progress').first().getAttribute('aria-label'), '24 of 24 done: sent 12, failed 12', 'sent 12, failed 12')
  t.match(await row.innerText(), /sent 12, failed 12/, 'the counts column agrees')
  t.notMatch(await row.getAttribute('class') ?? '', /\blive\b/, 'no longer live')
  t.match(await failedRows.first().innerText(), /viber\s+viber-\d+\s+failed\s+1\s+viber 6: receiverNotSubscribed/, 'the failed rows say why')

  // The moves came from the stream: one event stream, the list of dispatches fetched only once after the send, no Refresh.
  const after = requests.slice(beforeSend)
  const streams = after.filter((r) => r.includes('/events'))
  t.match(streams, [/^GET \/v1\/dispatches\/\w+\/events$/], 'one event stream, opened once, with no user in its URL (the Basic credentials name her)')
  t.equal(after.filter((r) => r.startsWith('GET /v1/dispatches?')).length, 1, 'the dispatches were fetched once, when the send was accepted, and not again')
  t.ok(after.filter((r) => r.startsWith('GET /v1/deliveries?')).length >= 2, 'the failed list was reloaded as events said failures came in')
  t.equal(app.dispatchEvents.open, 0, 'the stream is closed once the dispatch is finished')
})

t.test('with authentication off, the page names its user in the stream\'s URL and moves the same way', async (t) => {
  const { app, mock } = await build(t, { env: SLOW_ENV })
  await slowDown(mock)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  await addContacts(client(app, { user: 'dora' }), team)

  const { page, requests } = await open(t, base)
  await page.getByLabel('User name').fill('dora')
  await page.getByRole('button', { name: 'Open' }).click()
  await page.getByText('No dispatches yet.').waitFor()
  const row = await sendToTeam(page, 'Lunch at 1')
  const seen = new Set<number>()
  await eventually(async () => {
    const done = doneOf(await bars(row))
    if (done > 0 && done < 2 * CONTACTS) seen.add(done)
    return done === 2 * CONTACTS
  }, 'the bar to fill', 30_000)
  t.ok(seen.size >= 2, `the bar showed ${seen.size} different counts on its way (${[...seen].join(', ')} of 24 done)`)
  await row.locator('td').nth(2).getByText('finished', { exact: true }).waitFor()
  t.match(requests.filter((r) => r.includes('/events')), [/^GET \/v1\/dispatches\/\w+\/events\?user=dora$/], 'the stream names dora')
})
