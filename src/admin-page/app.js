/*
 * The admin page's script: plain JavaScript as the browser runs it (no build
 * step, no framework). The server says who is signed in on <body>:
 *   data-role="user"      data-user=<user_name>  a user (HTTP Basic user_name:API key)
 *   data-role="admin"                            the administrator (HTTP Basic admin:<ADMIN_API_KEY>)
 *   data-role="anonymous"                        AUTH=off and no credentials: the page asks for a user
 *                                                name, keeps it in localStorage, sends it as X-User-Name
 * The browser sends its Basic credentials with the API calls by itself.
 * Every piece of data goes into the page as text (DOM nodes, textContent),
 * never as HTML. An API error shows its `error.message`.
 */
'use strict'

const role = document.body.dataset.role
const STORED_USER = 'fanout.userName'
/** The user the API calls act for (sent as X-User-Name); '' for the administrator. */
let userName = role === 'user' ? document.body.dataset.user : role === 'anonymous' ? (localStorage.getItem(STORED_USER) ?? '') : ''

const $ = (id) => document.getElementById(id)

/** An element with properties (never innerHTML) and children (strings become text nodes). */
function el (tag, props, ...children) {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children.map((child) => child ?? ''))
  return node
}
const cells = (...values) => values.map((value) => el('td', {}, value))
const button = (label, onclick, disabled = false) => el('button', { type: 'button', textContent: label, onclick, disabled })
const when = (iso) => iso === undefined ? '' : new Date(iso).toLocaleString()
const list = (text) => text.split(',').map((part) => part.trim()).filter((part) => part !== '')

function say (text, isError = false) {
  const box = $('message')
  box.textContent = text
  box.className = isError ? 'error' : 'ok'
  box.setAttribute('role', isError ? 'alert' : 'status')
  box.hidden = false
}

/** Runs something the person asked for; says `done` (text or a function of the result) when it worked, the error when not. */
async function act (what, done) {
  try {
    const result = await what()
    if (done !== undefined) say(typeof done === 'function' ? done(result) : done)
  } catch (err) {
    say(err.message, true)
  }
}

/** One request with the page's user; answers the response and its parsed JSON (null when it has none). */
async function call (method, path, body, contentType) {
  const headers = { accept: 'application/json' }
  if (userName !== '') headers['x-user-name'] = userName
  if (contentType !== undefined) headers['content-type'] = contentType
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined && { body }) })
  const text = await res.text()
  let data = null
  try { data = text === '' ? null : JSON.parse(text) } catch { data = null }
  return { res, data }
}

const failure = ({ res, data }) => new Error(data?.error?.message ?? `${res.status} ${res.statusText}`)

/** One API call; answers the parsed JSON, throws the API's error message. */
async function api (method, path, body) {
  const answer = body === undefined ? await call(method, path) : await call(method, path, JSON.stringify(body), 'application/json')
  if (!answer.res.ok) throw failure(answer)
  return answer.data
}

/**
 * A table filled page by page through the API's `next_cursor`: `reload()`
 * starts again from the first page, the "More" button adds the next one.
 * `name` is both the list's field in the answer and the prefix of its
 * elements' ids (`<name>-rows`, `<name>-empty`, `<name>-more`).
 */
function pagedTable ({ name, path, limit, query = () => ({}), row, loaded = () => {} }) {
  const rows = $(`${name}-rows`)
  let next
  let generation = 0
  async function load (fromStart) {
    const mine = fromStart ? ++generation : generation
    const params = new URLSearchParams({ limit: String(limit), ...query(), ...(!fromStart && next !== undefined && { cursor: next }) })
    const data = await api('GET', `${path}?${params}`)
    if (mine !== generation) return // a newer reload started meanwhile
    if (fromStart) rows.replaceChildren()
    rows.append(...data[name].map(row))
    next = data.next_cursor
    $(`${name}-more`).hidden = next === undefined
    $(`${name}-empty`).hidden = rows.childElementCount > 0
    loaded()
  }
  $(`${name}-more`).addEventListener('click', () => act(() => load(false)))
  return { reload: () => load(true) }
}

/** Submitting the form runs `what` with its fields; the form is cleared when it worked. */
function onSubmit (id, what, done) {
  const form = $(id)
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const fields = Object.fromEntries(new FormData(form))
    void act(async () => {
      const result = await what(fields)
      form.reset()
      return result
    }, done)
  })
}

