/**
 * The admin page in a real browser (Debian's chromium driven by
 * playwright-core) against a real, listening service: a person signs in with
 * HTTP Basic as a browser does, works the page, and the API then shows what
 * the page did. Assertions are on what the person sees and on the API's
 * state afterwards; every wait is for something to appear, none is timed.
 */
import t, { type Test } from 'tap'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { request } from 'undici'
import { client } from '../helpers/api.js'
import { ADMIN_KEY, AUTH_ENV, build, eventually } from '../helpers/app.js'
import { bearer, createUser } from '../helpers/auth.js'
import { startReceiver } from '../helpers/receiver.js'

type Json = Record<string, any>

const browser: Browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']
})
t.teardown(() => browser.close())

interface Opened { page: Page, context: BrowserContext, dialogs: string[] }

/**
 * A fresh browser profile at /admin, signed in with these Basic credentials
 * (if any). It records every dialog that opens, and an error the page's
 * script throws fails the test.
 */
async function open (t: Test, base: string, credentials?: { username: string, password: string }): Promise<Opened> {
  const context = await browser.newContext({ ...(credentials !== undefined && { httpCredentials: credentials }) })
  t.teardown(() => context.close())
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  const dialogs: string[] = []
  page.on('dialog', (dialog) => { dialogs.push(dialog.message()); void dialog.dismiss() })
  page.on('pageerror', (error) => { t.fail(`the page's script threw: ${error.message}`) })
  const res = await page.goto(`${base}/admin`)
  t.equal(res?.status(), 200, 'the page opens')
  return { page, context, dialogs }
}

/** Waits until the page's message line says `text` (the API's error message, or what was done). */
async function says (page: Page, text: string): Promise<void> {
  await page.locator('#message').getByText(text, { exact: false }).waitFor()
}

const rowOf = (page: Page, table: string, text: string) => page.locator(`#${table}-rows tr`, { hasText: text })

const XSS = '<img src=x onerror=alert(1)>'

