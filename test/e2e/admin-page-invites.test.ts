/**
 * The admin page's invite links in a real browser (Debian's chromium driven
 * by playwright-core) against a listening service: a contact added with a
 * name only, its links and QR codes, the person connecting on Telegram (the
 * webhook, as Telegram calls it), and the page showing who is connected.
 */
import t from 'tap'
import { chromium } from 'playwright-core'
import { client } from '../helpers/api.js'
import { AUTH_ENV, build } from '../helpers/app.js'
import { bearer, createUser } from '../helpers/auth.js'

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']
})
t.teardown(() => browser.close())

t.test('a contact\'s invite links with QR codes, and which messengers are connected', async (t) => {
  const { app } = await build(t, { env: { ...AUTH_ENV, TELEGRAM_BOT_USERNAME: 'fanout_mock_bot', WHATSAPP_BUSINESS_NUMBER: '+15550001111', TELEGRAM_WEBHOOK_SECRET: 'page-secret' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const alice = await createUser(app, 'alice')
  const asAlice = client(app, { headers: bearer(alice.key) })
  const context = await browser.newContext({ httpCredentials: { username: 'alice', password: alice.key } })
  t.teardown(() => context.close())
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  page.on('pageerror', (error) => { t.fail(`the page's script threw: ${error.message}`) })
  await page.goto(`${base}/admin`)

  const form = page.locator('#contact-form')
  await form.getByLabel('Name').fill('Lera')
  await form.getByRole('button', { name: 'Add contact' }).click()
  await page.locator('#message').getByText('Contact Lera added').waitFor()
  await page.locator('#contacts-rows tr', { hasText: 'Lera' }).getByRole('button', { name: 'Invite' }).click()
  await page.locator('#message').getByText('Invite links for Lera made').waitFor()

  const panel = page.locator('#invite')
  t.equal(await panel.locator('h3').innerText(), 'Invite links for Lera')
  const telegram = await panel.getByRole('link', { name: /^https:\/\/t\.me\/fanout_mock_bot\?start=/ }).getAttribute('href')
  t.match(telegram, /^https:\/\/t\.me\/fanout_mock_bot\?start=[A-Za-z0-9_-]{32}$/)
  t.equal(await panel.getByRole('link', { name: /^https:\/\/wa\.me\/15550001111\?text=invite%3A/ }).count(), 1)
  t.equal(await panel.getByRole('img', { name: 'Telegram QR code' }).count(), 1, 'a QR code per link')
  t.ok(await panel.getByRole('img', { name: 'WhatsApp QR code' }).locator('path').count() > 0, 'drawn')
  t.match(await panel.innerText(), /No link: VIBER_CHAT_URI is not set/, 'a messenger without its setting says why')
  t.match(await page.locator('#invite-connected').innerText(), /Telegram: not connected · WhatsApp: not connected · Viber: not connected/)

  // The person opens the Telegram link: Telegram sends the bot /start <token>.
  const token = new URL(telegram!).searchParams.get('start')
  const res = await app.inject({
    method: 'POST',
    url: '/webhooks/telegram',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'page-secret' },
    payload: JSON.stringify({ update_id: 1, message: { message_id: 1, chat: { id: 4242, type: 'private' }, date: 1, text: `/start ${token!}` } })
  })
  t.equal(res.json().method, 'sendMessage')
  await panel.getByRole('button', { name: 'Check connections' }).click()
  await page.locator('#invite-connected').getByText('Telegram: connected (4242)').waitFor()
  t.match(await page.locator('#invite-connected').innerText(), /Last connected by invite: Telegram 4242/)
  // The page reloads the book after it shows the connections: wait for the row to have it.
  const row = page.locator('#contacts-rows tr', { hasText: 'Lera' })
  await row.getByText('4242', { exact: true }).waitFor()
  t.match(await row.innerText(), /Lera\s+4242/, 'the table shows the new id')
  t.equal((await asAlice('GET', '/v1/contacts/Lera')).json().telegram, '4242')
})