// ---- a user's view: contacts, sending, dispatches, deliveries ----

/** One messenger's health as a line: reachable, or what the latest failure said, with a button that resets it. */
function healthLine (name, messenger, health, show) {
  if (health.reachable) return el('li', {}, `${messenger}: reachable`)
  const reset = button(`Reset ${messenger}`, () => act(async () => {
    show(await api('POST', `/v1/contacts/${encodeURIComponent(name)}/health/${messenger}/reset`))
  }, `${name} on ${messenger}: will be sent to again`))
  const times = health.count === 1 ? '1 failure' : `${health.count} failures`
  return el('li', { className: 'unreachable' }, `${messenger}: unreachable, ${health.reason} (${health.code}); ${times}, last ${when(health.at)} `, reset)
}

/** The contact's health (GET /v1/contacts/{name}) in a row under its own, shown or refreshed. */
async function showHealth (row, name) {
  const show = (contact) => {
    const lines = Object.entries(contact.health).map(([messenger, health]) => healthLine(name, messenger, health, show))
    const detail = el('tr', { className: 'health' }, el('td', { colSpan: 9 },
      lines.length === 0 ? 'No messenger address.' : el('ul', { className: 'health' }, ...lines)))
    detail.dataset.healthOf = name
    const shown = row.nextElementSibling
    if (shown?.dataset.healthOf === name) shown.replaceWith(detail)
    else row.after(detail)
  }
  show(await api('GET', `/v1/contacts/${encodeURIComponent(name)}`))
}

const contacts = pagedTable({
  name: 'contacts',
  path: '/v1/contacts',
  limit: 50,
  row: (contact) => {
    const pick = el('input', { type: 'checkbox', value: contact.name })
    pick.setAttribute('aria-label', `Send to ${contact.name}`)
    const fields = cells(contact.name, contact.telegram, contact.whatsapp, contact.viber, (contact.tags ?? []).join(', '), contact.timezone, contact.operator)
    const row = el('tr', {}, el('td', {}, pick), ...fields,
      el('td', {},
        button('Health', () => act(() => showHealth(row, contact.name))),
        button('Invite', () => act(() => showInvite(contact.name), `Invite links for ${contact.name} made`)),
        button('Delete', () => act(async () => {
          await api('DELETE', `/v1/contacts/${encodeURIComponent(contact.name)}`)
          await contacts.reload()
        }, `Contact ${contact.name} deleted`))))
    return row
  }
})

// ---- a contact's invite links: a link and a QR code per messenger, and which messengers are connected ----

const MESSENGER_NAMES = { telegram: 'Telegram', whatsapp: 'WhatsApp', viber: 'Viber' }
const SVG = 'http://www.w3.org/2000/svg'
let invited

/**
 * The QR code of the service's SVG (POST .../invites?qr=svg), drawn again as
 * SVG nodes of this page: only its viewBox and its paths' d, fill and stroke
 * are taken, so nothing of the answer goes in as markup.
 */
function qrCode (svgText, label) {
  const parsed = new DOMParser().parseFromString(svgText, 'image/svg+xml').documentElement
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', parsed.getAttribute('viewBox') ?? '0 0 1 1')
  svg.setAttribute('shape-rendering', 'crispEdges')
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', label)
  for (const source of parsed.querySelectorAll('path')) {
    const path = document.createElementNS(SVG, 'path')
    for (const name of ['d', 'fill', 'stroke']) if (source.hasAttribute(name)) path.setAttribute(name, source.getAttribute(name))
    svg.append(path)
  }
  return svg
}

/** Which messengers the contact has an id on, and the last connection by invite. */
async function showConnected (name) {
  const contact = await api('GET', `/v1/contacts/${encodeURIComponent(name)}`)
  const parts = Object.entries(MESSENGER_NAMES).map(([m, label]) => contact[m] === undefined ? `${label}: not connected` : `${label}: connected (${contact[m]})`)
  const last = contact.connections?.[0]
  $('invite-connected').textContent = parts.join(' · ') +
    (last === undefined ? '' : `. Last connected by invite: ${MESSENGER_NAMES[last.messenger]} ${last.id}, ${when(last.at)}${last.previous_id === undefined ? '' : ` (replaced ${last.previous_id})`}`)
}