t.test('with authentication on', async (t) => {
  const { app, mock } = await build(t, { env: AUTH_ENV })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const alice = await createUser(app, 'alice')
  const asAlice = client(app, { headers: bearer(alice.key) })
  /** A new user, their API client, and their page signed in, on their empty book. */
  const newUserPage = async (t: Test, name: string) => {
    const user = await createUser(app, name)
    const opened = await open(t, base, { username: name, password: user.key })
    await opened.page.getByText('No contacts yet.').waitFor()
    return { api: client(app, { headers: bearer(user.key) }), ...opened }
  }

  t.test('without credentials: a 401 with a Basic challenge, for the page and its files', async (t) => {
    for (const path of ['/admin', '/admin/app.js', '/admin/app.css']) {
      const res = await request(`${base}${path}`)
      t.equal(res.statusCode, 401, `${path}: 401`)
      t.match(res.headers['www-authenticate'], /^Basic realm=/, `${path}: Basic first, so a browser asks for a name and key`)
      t.equal((await res.body.json() as Json).error.code, 'UNAUTHENTICATED')
    }
    const page = await request(`${base}/admin`, { headers: bearer(alice.key) })
    t.equal(page.statusCode, 200)
    // Spelled out, not imported from the route: a weakened policy must fail here.
    const csp = String(page.headers['content-security-policy'])
    for (const directive of ["default-src 'none'", "script-src 'self';", "style-src 'self';", "connect-src 'self';", "frame-ancestors 'none'", "base-uri 'none'"]) {
      t.ok(csp.includes(directive), `the page's CSP has ${directive}`)
    }
    t.notMatch(csp, /unsafe|\*|data:/, 'and allows no inline code, wildcard or data: source')
    t.match(page.headers, { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' })
    t.match(await page.body.text(), /<body data-role="user" data-user="alice">/)
  })

  t.test('a user adds a contact, sends to it, sees the Viber delivery fail and re-drives it', async (t) => {
    const { page, dialogs } = await open(t, base, { username: 'alice', password: alice.key })
    await page.getByText('Signed in as alice').waitFor()
    await page.getByText('No contacts yet.').waitFor()

    const form = page.locator('#contact-form')
    await form.getByLabel('Name').fill('Lera')
    await form.getByLabel('Telegram').fill('123456789')
    await form.getByLabel('Viber').fill('lera-viber-id')
    await form.getByLabel('Tags').fill('team, family')
    await form.getByRole('button', { name: 'Add contact' }).click()
    await says(page, 'Contact Lera added')
    t.match(await rowOf(page, 'contacts', 'Lera').innerText(), /Lera\s+123456789\s+lera-viber-id\s+team, family/, 'the new contact is listed')
    t.same((await asAlice('GET', '/v1/contacts/Lera')).json(), {
      name: 'Lera', telegram: '123456789', viber: 'lera-viber-id', tags: ['team', 'family'], health: { telegram: { reachable: true }, viber: { reachable: true } }
    }, 'the API has the contact as entered')

    // The API's error message reaches the person: the same name again is refused.
    await form.getByLabel('Name').fill('Lera')
    await form.getByRole('button', { name: 'Add contact' }).click()
    const refusal = (await asAlice('POST', '/v1/contacts', { name: 'Lera' })).json().error.message as string
    await says(page, refusal)
    t.equal(await page.getByRole('alert').innerText(), refusal, 'the API\'s error message is shown')

    await page.getByLabel('Send to Lera').check()
    await page.locator('#send-form').getByLabel('Text').fill('Standup in 5')
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    await says(page, 'Sending: 2 deliveries')

    // The failed list is what the deliveries table opens on; the mock's Viber always fails.
    t.equal(await page.locator('#delivery-state').inputValue(), 'failed', 'the deliveries open on the failed ones')
    const viberRow = rowOf(page, 'deliveries', 'lera-viber-id')
    await eventually(async () => {
      await page.locator('#deliveries-refresh').click()
      return await viberRow.count() === 1
    }, 'the Viber delivery in the failed list')
    t.match(await viberRow.innerText(), /Lera\s+viber\s+lera-viber-id\s+failed\s+1\s+viber 6: receiverNotSubscribed/,
      'messenger, address, state, attempts and last error')
    t.equal(await rowOf(page, 'deliveries', '123456789').count(), 0, 'the Telegram delivery is not among the failed')

    const failed = (await asAlice('GET', '/v1/deliveries?state=failed')).json().deliveries as Json[]
    t.equal(failed.length, 1)
    const viberDelivery = failed[0]!
    t.match(viberDelivery, { messenger: 'viber', address: 'lera-viber-id', state: 'failed', text: 'Standup in 5' })

    await viberRow.getByRole('button', { name: 'Re-drive' }).click()
    await says(page, 'viber to lera-viber-id: queued again')
    // The redriven delivery went to the messenger again, and failed again (the mock's Viber always fails).
    await eventually(async () => (await mock.received({ messenger: 'viber', recipient: 'lera-viber-id' })).count === 2, 'a second Viber send')
    const again = await eventually(async () => {
      const delivery = (await asAlice('GET', `/v1/deliveries/${viberDelivery.id}`)).json()
      return delivery.state === 'failed' && delivery.updated_at !== viberDelivery.updated_at && delivery
    }, 'the redriven delivery to fail again')
    t.equal(again.attempts, 1, 'with a fresh attempt budget')

    await page.locator('#dispatches-refresh').click()
    const dispatchRow = rowOf(page, 'dispatches', 'Standup in 5')
    await dispatchRow.getByText('finished').waitFor()
    t.match(await dispatchRow.innerText(), /sent 1, failed 1/, 'the dispatch with its counts')

    // A send for later, cancelled from the page.
    await page.getByLabel('Send to Lera').check()
    await page.locator('#send-form').getByLabel('Text').fill('Next year')
    await page.locator('#send-form').getByLabel('Send at').fill(`${new Date().getFullYear() + 1}-01-01T09:00`)
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    await says(page, 'Scheduled: 2 deliveries')
    await page.locator('#delivery-state').selectOption('scheduled')
    const scheduledRow = rowOf(page, 'deliveries', 'lera-viber-id')
    await scheduledRow.waitFor()
    await scheduledRow.getByRole('button', { name: 'Cancel' }).click()
    await says(page, 'viber to lera-viber-id: cancelled')
    const deliveries = (await asAlice('GET', '/v1/deliveries?messenger=viber')).json().deliveries as Json[]
    t.same(deliveries.map((d) => [d.text, d.state]), [['Next year', 'cancelled'], ['Standup in 5', 'failed']], 'the API shows the cancel')

    // The Viber failures (status 6, not subscribed) marked Lera's Viber id dead: her health says so, a send that skips dead addresses skips it.
    await rowOf(page, 'contacts', 'Lera').getByRole('button', { name: 'Health' }).click()
    const health = page.locator('#contacts-rows tr.health')
    await health.getByText('viber: unreachable').waitFor()
    t.match(await health.innerText(), /telegram: reachable\s+viber: unreachable, not_subscribed \(6\); 2 failures, last /, 'the contact\'s health, per messenger')
    await page.getByLabel('Send to Lera').check()
    await page.locator('#send-form').getByLabel('Text').fill('Not to the dead')
    await page.locator('#send-form').getByLabel('Skip dead addresses').check()
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    await says(page, 'Sending: 2 deliveries; 1 suppressed')
    const skipped = (await asAlice('GET', '/v1/deliveries?state=suppressed')).json().deliveries as Json[]
    t.match(skipped, [{ messenger: 'viber', text: 'Not to the dead', reason: 'address_unreachable' }], 'the Viber delivery was not sent')
    await health.getByRole('button', { name: 'Reset viber' }).click()
    await says(page, 'Lera on viber: will be sent to again')
    await health.getByText('viber: reachable').waitFor()
    t.same((await asAlice('GET', '/v1/contacts/Lera')).json().health, { telegram: { reachable: true }, viber: { reachable: true } }, 'the reset reached the API')

    // Skipping by default is the user's setting: the page sets it, the API and a reloaded page show it in the send form's box.
    const sendForm = page.locator('#send-form')
    t.notOk(await sendForm.getByLabel('Skip dead addresses:').isChecked(), 'the box was reset after the send')
    await sendForm.getByLabel('Skip them by default').check()
    await says(page, 'Sends skip dead addresses unless they say otherwise')
    t.match((await asAlice('GET', '/v1/settings')).json(), { skip_unreachable: true }, 'the setting reached the API')
    t.ok(await sendForm.getByLabel('Skip dead addresses:').isChecked(), 'the send form\'s box follows it')
    await page.reload()
    await sendForm.getByLabel('Skip dead addresses:').and(page.locator(':checked')).waitFor()
    await sendForm.getByLabel('Skip them by default').uncheck()
    await says(page, 'Sends go to dead addresses too unless they say otherwise')
    t.match((await asAlice('GET', '/v1/settings')).json(), { skip_unreachable: false })

    // A contact whose name is markup shows as text, and nothing runs.
    await form.getByLabel('Name').fill(XSS)
    await form.getByLabel('Telegram').fill('42')
    await form.getByRole('button', { name: 'Add contact' }).click()
    await says(page, `Contact ${XSS} added`)
    await page.locator('#contacts-rows').getByText(XSS, { exact: true }).waitFor()
    t.equal(await page.locator('img').count(), 0, 'no image element was made of it')
    await rowOf(page, 'contacts', XSS).getByRole('button', { name: 'Delete' }).click()
    await says(page, `Contact ${XSS} deleted`)
    t.equal((await asAlice('GET', `/v1/contacts/${encodeURIComponent(XSS)}`)).statusCode, 404, 'the API no longer has it')
    t.same(dialogs, [], 'no dialog opened')
  })

  t.test('a contact with a time zone and an operator; a send to one operator in each contact\'s local hours is held', async (t) => {
    const { api: asFiona, page, dialogs } = await newUserPage(t, 'fiona')
    const form = page.locator('#contact-form')
    for (const [name, telegram, operator] of [['Olga', '700001', 'RU-Beeline'], ['Pavel', '700002', 'RU-MTS']] as const) {
      await form.getByLabel('Name').fill(name)
      await form.getByLabel('Telegram').fill(telegram)
      await form.getByLabel('Time zone').fill('UTC')
      await form.getByLabel('Operator').fill(operator)
      await form.getByRole('button', { name: 'Add contact' }).click()
      await says(page, `Contact ${name} added`)
    }
    t.match(await rowOf(page, 'contacts', 'Olga').innerText(), /Olga\s+700001\s+UTC\s+RU-Beeline/, 'the table shows the zone and the operator')
    t.same((await asFiona('GET', '/v1/contacts/Olga')).json(), { name: 'Olga', telegram: '700001', timezone: 'UTC', operator: 'RU-Beeline', health: { telegram: { reachable: true } } })

    const send = page.locator('#send-form')
    await send.getByLabel('Text').fill('In your hours')
    await send.getByLabel('Only operators').fill('RU-Beeline')
    await send.getByLabel('Local hours from').fill('09:00')
    await send.getByRole('button', { name: 'Send', exact: true }).click()
    await says(page, 'Local hours: give both from and to, or neither')
    // Closed now in UTC, opening in two hours.
    const opens = Date.now() + 2 * 3_600_000
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16)
    await send.getByLabel('Local hours from').fill(hhmm(opens))
    await send.getByLabel('Local hours to').fill(hhmm(opens + 3_600_000))
    await send.getByRole('button', { name: 'Send', exact: true }).click()
    await says(page, 'Scheduled: 1 deliveries')
    const [dispatch] = (await asFiona('GET', '/v1/dispatches')).json().dispatches as Json[]
    t.match(dispatch, { text: 'In your hours', status: 'scheduled', local_window: { from: hhmm(opens), to: hhmm(opens + 3_600_000) } })
    const deliveries = (await asFiona('GET', `/v1/deliveries?dispatch=${dispatch!.id}`)).json().deliveries as Json[]
    t.match(deliveries, [{ contact: 'Olga', state: 'scheduled', due_at: String }], 'Olga only (Pavel is on another operator), held for her hours')
    t.equal(deliveries.length, 1)
    t.same(dialogs, [])
  })

  t.test('a user imports a CSV file and sees each row\'s result; all or nothing writes none; known names left in mode create', async (t) => {
    const { api: asErin, page, dialogs } = await newUserPage(t, 'erin')
    const form = page.locator('#import-form')
    const importFile = async (name: string, csv: string) => {
      await form.getByLabel('CSV file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(csv) })
      await form.getByRole('button', { name: 'Import' }).click()
    }
    const reportLines = async () => await Promise.all((await page.locator('#import-rows tr').all()).map(async (row) => await row.locator('td').allInnerTexts()))

    await importFile('book.csv', 'name,telegram,whatsapp,tags\nArtem,ArtemZaitsev,+799200828615,family;team\nBad phone,,12345,\nLera,@lera_b,,team\nArtem,42,,\n')
    await says(page, 'Imported book.csv: 4 rows: 2 created, 0 updated, 0 unchanged, 2 failed')
    const phoneProblem = (await asErin('POST', '/v1/contacts', { name: 'x', whatsapp: '12345' })).json().error.details[0].message as string
    t.same(await reportLines(), [
      ['1', 'created', '', '', ''],
      ['2', 'failed', 'Bad phone', 'whatsapp', `INVALID_FIELD: ${phoneProblem}`],
      ['3', 'created', '', '', ''],
      ['4', 'failed', 'Artem', 'name', 'DUPLICATE_NAME: "Artem" is in row 1 too; a name may be in one row only']
    ], 'each row: written, or its error naming the field, with the message a single create gives')
    await rowOf(page, 'contacts', 'Lera').waitFor()
    t.match(await rowOf(page, 'contacts', 'Artem').innerText(), /Artem\s+ArtemZaitsev\s+\+799200828615\s+family, team/, 'the book on the page has the good rows')
    t.same((await asErin('GET', '/v1/contacts')).json().contacts, [
      { name: 'Artem', telegram: 'ArtemZaitsev', whatsapp: '+799200828615', tags: ['family', 'team'] },
      { name: 'Lera', telegram: '@lera_b', tags: ['team'] }
    ], 'the API has the good rows, the first Artem, and nothing of the bad ones')

    await form.getByLabel('All or nothing').check()
    await importFile('more.csv', 'name,telegram\nNew,1001\nWorse,bad id!\n')
    await says(page, '1 of 2 rows failed, so nothing was written')
    t.match(await page.getByRole('alert').innerText(), /^1 of 2 rows failed, so nothing was written/, 'the API\'s refusal is shown as an error')
    t.equal(await page.locator('#import-summary').innerText(), 'more.csv: nothing written (all or nothing); 2 rows: 0 created, 0 updated, 0 unchanged, 1 failed')
    const lines = await reportLines()
    t.match(lines, [['2', 'failed', 'Worse', 'telegram', /^INVALID_FIELD: /]], 'the failed row, naming its field')
    t.equal(lines.length, 1)
    t.equal((await asErin('GET', '/v1/contacts/New')).statusCode, 404, 'the good row was not written either')

    await form.getByLabel('All or nothing').uncheck()
    await form.getByLabel('Known names').selectOption('create')
    await importFile('again.csv', 'name,viber\nLera,lera-viber\nNina,nina-viber\n')
    await says(page, 'Imported again.csv: 2 rows: 1 created, 0 updated, 0 unchanged, 1 failed')
    t.same(await reportLines(), [
      ['1', 'failed', 'Lera', 'name', 'CONTACT_EXISTS: a contact named "Lera" exists; mode upsert replaces it'],
      ['2', 'created', '', '', '']
    ])
    t.same((await asErin('GET', '/v1/contacts/Lera')).json(), { name: 'Lera', telegram: '@lera_b', tags: ['team'], health: { telegram: { reachable: true } } }, 'Lera as she was')
    await rowOf(page, 'contacts', 'Nina').waitFor()
    t.same(dialogs, [])
  })

  t.test('a user adds a status webhook endpoint (its secret shown once), sends it a test event, sees the failed attempt and retries it', async (t) => {
    const receiver = await startReceiver(t)
    receiver.answer(500)
    const { page, dialogs } = await open(t, base, { username: 'alice', password: alice.key })
    await page.getByText('Signed in as alice').waitFor()
    await page.getByText('No endpoints yet.').waitFor()

    const form = page.locator('#endpoint-form')
    await form.getByLabel('URL').fill(`${receiver.url}/hooks`)
    await form.getByRole('button', { name: 'Add endpoint' }).click()
    await says(page, `Endpoint ${receiver.url}/hooks added`)
    const secret = await page.locator('#endpoint-secret-value').innerText()
    t.match(secret, /^whsec_/, 'the signing secret is shown once')
    await page.locator('#endpoint-secret').getByRole('button', { name: 'Done' }).click()
    t.equal(await page.locator('#endpoint-secret-value').innerText(), '', 'and is gone once done with')
    const [endpoint] = (await asAlice('GET', '/v1/webhooks')).json().endpoints as Json[]
    t.match(endpoint, { url: `${receiver.url}/hooks`, enabled: true, events: ['delivery.sent', 'delivery.delivered', 'delivery.read', 'delivery.failed', 'delivery.expired', 'delivery.cancelled', 'dispatch.finished', 'contact.connected'] })

    const row = rowOf(page, 'endpoints', `${receiver.url}/hooks`)
    await row.getByRole('button', { name: 'Test' }).click()
    await says(page, 'Test event queued')
    await eventually(async () => (await asAlice('GET', `/v1/webhooks/${endpoint!.id as string}/attempts`)).json().attempts.length > 0, 'the test event\'s attempt')
    await row.getByRole('button', { name: 'Attempts' }).click()
    const failed = rowOf(page, 'attempts', '500')
    await failed.waitFor()
    t.match(await failed.innerText(), /webhook\.test[\s\S]*answered 500/, 'the attempt shows its event, status and error')

    receiver.answer(200)
    await failed.getByRole('button', { name: 'Retry' }).click()
    await says(page, 'webhook.test queued again')
    const requests = await receiver.until((r) => r.length >= 2, 10_000, 'the retry')
    t.equal(requests[1]!.headers['webhook-id'], requests[0]!.headers['webhook-id'], 'the retry carries the same webhook-id')
    await eventually(async () => (await asAlice('GET', `/v1/webhooks/${endpoint!.id as string}/attempts`)).json().attempts.some((a: Json) => a.ok), 'the retry\'s attempt')
    await row.getByRole('button', { name: 'Attempts' }).click()
    await rowOf(page, 'attempts', '200').waitFor()
    t.same(dialogs, [])
  })

  t.test('another user\'s page shows none of the first user\'s data', async (t) => {
    const bob = await createUser(app, 'bob')
    const { page } = await open(t, base, { username: 'bob', password: bob.key })
    await page.getByText('Signed in as bob').waitFor()
    await page.getByText('No contacts yet.').waitFor()
    await page.getByText('No dispatches yet.').waitFor()
    await page.locator('#delivery-state').selectOption('')
    await page.getByText('No deliveries in this state.').waitFor()
    await page.getByText('No endpoints yet.').waitFor()
    const seen = await page.locator('body').innerText()
    for (const text of ['Lera', 'Standup in 5', 'lera-viber-id', '123456789', 'alice', '/hooks']) t.notOk(seen.includes(text), `bob's page does not show "${text}"`)

    // With Bob's credentials, naming Alice gets nothing either.
    const asBobForAlice = await request(`${base}/v1/contacts`, { headers: { ...bearer(bob.key), 'x-user-name': 'alice' } })
    t.equal(asBobForAlice.statusCode, 403)
    await asBobForAlice.body.dump()
  })

  t.test('the administrator creates a user and issues keys shown once; the keys work, a revoked one does not', async (t) => {
    const { page, dialogs } = await open(t, base, { username: 'admin', password: ADMIN_KEY })
    await page.getByText('Signed in as the administrator').waitFor()
    await rowOf(page, 'users', 'alice').waitFor()

    const form = page.locator('#user-form')
    await form.getByLabel('Name').fill('carol')
    await form.getByLabel('Key label').fill('laptop')
    await form.getByRole('button', { name: 'Create user' }).click()
    await says(page, 'User carol created')
    await page.locator('#new-key').getByText('it is not shown again').waitFor()
    const key = await page.locator('#new-key-value').innerText()
    t.match(key, /^fo_/, 'the new key is shown')
    // Cell by cell: a regular expression over the row could take a digit of the creation time for the count.
    const carolCells = await rowOf(page, 'users', 'carol').locator('td').allInnerTexts()
    t.same([carolCells[0], carolCells[2]], ['carol', '1'], 'carol is listed with one active key')
    t.equal((await client(app, { headers: bearer(key) })('GET', '/v1/contacts')).statusCode, 200, 'the key shown works against the API')

    await page.getByRole('button', { name: 'Done' }).click()
    t.equal(await page.locator('#new-key-value').innerText(), '', 'and is gone once done with')

    // A second key for carol, then revoked from the keys table.
    await page.locator('#key-form').getByLabel('Label').fill('phone')
    await page.getByRole('button', { name: 'Issue a key' }).click()
    await page.locator('#new-key').getByText('it is not shown again').waitFor()
    const second = await page.locator('#new-key-value').innerText()
    t.equal((await client(app, { headers: bearer(second) })('GET', '/v1/contacts')).statusCode, 200, 'the second key works')
    await rowOf(page, 'keys', 'phone').getByRole('button', { name: 'Revoke' }).click()
    await says(page, 'of carol revoked')
    t.equal((await client(app, { headers: bearer(second) })('GET', '/v1/contacts')).statusCode, 401, 'the revoked key no longer works')
    t.equal((await client(app, { headers: bearer(key) })('GET', '/v1/contacts')).statusCode, 200, 'the first one still does')
    t.equal(await rowOf(page, 'keys', 'phone').getByRole('button', { name: 'Revoke' }).isDisabled(), true, 'a revoked key cannot be revoked again')
    t.same(dialogs, [])
  })
})

t.test('with authentication off, the page asks for a user name and then works', async (t) => {
  const { app } = await build(t)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const { page, dialogs } = await open(t, base)
  await page.getByText('Which user?').waitFor()
  await page.getByLabel('User name').fill('dora')
  await page.getByRole('button', { name: 'Open' }).click()
  await page.getByText('Acting as dora').waitFor()

  const form = page.locator('#contact-form')
  await form.getByLabel('Name').fill('Artem')
  await form.getByLabel('WhatsApp').fill('+15551234567')
  await form.getByRole('button', { name: 'Add contact' }).click()
  await says(page, 'Contact Artem added')
  t.same((await client(app, { user: 'dora' })('GET', '/v1/contacts')).json().contacts, [{ name: 'Artem', whatsapp: '+15551234567' }],
    'the contact is in dora\'s book')

  await page.reload()
  await rowOf(page, 'contacts', 'Artem').waitFor()
  t.match(await page.locator('#who').innerText(), /Acting as dora/, 'the name is kept across reloads')
  t.same(dialogs, [])
})