async function showInvite (name) {
  const invite = await api('POST', `/v1/contacts/${encodeURIComponent(name)}/invites?qr=svg`)
  invited = name
  $('invite-title').textContent = `Invite links for ${name}`
  $('invite-expiry').textContent = `Each link connects the person who opens it, once, until ${when(invite.expires_at)}.`
  $('invite-links').replaceChildren(
    ...Object.entries(invite.links).map(([m, link]) => el('li', {}, el('strong', {}, MESSENGER_NAMES[m]),
      qrCode(link.qr_svg, `${MESSENGER_NAMES[m]} QR code`), el('a', { href: link.url, textContent: link.url }))),
    ...invite.unavailable.map(({ messenger, reason }) => el('li', {}, el('strong', {}, MESSENGER_NAMES[messenger]), `No link: ${reason}`)))
  $('invite').hidden = false
  await showConnected(name)
}

$('invite-check').addEventListener('click', () => act(async () => {
  await showConnected(invited)
  await contacts.reload()
}))
$('invite-close').addEventListener('click', () => { $('invite').hidden = true })

const PENDING = ['scheduled', 'queued', 'sending']

/** The segments of a progress bar, in the order drawn, and the states each stands for (the legend above the table names them). */
const SEGMENTS = [
  ['delivered', ['delivered', 'read']],
  ['sent', ['sent']],
  ['failed', ['failed']],
  ['other', ['cancelled', 'expired', 'suppressed']],
  ['pending', PENDING]
]
const sum = (counts, states) => states.reduce((n, state) => n + (counts[state] ?? 0), 0)

/**
 * One progress bar: a segment per kind of state, as wide as its share, and
 * the figures beside it as text ("5/12 done" or "telegram 5/12"), so the
 * numbers are readable without telling colours apart.
 */
function progressBar (label, counts) {
  const total = Object.values(counts).reduce((n, count) => n + count, 0)
  const pending = sum(counts, PENDING)
  const breakdown = SEGMENTS.map(([name, states]) => [name, sum(counts, states)])
  const bar = el('span', { className: 'progress' }, ...breakdown.map(([name, n]) => {
    const seg = el('span', { className: `seg seg-${name}`, hidden: n === 0 })
    // Through the CSSOM: the page's CSP refuses style attributes, not this.
    seg.style.flexGrow = String(n)
    return seg
  }))
  bar.setAttribute('role', 'img')
  const detail = breakdown.filter(([, n]) => n > 0).map(([name, n]) => `${name} ${n}`).join(', ')
  bar.setAttribute('aria-label', `${label === '' ? '' : `${label}: `}${total - pending} of ${total} done${detail === '' ? '' : `: ${detail}`}`)
  const figures = label === '' ? `${total - pending}/${total} done` : `${label} ${total - pending}/${total}`
  return el('div', { className: 'bar-line' }, bar, el('span', { className: 'bar-text' }, figures))
}

/** The cells of a dispatch's row, from the dispatch as the API shows it (the list, or an event of its stream). */
function dispatchCells (dispatch) {
  const counts = Object.entries(dispatch.counts).filter(([, n]) => n > 0).map(([state, n]) => `${state} ${n}`).join(', ')
  const messengers = Object.entries(dispatch.by_messenger ?? {})
  const progress = el('td', { className: 'progress-cell' }, progressBar('', dispatch.counts),
    // One bar per messenger only when there is more than one: a single one would repeat the overall bar.
    ...(messengers.length > 1 ? messengers.map(([messenger, byState]) => progressBar(messenger, byState)) : []))
  return [...cells(when(dispatch.created_at), dispatch.text, dispatch.status, when(dispatch.send_at), String(dispatch.total)),
    progress, el('td', {}, counts)]
}

const dispatches = pagedTable({
  name: 'dispatches',
  path: '/v1/dispatches',
  limit: 20,
  row: (dispatch) => {
    const tr = el('tr', {}, ...dispatchCells(dispatch))
    Object.assign(tr.dataset, { id: dispatch.id, status: dispatch.status, sendAt: dispatch.send_at })
    tr.shown = dispatch
    return tr
  },
  loaded: () => watchDispatches()
})

/**
 * Live progress: an EventSource on GET /v1/dispatches/{id}/events for each
 * dispatch being sent, newest first, at most MAX_LIVE at a time (a browser
 * opens only six HTTP/1.1 connections to a server, and the API calls need
 * some). Each event redraws the dispatch's row; a count moving in the state
 * the deliveries table shows reloads that table, so failures come in as they
 * happen without polling.
 */
const MAX_LIVE = 3
/** Dispatch id -> its open EventSource. */
const live = new Map()
/** Dispatches whose stream failed for good (gone, or no longer ours): not opened again until the page reloads. */
const unwatchable = new Set()
let nextWatch

const rowOfDispatch = (id) => document.querySelector(`#dispatches-rows tr[data-id="${CSS.escape(id)}"]`)

function watchDispatches () {
  clearTimeout(nextWatch)
  const now = Date.now()
  const rows = [...$('dispatches-rows').children]
  const wanted = rows.filter((tr) => tr.dataset.status !== 'finished' && Date.parse(tr.dataset.sendAt) <= now && !unwatchable.has(tr.dataset.id))
    .slice(0, MAX_LIVE).map((tr) => tr.dataset.id)
  for (const id of [...live.keys()]) if (!wanted.includes(id)) stopWatching(id)
  for (const id of wanted) if (!live.has(id)) startWatching(id)
  for (const tr of rows) tr.classList.toggle('live', live.has(tr.dataset.id))
  // A scheduled dispatch starts moving at its send_at: look again then (timers only reach about 24 days ahead).
  const soonest = Math.min(...rows.filter((tr) => tr.dataset.status !== 'finished').map((tr) => Date.parse(tr.dataset.sendAt)).filter((at) => at > now))
  if (soonest - now < 2 ** 31 - 1) nextWatch = setTimeout(watchDispatches, soonest - now + 500)
}

function startWatching (id) {
  const params = role === 'anonymous' ? `?${new URLSearchParams({ user: userName })}` : '' // an EventSource cannot send X-User-Name
  const source = new EventSource(`/v1/dispatches/${encodeURIComponent(id)}/events${params}`)
  live.set(id, source)
  const onEvent = (event) => {
    const dispatch = JSON.parse(event.data)
    showProgress(dispatch)
    if (dispatch.status === 'finished') {
      stopWatching(id)
      watchDispatches()
    }
  }
  source.addEventListener('progress', onEvent)
  source.addEventListener('finished', onEvent)
  // A lost stream reconnects by itself (with Last-Event-ID); a refused one (404, 401) is closed for good.
  source.addEventListener('error', () => {
    if (source.readyState !== EventSource.CLOSED) return
    unwatchable.add(id)
    stopWatching(id)
    watchDispatches()
  })
}

function stopWatching (id) {
  live.get(id)?.close()
  live.delete(id)
  rowOfDispatch(id)?.classList.remove('live')
}

/** Redraws the dispatch's row, and reloads the deliveries table if the state it shows moved since the row was drawn. */
function showProgress (dispatch) {
  const tr = rowOfDispatch(dispatch.id)
  if (tr === null) return
  const before = tr.shown
  tr.replaceChildren(...dispatchCells(dispatch))
  tr.dataset.status = dispatch.status
  tr.shown = dispatch
  const shown = $('delivery-state').value
  const moved = shown === '' ? JSON.stringify(before.counts) !== JSON.stringify(dispatch.counts) : before.counts[shown] !== dispatch.counts[shown]
  if (moved) reloadDeliveriesSoon()
}

/** Reloads the deliveries table at most once a second, however many events ask for it. */
let deliveriesReload
function reloadDeliveriesSoon () {
  if (deliveriesReload !== undefined) return
  deliveriesReload = setTimeout(() => {
    deliveriesReload = undefined
    void act(() => deliveries.reload())
  }, 1000)
}

// ---- importing a CSV file: the report of POST /v1/contacts/import, row by row ----

/** Report lines shown at most: a 100,000-row file may have as many ranges. */
const MAX_REPORT_LINES = 1000
const span = ([first, last]) => first === last ? String(first) : `${first}-${last}`
const summary = ({ counts: c }) => `${c.rows} rows: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.failed} failed`

/** Every row's result in row order: a line per range of written rows, a line per failed row with its error. */
function showReport (fileName, report) {
  const lines = []
  for (const result of ['created', 'updated', 'unchanged']) {
    for (const range of report.rows[result]) lines.push({ first: range[0], cells: [span(range), result, '', '', ''] })
  }
  // The errors are those of the first failed rows; the hint below counts the rest.
  for (const error of report.errors) lines.push({ first: error.row, failed: true, cells: [String(error.row), 'failed', error.name, error.field, `${error.code}: ${error.message}`] })
  lines.sort((a, b) => a.first - b.first)
  $('import-summary').textContent = `${fileName}: ${report.written ? '' : 'nothing written (all or nothing); '}${summary(report)}`
  $('import-rows').replaceChildren(...lines.slice(0, MAX_REPORT_LINES).map((line) => el('tr', { className: line.failed ? 'failed' : '' }, ...cells(...line.cells))))
  const more = $('import-more')
  more.hidden = lines.length <= MAX_REPORT_LINES && report.errors_omitted === undefined
  more.textContent = [
    lines.length > MAX_REPORT_LINES ? `the first ${MAX_REPORT_LINES} of ${lines.length} lines are shown` : '',
    report.errors_omitted !== undefined ? `${report.errors_omitted} more failed rows, after row ${report.errors[report.errors.length - 1].row}, are not listed` : ''
  ].filter((part) => part !== '').join('; ')
  $('import-report').hidden = false
}

const importForm = $('import-form')
importForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const fields = new FormData(importForm)
  const file = fields.get('file')
  const query = new URLSearchParams({ mode: fields.get('mode'), ...(fields.get('all_or_nothing') !== null && { all_or_nothing: 'true' }) })
  void act(async () => {
    $('import-report').hidden = true
    const answer = await call('POST', `/v1/contacts/import?${query}`, file, 'text/csv')
    // A refused all-or-nothing import (422) still reports each row.
    const report = answer.res.ok ? answer.data : answer.data?.report
    if (report !== undefined && report !== null) showReport(file.name, report)
    if (!answer.res.ok) throw failure(answer)
    importForm.reset()
    await contacts.reload()
    return report
  }, (report) => `Imported ${file.name}: ${summary(report)}`)
})

/** A delivery's receipts, in the order the messenger stamped them: "sent 10:01:02, delivered 10:01:03". */
function timeline (receipts = []) {
  return [...receipts].sort((a, b) => a.at.localeCompare(b.at))
    .map((r) => `${r.state}${r.code === undefined ? '' : ` (${r.code})`} ${new Date(r.at).toLocaleTimeString()}`).join(', ')
}

const deliveries = pagedTable({
  name: 'deliveries',
  path: '/v1/deliveries',
  limit: 50,
  query: () => $('delivery-state').value === '' ? {} : { state: $('delivery-state').value },
  row: (delivery) => el('tr', {},
    ...cells(when(delivery.created_at), delivery.contact ?? '(address)', delivery.messenger, delivery.address, delivery.state,
      String(delivery.attempts), delivery.last_error, timeline(delivery.receipts)),
    el('td', {},
      button('Re-drive', () => deliveryAction(delivery, 'redrive',
        (report) => report.redriven.length > 0 ? `${delivery.messenger} to ${delivery.address}: queued again` : `${delivery.messenger} to ${delivery.address} was not failed`),
      delivery.state !== 'failed'),
      button('Cancel', () => deliveryAction(delivery, 'cancel',
        (report) => report.cancelled.length > 0
          ? `${delivery.messenger} to ${delivery.address}: cancelled`
          : report.in_flight.length > 0
            ? `${delivery.messenger} to ${delivery.address} is being sent right now: it may arrive; if it fails it is not retried`
            : `${delivery.messenger} to ${delivery.address} had already finished`),
      !PENDING.includes(delivery.state)))
  )
})

function deliveryAction (delivery, action, done) {
  return act(async () => {
    const report = await api('POST', `/v1/deliveries/${encodeURIComponent(delivery.id)}/${action}`)
    await Promise.all([deliveries.reload(), dispatches.reload()])
    return report
  }, done)
}

onSubmit('contact-form', async (fields) => {
  const contact = { name: fields.name }
  for (const field of ['telegram', 'whatsapp', 'viber', 'timezone', 'operator']) {
    if (fields[field].trim() !== '') contact[field] = fields[field].trim()
  }
  const tags = list(fields.tags)
  if (tags.length > 0) contact.tags = tags
  await api('POST', '/v1/contacts', contact)
  await contacts.reload()
  return contact
}, (contact) => `Contact ${contact.name} added`)

onSubmit('send-form', async (fields) => {
  const picked = [...document.querySelectorAll('#contacts-rows input[type=checkbox]:checked')].map((box) => box.value)
  const tags = list(fields.tags)
  const operators = list(fields.operator_codes)
  if ((fields.window_from === '') !== (fields.window_to === '')) throw new Error('Local hours: give both from and to, or neither')
  const dispatch = {
    text: fields.text,
    ...(picked.length > 0 && { contacts: picked }),
    ...(tags.length > 0 && { tags: { any: tags } }),
    ...(operators.length > 0 && { operator_codes: operators }),
    ...(fields.window_from !== '' && { local_window: { from: fields.window_from, to: fields.window_to } }),
    ...(fields.send_at !== '' && { send_at: new Date(fields.send_at).toISOString() }),
    // Said either way: the box starts as the user's setting says, and what it shows is what is sent.
    skip_unreachable: fields.skip_unreachable === 'on'
  }
  const accepted = await api('POST', '/v1/dispatches', dispatch)
  for (const box of document.querySelectorAll('#contacts-rows input[type=checkbox]')) box.checked = false
  await Promise.all([dispatches.reload(), deliveries.reload()])
  return accepted
}, (accepted) => [
  `${accepted.state === 'scheduled' ? 'Scheduled' : 'Sending'}: ${accepted.deliveries} deliveries`,
  accepted.suppressed > 0 ? `${accepted.suppressed} suppressed (repeats, or to dead addresses when skipped)` : '',
  accepted.unknown.length > 0 ? `unknown contacts: ${accepted.unknown.join(', ')}` : '',
  accepted.without_addresses.length > 0 ? `contacts without an address: ${accepted.without_addresses.join(', ')}` : ''
].filter((part) => part !== '').join('; '))

/** The user's settings: the send form's box starts (and is reset to) what skip_unreachable says. */
function showSettings (settings) {
  const box = $('send-form').elements.skip_unreachable
  box.checked = box.defaultChecked = settings.skip_unreachable
  $('skip-setting').checked = settings.skip_unreachable
}

$('skip-setting').addEventListener('change', (event) => act(async () => {
  const box = event.target
  try {
    const settings = await api('PATCH', '/v1/settings', { skip_unreachable: box.checked })
    showSettings(settings)
    return settings
  } catch (err) {
    box.checked = !box.checked // the service did not take it: the box shows what holds
    throw err
  }
}, (settings) => settings.skip_unreachable ? 'Sends skip dead addresses unless they say otherwise' : 'Sends go to dead addresses too unless they say otherwise'))

$('delivery-state').addEventListener('change', () => act(() => deliveries.reload()))
$('deliveries-refresh').addEventListener('click', () => act(() => deliveries.reload()))
$('dispatches-refresh').addEventListener('click', () => act(() => dispatches.reload()))

// ---- a user's status webhooks: endpoints, their attempts, a retry ----

const STATUS_EVENTS = ['delivery.sent', 'delivery.delivered', 'delivery.read', 'delivery.failed', 'delivery.expired', 'delivery.cancelled', 'dispatch.finished', 'contact.connected']

async function loadEndpoints () {
  const data = await api('GET', '/v1/webhooks')
  $('endpoints-rows').replaceChildren(...data.endpoints.map((endpoint) => el('tr', {},
    ...cells(endpoint.url, endpoint.events.join(', '), endpoint.enabled ? 'yes' : `no${endpoint.disabled_reason === undefined ? '' : `: ${endpoint.disabled_reason}`}`),
    el('td', {},
      button('Attempts', () => act(() => showAttempts(endpoint))),
      button('Test', () => act(async () => {
        await api('POST', `/v1/webhooks/${endpoint.id}/test`)
        setTimeout(() => { void act(() => showAttempts(endpoint)) }, 1000)
      }, `Test event queued for ${endpoint.url}`)),
      button('Delete', () => act(async () => {
        await api('DELETE', `/v1/webhooks/${endpoint.id}`)
        $('attempts').hidden = true
        await loadEndpoints()
      }, `Endpoint ${endpoint.url} removed`))))))
  $('endpoints-empty').hidden = data.endpoints.length > 0
}

async function showAttempts (endpoint) {
  const data = await api('GET', `/v1/webhooks/${endpoint.id}/attempts?limit=50`)
  $('attempts-url').textContent = endpoint.url
  $('attempts-rows').replaceChildren(...data.attempts.map((attempt) => el('tr', {},
    ...cells(when(attempt.at), attempt.type, attempt.status === undefined ? (attempt.ok ? 'ok' : 'none') : String(attempt.status), `${attempt.duration_ms} ms`, attempt.error),
    el('td', {}, button('Retry', () => act(async () => {
      await api('POST', `/v1/webhooks/${endpoint.id}/attempts/${attempt.id}/retry`)
      setTimeout(() => { void act(() => showAttempts(endpoint)) }, 1000)
    }, `${attempt.type} queued again for ${endpoint.url}`))))))
  $('attempts-empty').hidden = data.attempts.length > 0
  $('attempts').hidden = false
}

onSubmit('endpoint-form', async (fields) => {
  const created = await api('POST', '/v1/webhooks', { url: fields.url, events: STATUS_EVENTS })
  $('endpoint-secret-value').textContent = created.secret
  $('endpoint-secret').hidden = false
  await loadEndpoints()
  return created
}, (created) => `Endpoint ${created.url} added`)

$('endpoint-secret-hide').addEventListener('click', () => {
  $('endpoint-secret-value').textContent = ''
  $('endpoint-secret').hidden = true
})

function startUser () {
  $('sign-in').hidden = true
  $('user-view').hidden = false
  const who = $('who')
  if (role === 'user') {
    who.replaceChildren(`Signed in as ${userName}. Close the browser to sign out.`)
  } else {
    who.replaceChildren(`Acting as ${userName} (authentication is off). `, button('Change user', () => {
      localStorage.removeItem(STORED_USER)
      userName = ''
      $('user-view').hidden = true
      askForUser()
    }))
  }
  void act(() => Promise.all([contacts.reload(), dispatches.reload(), deliveries.reload(), loadEndpoints(),
    api('GET', '/v1/settings').then(showSettings)]))
}

function askForUser () {
  $('who').replaceChildren('Authentication is off.')
  $('sign-in').hidden = false
}

onSubmit('sign-in-form', async (fields) => {
  userName = fields.user.trim()
  localStorage.setItem(STORED_USER, userName)
  startUser()
})

// ---- the administrator's view: users and their keys ----

const users = pagedTable({
  name: 'users',
  path: '/v1/admin/users',
  limit: 50,
  row: (user) => el('tr', {}, ...cells(user.name, when(user.created_at), String(user.active_keys)),
    el('td', {}, button('Keys', () => act(() => showKeys(user.name)))))
})

/** The user whose keys are shown. */
let keysOf = ''

async function showKeys (name) {
  const user = await api('GET', `/v1/admin/users/${encodeURIComponent(name)}`)
  keysOf = name
  $('keys-user').textContent = name
  $('keys-rows').replaceChildren(...user.keys.map((key) => el('tr', {},
    ...cells(key.id, key.label, when(key.created_at), when(key.revoked_at)),
    el('td', {}, button('Revoke', () => act(async () => {
      await api('DELETE', `/v1/admin/users/${encodeURIComponent(name)}/keys/${encodeURIComponent(key.id)}`)
      await Promise.all([showKeys(name), users.reload()])
    }, `Key ${key.id} of ${name} revoked`), key.revoked_at !== undefined)))))
  $('user-keys').hidden = false
}

function showNewKey (user, key) {
  $('new-key-user').textContent = user
  $('new-key-value').textContent = key.key
  $('new-key').hidden = false
}

$('new-key-hide').addEventListener('click', () => {
  $('new-key-value').textContent = ''
  $('new-key').hidden = true
})

onSubmit('user-form', async (fields) => {
  const created = await api('POST', '/v1/admin/users', { name: fields.name, ...(fields.label !== '' && { label: fields.label }) })
  showNewKey(created.user.name, created.key)
  await Promise.all([users.reload(), showKeys(created.user.name)])
  return created
}, (created) => `User ${created.user.name} created`)

onSubmit('key-form', async (fields) => {
  const name = keysOf
  const key = await api('POST', `/v1/admin/users/${encodeURIComponent(name)}/keys`, fields.label !== '' ? { label: fields.label } : {})
  showNewKey(name, key)
  await Promise.all([users.reload(), showKeys(name)])
  return key
}, (key) => `Key ${key.id} issued`)

function startAdmin () {
  $('who').textContent = 'Signed in as the administrator. Close the browser to sign out.'
  $('admin-view').hidden = false
  void act(() => users.reload())
}

if (role === 'admin') startAdmin()
else if (userName === '') askForUser()
else startUser()
