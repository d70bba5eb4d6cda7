// Wristbands and the alarm centre in the browser (issue 5): a watch bound to 王建国 sends positions
// and health readings over TCP to the gateway; staff watching the alarm centre see its SOS arrive
// live (banner, sound, menu count) when the watch presses SOS, acknowledge and resolve it through
// the dialogs, find it in the history by filters and read its log; the device page draws the plan
// and the health charts; the device list searches and pages on the server; the history downloads
// the server's Excel export of its filters; the resident's alert rules show the server's defaults,
// its 422 for an upside-down band, save good ones and reset with {}; the dashboard card counts; the
// family account (jiashu) sees the elder's alarm on /m.
// Needs NX_WATCH_PORT (scripts/e2e.sh starts the gateway on a free port). Screenshots: 70-….
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createConnection } from 'node:net'
import { readFileSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { BASE, CHROMIUM_ARGS, DEMO_PASSWORD, newContext, login, shot, zipEntries, settled, demoAccount } from './harness.mjs'

const WATCH_PORT = Number(process.env.NX_WATCH_PORT || 0)
const IMEI = String(8600000000 + (Date.now() % 99999999)).slice(0, 10) // 10 digits, fresh per run
// 王建国 (the demo's first household, always him): the resident the demo family account jiashu
// belongs to, looked up through that account (before), not written here as an id
let RESIDENT, residentGrid
const CENTER = { lat: 36.4574, lon: 116.2984 } // the demo community's centre (src/cli/demo_devices.c)
let browser, staff, staffCtx
let deviceId, alertId
const errors = []

/** One watch connection: send frames, collect replies. */
class Watch {
  /** imei: the device ID its frames name; localAddress: the source address (127.0.0.2 is another source). */
  constructor(port, { imei = IMEI, localAddress } = {}) {
    this.buf = ''
    this.imei = imei
    this.sock = createConnection({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) })
    this.sock.setEncoding('latin1')
    this.sock.on('data', (d) => { this.buf += d })
    this.ready = new Promise((ok, fail) => { this.sock.once('connect', ok); this.sock.once('error', fail) })
  }
  send(content) {
    const len = Buffer.byteLength(content).toString(16).toUpperCase().padStart(4, '0')
    this.sock.write(`[3G*${this.imei}*${len}*${content}]`)
  }
  /** Wait for a reply containing text (the gateway answers an alarm only once it is committed). */
  async reply(text, ms = 5000) {
    const end = Date.now() + ms
    while (Date.now() < end) {
      if (this.buf.includes(text)) return true
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`no reply ${text}; got ${this.buf.slice(-200)}`)
  }
  close() { this.sock.destroy() }
}
/** A UD/AL position payload (UTC date and time, fix, battery, steps, status word). */
function position(kind, lat, lon, { status = '00000000', battery = 64, steps = 1000 } = {}) {
  const d = new Date()
  const p2 = (n) => String(n).padStart(2, '0')
  const date = `${p2(d.getUTCDate())}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCFullYear() % 100)}`
  const time = `${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}`
  return `${kind},${date},${time},A,${lat.toFixed(6)},N,${lon.toFixed(6)},E,0.0,0.0,0.0,6,88,${battery},${steps},0,${status},0,0`
}
async function api(method, path, data) {
  const res = await staff.request.fetch(BASE + path, { method, data, headers: { 'X-CSRF-Token': await csrf() } })
  const body = res.status() === 204 ? null : await res.json().catch(() => null)
  return { status: res.status(), body }
}
let csrfToken = ''
async function csrf() {
  if (!csrfToken) csrfToken = (await (await staff.request.get(BASE + '/api/v1/me')).json()).csrf_token
  return csrfToken
}
/** Every item of a cursor list (GET path with a query string), page by page. */
async function all(path) {
  const items = []
  let cursor = ''
  do {
    const r = await api('GET', `${path}${path.includes('?') ? '&' : '?'}limit=200${cursor ? `&cursor=${cursor}` : ''}`)
    assert.equal(r.status, 200, JSON.stringify(r.body))
    items.push(...r.body.items)
    cursor = r.body.next_cursor
  } while (cursor)
  return items
}
/** The number el-pagination shows as its total ("共 80 条"). */
async function pagerTotal(page) {
  return Number((await page.locator('[data-test=pager] .el-pagination__total').innerText()).replace(/\D+/g, ''))
}
async function pickOption(page, text) {
  const opt = page.locator('.el-select-dropdown__item:visible', { hasText: text }).first()
  await opt.waitFor()
  await opt.click()
}

before(async () => {
  // Sound without a click first, so the test can see the alarm being played.
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'] })
  staffCtx = await newContext(browser)
  staff = await staffCtx.newPage()
  staff.on('pageerror', (e) => errors.push(`staff: ${e.message}`))
  await login(staff, 'shequ')
  RESIDENT = (await demoAccount('jiashu')).resident_id
  const him = await api('GET', `/api/v1/residents/${RESIDENT}`)
  assert.equal(him.body?.name, '王建国', `jiashu's resident: ${JSON.stringify(him.body)}`)
  residentGrid = him.body.grid_id
  const made = await api('POST', '/api/v1/devices', { imei: IMEI, protocol: 'watch', model: 'E2E-S8', resident_id: RESIDENT })
  assert.equal(made.status, 201, JSON.stringify(made.body))
  deviceId = made.body.id
  if (!WATCH_PORT) return
  // An hour's walk around the block: 24 positions, each with blood pressure, heart rate, SpO2 and temperature.
  const w = new Watch(WATCH_PORT)
  await w.ready
  w.send('LK,100,0,70')
  for (let i = 0; i < 24; i++) {
    const a = (i / 24) * 2 * Math.PI
    w.send(position('UD', CENTER.lat + 0.0015 * Math.sin(a), CENTER.lon + 0.002 * Math.cos(a), { steps: 200 + i * 60 }))
    w.send(`bphrt,${125 + (i % 5) * 4},${80 + (i % 3) * 3},${68 + (i % 7) * 3},,,,`)
    w.send(`oxygen,1,${95 + (i % 4)}`)
    w.send(`btemp2,1,${(36.3 + (i % 5) * 0.1).toFixed(1)}`)
  }
  await w.reply('btemp2')
  await new Promise((r) => setTimeout(r, 600)) // the gateway writes telemetry in batches
  w.close()
})
after(async () => {
  await browser?.close()
  assert.deepEqual(errors, [], 'no uncaught errors in the pages')
})

test('the alarm centre shows a new SOS live: banner, sound, menu count; acknowledge and resolve through the dialogs', { skip: !WATCH_PORT && 'no gateway port' }, async () => {
  await staff.goto(BASE + '/alarms')
  await staff.locator('[data-test=stream-status][data-status=open]').waitFor({ timeout: 10000 })
  // the banner follows the active alarms, read by a request of their own: count it once the live
  // list shows them (a table, or the empty picture), not while they are on their way
  await staff.locator('[data-test=alarm-live-table], [data-test=alarm-live-empty]').first().waitFor()
  assert.equal(await staff.locator('[data-test=alarm-banner]').count(), 0, 'no urgent alarm before the SOS')

  // The watch presses SOS (status word bit 16); the gateway acknowledges only once the alarm is committed.
  const w = new Watch(WATCH_PORT)
  await w.ready
  w.send(position('AL', CENTER.lat + 0.0003, CENTER.lon + 0.0003, { status: '00010000' }))
  await w.reply(`[3G*${IMEI}*0002*AL]`)
  w.close()

  const banner = staff.locator('[data-test=alarm-banner]')
  await banner.waitFor({ timeout: 10000 })
  const text = await staff.locator('[data-test=alarm-banner-text]').innerText()
  assert.match(text, /紧急呼叫（SOS）/)
  assert.match(text, /王建国/)
  const row = staff.locator('[data-test=alarm-live-table] .el-table__row', { hasText: IMEI })
  await row.waitFor()
  assert.match(await row.innerText(), /待处理/)
  await staff.waitForFunction(() => Number(document.querySelector('[data-test=alarm-banner]')?.dataset.beeps) >= 1, null, { timeout: 5000 })
  assert.equal(await banner.getAttribute('data-sound'), 'played')
  assert.ok(Number(await staff.locator('[data-test=menu-alarm-count]').first().innerText()) >= 1, 'menu shows the open count')
  const found = await api('GET', `/api/v1/alerts?device_id=${deviceId}&state=open`)
  assert.equal(found.body.items.length, 1)
  alertId = found.body.items[0].id
  assert.equal(found.body.items[0].kind, 'sos')
  await shot(staff, '70-alarm-centre-sos')

  // Mute is remembered.
  await staff.click('[data-test=alarm-mute]')
  assert.equal(await staff.evaluate(() => localStorage.getItem('nx.alarm.muted')), '1')
  await staff.click('[data-test=alarm-mute]')
  assert.equal(await staff.evaluate(() => localStorage.getItem('nx.alarm.muted')), '0')

  // 接警 with a note.
  await row.locator('[data-test=live-ack]').click()
  const ack = staff.locator('[data-test=alarm-ack-dialog]:visible')
  await ack.waitFor()
  await ack.locator('[data-test=alarm-note]').fill('已电话联系，网格员正在前往')
  await ack.locator('[data-test=alarm-submit]').click()
  await staff.locator('[data-test=alarm-ack-dialog]:visible').waitFor({ state: 'detached' })
  await staff.locator('[data-test=alarm-live-table] .el-table__row', { hasText: IMEI }).filter({ hasText: '处理中' }).waitFor()
  await banner.waitFor({ state: 'hidden' })
  let a = (await api('GET', `/api/v1/alerts/${alertId}`)).body
  assert.equal(a.state, 'acknowledged')
  assert.equal(a.acked_by_name, '暖心社区工作人员')
  assert.ok(a.ack_ms > 0)

  // 处置: the note is required (the dialog says so), then resolved with a follow-up visit.
  await staff.locator('[data-test=alarm-live-table] .el-table__row', { hasText: IMEI }).locator('[data-test=live-resolve]').click()
  const res = staff.locator('[data-test=alarm-resolve-dialog]:visible')
  await res.waitFor()
  await res.locator('[data-test=alarm-submit]').click()
  assert.match(await res.locator('.el-form-item__error').innerText(), /请填写处理情况/)
  await res.locator('[data-test=alarm-note]').fill('老人在家中摔倒后按键，已扶起，无外伤')
  await res.locator('[data-test=resolve-followup]').click()
  await shot(staff, '71-alarm-resolve-dialog')
  await res.locator('[data-test=alarm-submit]').click()
  await staff.locator('[data-test=alarm-resolve-dialog]:visible').waitFor({ state: 'detached' })
  await staff.locator('[data-test=alarm-live-table] .el-table__row', { hasText: IMEI }).waitFor({ state: 'detached' })
  a = (await api('GET', `/api/v1/alerts/${alertId}`)).body
  assert.equal(a.state, 'resolved')
  assert.equal(a.needs_followup, true)
  assert.equal(a.note, '老人在家中摔倒后按键，已扶起，无外伤')
  assert.deepEqual(a.log.map((l) => l.action), ['opened', 'acknowledged', 'resolved'])
})

test('history: filters by state and kind, and the alert detail shows its log and times', { skip: !WATCH_PORT && 'no gateway port' }, async () => {
  await staff.goto(BASE + '/alarms?tab=history&state=resolved&kind=sos')
  const table = staff.locator('[data-test=alarm-history-table]')
  // The 30-day strip counts our SOS.
  const stats = (await api('GET', '/api/v1/stats/devices')).body
  assert.ok(stats.by_kind.sos >= 1)
  assert.match(await staff.locator('[data-test=alarm-stats]').innerText(), new RegExp(`紧急呼叫（SOS） ${stats.by_kind.sos}`))
  const mine = table.locator('.el-table__row', { hasText: String(alertId) }).first()
  await mine.waitFor()
  const rows = await table.locator('.el-table__row').allInnerTexts()
  assert.ok(rows.length >= 1)
  for (const r of rows) assert.match(r, /紧急呼叫（SOS）/, `only SOS rows: ${r}`)
  for (const r of rows) assert.match(r, /已解决/, `only resolved rows: ${r}`)
  assert.match(await mine.innerText(), /需回访/)
  await shot(staff, '72-alarm-history')
  // 导出 Excel: the server's export of the same filters — an xlsx whose row count is the list's.
  const listed = (await all('/api/v1/alerts?state=resolved&kind=sos')).length
  const href = await staff.locator('[data-test=hist-export]').getAttribute('href')
  assert.match(href, /^\/api\/v1\/alerts\/export\?/)
  assert.deepEqual(Object.fromEntries(new URL(href, BASE).searchParams), { state: 'resolved', kind: 'sos' })
  const [download] = await Promise.all([staff.waitForEvent('download'), staff.click('[data-test=hist-export]')])
  const buf = readFileSync(await download.path())
  assert.equal(buf.subarray(0, 2).toString(), 'PK', 'an xlsx is a zip file')
  assert.ok(zipEntries(buf).some((n) => n.startsWith('xl/worksheets/')), 'has a worksheet')
  assert.match(download.suggestedFilename(), /\.xlsx$/)
  const head = await staff.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' })
    const b = new Uint8Array(await r.arrayBuffer())
    return { status: r.status, rows: r.headers.get('X-Row-Count'), disposition: r.headers.get('Content-Disposition'), magic: String.fromCharCode(b[0], b[1]) }
  }, href)
  assert.equal(head.status, 200)
  assert.equal(head.magic, 'PK')
  assert.equal(Number(head.rows), listed, 'the export has as many rows as the list')
  assert.ok(listed >= 1)
  assert.match(head.disposition, /filename\*=UTF-8''/)
  // The kind filter through the select: 跌倒报警 leaves our SOS out.
  await staff.locator('[data-test=hist-kind]').click()
  await pickOption(staff, '跌倒报警')
  await staff.waitForURL(/kind=fall/)
  // the SOS rows stay until the list's answer for the new filter comes: wait for the server's falls
  // (its first page, as the page asks for it) rather than read the rows after a fixed pause
  const falls = (await api('GET', '/api/v1/alerts?state=resolved&kind=fall&limit=20')).body.items.map((x) => String(x.id))
  const histIds = async () => (await staff.locator('[data-test=alarm-history-table] .el-table__row td:first-child').allInnerTexts()).map((x) => x.trim())
  const ids = await settled(histIds, (v) => v.join() === falls.join())
  assert.deepEqual(ids, falls, 'the rows are the server\'s resolved falls')
  assert.ok(!ids.includes(String(alertId)), 'our SOS is not a fall')

  await staff.goto(BASE + `/alarms/${alertId}`)
  const log = staff.locator('[data-test=alert-log]')
  await log.waitFor()
  const logText = await log.innerText()
  for (const s of ['报警', '接警', '处置完毕', '已电话联系，网格员正在前往', '老人在家中摔倒后按键，已扶起，无外伤']) assert.ok(logText.includes(s), `log has ${s}`)
  assert.match(await staff.locator('[data-test=alert-state]').innerText(), /已解决/)
  assert.match(await staff.locator('[data-test=alert-ack-time]').innerText(), /\d+秒/)
  await staff.locator('[data-test=plan-alarm]').waitFor()
  // Who to call: the resident's home and contacts, masked until 查看 (audited) shows them.
  const card = staff.locator('[data-test=alert-resident]')
  assert.match(await card.innerText(), /王建国/)
  const masked = await card.locator('[data-test=alert-contacts]').innerText()
  if (/\*/.test(masked)) {
    await card.locator('[data-test=alert-reveal]').click()
    await staff.waitForFunction(() => !/\*/.test(document.querySelector('[data-test=alert-contacts]')?.innerText || '*'))
  }
  await shot(staff, '73-alert-detail')
})

test('device detail: status, the plan with the track, health charts, command validation', async () => {
  await staff.goto(BASE + `/devices/${deviceId}`)
  await staff.locator('[data-test=device-detail] [data-test=device-resident]').waitFor()
  assert.match(await staff.locator('[data-test=device-resident]').innerText(), /王建国/)
  const d = (await api('GET', `/api/v1/devices/${deviceId}`)).body
  if (WATCH_PORT) {
    assert.equal(d.battery, 64)
    assert.match(await staff.locator('[data-test=device-battery]').innerText(), /64%/)
    // the plan and the charts are drawn once the device is in; the track, the readings and the steps
    // come after it, by requests of their own: wait for their points rather than read them at once
    const points = (loc) => async () => Number(await loc.getAttribute('data-points'))
    const svg = staff.locator('[data-test=plan-svg]')
    await svg.waitFor()
    assert.ok(await settled(points(svg), (n) => n >= 20) >= 20, 'the track has the walk')
    for (const part of ['plan-track', 'plan-last', 'plan-north', 'plan-scale']) assert.equal(await staff.locator(`[data-test=${part}]`).count(), 1, part)
    assert.match(await staff.locator('[data-test=plan-scale]').textContent(), /\d+ (m|km)/)
    for (const c of ['hr', 'bp', 'spo2', 'temp']) {
      const box = staff.locator(`[data-test=chart-${c}]`)
      assert.ok(await settled(points(box), (n) => n >= 20) >= 20, `${c} has readings`)
      await box.locator('canvas').first().waitFor()
    }
    assert.ok(await settled(points(staff.locator('[data-test=chart-steps]')), (n) => n >= 1) >= 1, 'steps of today')
  }
  // The command panel: validation before sending (or, on a server without commands, it says so).
  const panel = staff.locator('[data-test=command-panel]')
  await panel.waitFor()
  // the panel shows its form until its own request answers 404/405: take the branch the server's
  // answer gives, not what the panel shows after a fixed pause
  const cmdStatus = (await api('GET', `/api/v1/devices/${deviceId}/commands`)).status
  if (cmdStatus === 404 || cmdStatus === 405) {
    await staff.locator('[data-test=commands-unavailable]').waitFor()
    assert.match(await staff.locator('[data-test=commands-unavailable]').innerText(), /远程指令/)
  } else {
    await panel.locator('[data-test=cmd-kind]').click()
    await pickOption(staff, '发送文字消息')
    await panel.locator('[data-test=cmd-text]').fill('吃'.repeat(121))
    await panel.locator('[data-test=cmd-send]').click()
    assert.match(await panel.locator('.el-form-item__error').innerText(), /最多 120 个字/)
    await panel.locator('[data-test=cmd-text]').fill('记得按时吃药')
    await panel.locator('[data-test=cmd-send]').click()
    await panel.locator('[data-test=cmd-history] .el-table__row', { hasText: '记得按时吃药' }).waitFor()
    const cmds = (await api('GET', `/api/v1/devices/${deviceId}/commands`)).body.items
    assert.equal(cmds[0].kind, 'message')
    assert.equal(cmds[0].args.text, '记得按时吃药')
  }
  await shot(staff, '74-device-detail')

  // The list: searched, filtered and paged by the server. By the resident's name: his wristband,
  // and the total shown is the server's.
  await staff.goto(BASE + '/devices')
  await staff.locator('[data-test=device-table] .el-table__row').first().waitFor()
  const everything = await all('/api/v1/devices')
  assert.equal(await pagerTotal(staff), everything.length, 'the pager shows the total of the scope')
  await staff.locator('[data-test=device-search]').fill('王建国') // el-input passes data-test to its <input>
  await staff.locator('[data-test=device-search]').press('Enter')
  await staff.waitForURL(/q=%E7%8E%8B%E5%BB%BA%E5%9B%BD|q=王建国/)
  const row = staff.locator('[data-test=device-table] .el-table__row', { hasText: IMEI })
  await row.waitFor()
  assert.match(await row.innerText(), /王建国/)
  const byName = (await api('GET', '/api/v1/devices?q=' + encodeURIComponent('王建国'))).body
  assert.ok(byName.items.some((x) => x.imei === IMEI))
  assert.ok(byName.total < everything.length, 'the search narrows the list')
  await staff.waitForFunction((n) => /\d/.test(document.querySelector('[data-test=pager] .el-pagination__total')?.innerText || '') &&
    Number(document.querySelector('[data-test=pager] .el-pagination__total').innerText.replace(/\D+/g, '')) === n, byName.total)
  const names = await staff.locator('[data-test=device-table] .el-table__row td:nth-child(2)').allInnerTexts()
  assert.equal(names.length, byName.total)
  for (const n of names) assert.match(n, /王建国/)
  // The pinyin initials find him too (the server's search).
  assert.ok((await api('GET', '/api/v1/devices?q=wjg')).body.items.some((x) => x.imei === IMEI))
  await shot(staff, '75-device-search')
  // 位置分布 with the same filters: one marker per found wristband with a fix.
  await staff.click('[data-test=device-plan-toggle]')
  const markers = staff.locator('[data-test=device-plan] [data-test=plan-markers] circle')
  await staff.locator('[data-test=device-plan]').waitFor()
  // the plan's wristbands come by requests of their own (page by page): count the markers once they are
  // all there, not right after the plan is drawn
  const fixedByName = byName.items.filter((x) => x.last_fix).length
  assert.equal(await settled(() => markers.count(), (n) => n === fixedByName), fixedByName)

  // Paging: 20 a page; next shows the following wristbands, the total stays.
  await staff.goto(BASE + '/devices')
  await staff.locator('[data-test=device-table] .el-table__row').first().waitFor()
  await staff.locator('[data-test=pager] .el-select').click()
  await pickOption(staff, '20')
  await staff.waitForFunction(() => document.querySelectorAll('[data-test=device-table] .el-table__row').length === 20)
  const imeis = async () => (await staff.locator('[data-test=device-table] .el-table__row td:first-child').allInnerTexts()).map((x) => x.trim())
  const first = await imeis()
  assert.deepEqual(first, everything.slice(0, 20).map((x) => x.imei))
  await staff.locator('[data-test=pager] .btn-next').click()
  await staff.waitForFunction(() => document.querySelector('[data-test=pager] .pager-page')?.innerText.trim() === '2')
  await staff.waitForFunction((a) => document.querySelector('[data-test=device-table] .el-table__row td')?.innerText.trim() !== a, first[0])
  assert.deepEqual(await imeis(), everything.slice(20, 40).map((x) => x.imei))
  assert.equal(await pagerTotal(staff), everything.length)
  await staff.locator('[data-test=pager] .btn-prev').click()
  await staff.waitForFunction(() => document.querySelector('[data-test=pager] .pager-page')?.innerText.trim() === '1')
  await staff.waitForFunction((a) => document.querySelector('[data-test=device-table] .el-table__row td')?.innerText.trim() === a, first[0])
  // 位置分布 of the whole scope (read page by page): one marker per wristband with a fix.
  const fixed = everything.filter((x) => x.last_fix).length
  assert.equal(await settled(() => markers.count(), (n) => n === fixed), fixed)
  await shot(staff, '75-device-list')
  await markers.first().click({ force: true })
  await staff.waitForURL(/\/devices\/\d+$/)
  await staff.goto(BASE + '/devices?registered=false')
  await staff.locator('[data-test=device-table]').waitFor()
  // the pager shows its total once the list's answer is in (not before): then the rows are the list's
  const unbound = (await api('GET', '/api/v1/devices?registered=false&limit=1')).body.total
  assert.equal(await pagerTotal(staff), unbound, 'the pager shows the 待绑定 total')
  assert.equal(await staff.locator('[data-test=device-table] .el-table__row', { hasText: IMEI }).count(), 0, 'a bound device is not 待绑定')
})

test('alert rules: the server’s defaults; a range is checked here, an upside-down band by the server (422 under the field); good ones saved; reset sends {}', async () => {
  let r = (await api('GET', `/api/v1/residents/${RESIDENT}/alert-rules`)).body
  const d = r.defaults
  assert.ok(d && typeof d.hr_max === 'number', 'the server answers its defaults')
  await staff.goto(BASE + `/residents/${RESIDENT}/alert-rules`)
  await staff.locator('[data-test=rule-hr_max] input').waitFor()
  // the heading names the resident once the resident's record is in (read after the rules: until
  // then it says 报警规则 alone, as the clean-clone run of 2026-12-07 caught it once)
  await staff.locator('[data-test=alert-rules] h1', { hasText: '王建国' }).waitFor()
  // Each field shows the server's default.
  assert.match(await staff.locator('[data-test=rule-hr_max] .def').innerText(), new RegExp(`默认 ${d.hr_max}\\b`))
  assert.match(await staff.locator('[data-test=rule-temp_max] .def').innerText(), new RegExp(`默认 ${d.temp_max.toFixed(1)}`))
  const set = async (k, v) => {
    const input = staff.locator(`[data-test=rule-${k}] input`)
    await input.fill(String(v))
    await input.blur()
  }
  const puts = []
  const onRequest = (q) => { if (q.method() === 'PUT' && q.url().includes('/alert-rules')) puts.push(q.postData()) }
  staff.on('request', onRequest)
  await set('spo2_min', 101) // out of range: refused here, nothing sent
  await staff.click('[data-test=rules-save]')
  assert.match(await staff.locator('[data-test=rule-spo2_min] .el-form-item__error').innerText(), /50 到 100/)
  assert.equal(puts.length, 0)
  await set('spo2_min', d.spo2_min)
  await set('hr_min', d.hr_max + 10) // above the maximum: the server says so under 心率上限
  await staff.click('[data-test=rules-save]')
  const err = staff.locator('[data-test=rule-hr_max] .el-form-item__error')
  await err.waitFor()
  assert.match(await err.innerText(), /心率的上限应高于下限/)
  assert.equal(puts.length, 1)
  await staff.locator('[data-test=rule-spo2_min] .el-form-item__error').waitFor({ state: 'detached' }) // cleared (after its fade)
  await shot(staff, '76-alert-rules-errors')
  r = (await api('GET', `/api/v1/residents/${RESIDENT}/alert-rules`)).body
  assert.deepEqual([r.hr_min, r.custom], [d.hr_min, false], 'nothing saved')

  await set('hr_min', 55)
  await set('hr_max', 110)
  await set('spo2_min', 92)
  await staff.click('[data-test=rules-save]')
  await staff.locator('[data-test=rules-custom]', { hasText: '已自定义' }).waitFor()
  r = (await api('GET', `/api/v1/residents/${RESIDENT}/alert-rules`)).body
  assert.deepEqual([r.hr_min, r.hr_max, r.spo2_min, r.sys_max, r.custom], [55, 110, 92, d.sys_max, true])
  assert.equal(JSON.parse(puts.at(-1)).sys_max, null, 'a band left at its default follows the default')
  await shot(staff, '76-alert-rules-custom')

  await staff.click('[data-test=rules-reset]')
  await staff.locator('.el-popconfirm:visible .el-button--primary').click()
  await staff.locator('[data-test=rules-custom]', { hasText: '使用默认值' }).waitFor()
  assert.equal(puts.at(-1), '{}', 'the reset sends an empty body')
  r = (await api('GET', `/api/v1/residents/${RESIDENT}/alert-rules`)).body
  assert.equal(r.custom, false)
  for (const k of ['hr_min', 'hr_max', 'spo2_min', 'sys_max', 'temp_min', 'offline_min']) assert.equal(r[k], d[k], k)
  assert.equal(await staff.locator('[data-test=rule-hr_max] input').inputValue(), String(d.hr_max))
  assert.equal(await staff.locator('[data-test=rule-hr_min] input').inputValue(), String(d.hr_min))
  assert.equal(await staff.locator('[data-test=alert-rules] .changed').count(), 0, 'no field marked as changed')
  staff.off('request', onRequest)
})

test('dashboard card: open alarms, devices online out of all, time to acknowledge', async () => {
  await staff.goto(BASE + '/')
  const card = staff.locator('[data-test=dash-devices]')
  await card.waitFor()
  const devices = await all('/api/v1/devices?registered=true')
  const online = devices.filter((x) => x.online).length
  const open = (await api('GET', '/api/v1/alerts?state=open&limit=200')).body.items.length
  const onlineText = await staff.locator('[data-test=dash-online]').innerText()
  assert.match(onlineText, new RegExp(`${online}\\s*/\\s*${devices.length}`), onlineText)
  assert.match(await staff.locator('[data-test=dash-open-alarms]').innerText(), new RegExp(`\\b${open}\\b`))
  if (WATCH_PORT) assert.match(await staff.locator('[data-test=dash-ack]').innerText(), /\d+(秒|分)/)
  await shot(staff, '77-dashboard-devices')
  await staff.locator('[data-test=dash-open-alarms]').click()
  await staff.waitForURL(/\/alarms$/)
})

test('a street officer who picks a community in the header: the device list, its stats, the dashboard card and the alarm strip ask for that community', async () => {
  const ctx = await newContext(browser)
  const page = await ctx.newPage()
  page.on('pageerror', (e) => errors.push(`street: ${e.message}`))
  await login(page, 'jiedao')
  const seen = []
  page.on('request', (q) => { if (/\/api\/v1\/(devices|stats\/devices|alerts)\?/.test(q.url()) || q.url().endsWith('/api/v1/stats/devices')) seen.push(new URL(q.url())) })
  await page.goto(BASE + '/devices')
  await page.locator('[data-test=device-table] .el-table__row').first().waitFor()
  assert.ok(seen.length >= 2)
  for (const u of seen) assert.equal(u.searchParams.get('community_id'), null, `all communities: ${u}`)
  const totalAll = await pagerTotal(page)
  seen.length = 0
  // the pick reads the list and the stats again: wait for those two requests (what is asserted on
  // below), not a fixed pause after the pick
  const asks = (path) => page.waitForRequest((q) => new URL(q.url()).pathname === path)
  const reread = Promise.all([asks('/api/v1/devices'), asks('/api/v1/stats/devices')])
  await page.locator('[data-test=community-switch]').click()
  await page.locator('.el-select-dropdown__item:visible').first().click()
  const community = await page.evaluate(() => sessionStorage.getItem('nx.community'))
  assert.match(community, /^\d+$/)
  await page.waitForFunction(() => document.querySelector('[data-test=device-counts]'))
  await reread
  const list = seen.filter((u) => u.pathname === '/api/v1/devices')
  const stats = seen.filter((u) => u.pathname === '/api/v1/stats/devices')
  assert.ok(list.length >= 1 && stats.length >= 1, seen.join(' '))
  for (const u of [...list, ...stats]) assert.equal(u.searchParams.get('community_id'), community, String(u))
  // The demo has one community: the same wristbands, and the same count as the server gives for it.
  const one = (await page.evaluate(async (c) => (await fetch(`/api/v1/devices?community_id=${c}&limit=1`)).json(), community)).total
  assert.equal(await pagerTotal(page), one)
  assert.equal(one, totalAll)
  seen.length = 0
  await page.goto(BASE + '/')
  await page.locator('[data-test=dash-devices]').waitFor()
  await page.goto(BASE + '/alarms')
  await page.locator('[data-test=alarm-stats]').waitFor()
  const asked = seen.filter((u) => u.pathname === '/api/v1/stats/devices')
  assert.ok(asked.length >= 2, 'the dashboard card and the alarm strip')
  for (const u of asked) assert.equal(u.searchParams.get('community_id'), community, String(u))
  await shot(page, '7b-street-alarm-strip')
  // the history and its export follow the header's community too
  seen.length = 0
  const histRead = page.waitForRequest((q) => new URL(q.url()).pathname === '/api/v1/alerts' && new URL(q.url()).searchParams.get('state') !== 'active')
  await page.goto(BASE + '/alarms?tab=history')
  await page.locator('[data-test=alarm-history-table]').waitFor()
  await histRead
  // (the banner's and the live list's state=active reads are of every alarm in scope, by design)
  const hist = seen.filter((u) => u.pathname === '/api/v1/alerts' && u.searchParams.get('state') !== 'active')
  assert.ok(hist.length >= 1, 'the history was read')
  for (const u of hist) assert.equal(u.searchParams.get('community_id'), community, String(u))
  await ctx.close()
})

test('the family member sees the elder’s alarm and wristband on /m', { skip: !WATCH_PORT && 'no gateway port' }, async () => {
  const ctx = await newContext(browser, { phone: true })
  const page = await ctx.newPage()
  page.on('pageerror', (e) => errors.push(`family: ${e.message}`))
  // the home page reads the elder's active alarms by a request of its own: the note is counted once
  // that answer is in (with none, the note was never there), not after a fixed pause
  const alarmsRead = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/alerts' && new URL(r.url()).searchParams.get('state') === 'active')
  await login(page, 'jiashu', undefined, '/m/login')
  await page.locator('[data-test=m-nav-alarms]').waitFor()
  await alarmsRead
  const active = (await api('GET', `/api/v1/alerts?resident_id=${RESIDENT}&state=active`)).body.items.length
  if (active) await page.locator('[data-test=m-alarm-note]').waitFor()
  assert.equal(await page.locator('[data-test=m-alarm-note]').count(), active ? 1 : 0, 'the note on the home page follows the open alarms')
  // the alarms page opens the family's event stream of its own: noted here, waited for below
  const streamOpen = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/events/stream')
  await page.locator('[data-test=m-nav-alarms]').click()
  await page.waitForURL(/\/m\/alarms$/)
  const item = page.locator('[data-test=m-alarm]', { hasText: '紧急呼叫（SOS）' }).first()
  await item.waitFor()
  assert.match(await item.innerText(), /已解决/)
  assert.match(await item.innerText(), /老人在家中摔倒后按键/)
  // the wristband card is fetched after the alarms: wait for it rather than read it at once
  await page.waitForFunction(() => /64%/.test(document.querySelector('[data-test=m-wristband]')?.innerText || ''))
  // A fall while the page is open shows up at once (the family's own event stream): sent once the
  // stream has answered, not after a fixed pause
  assert.equal((await streamOpen).status(), 200, 'the event stream is open')
  const w = new Watch(WATCH_PORT)
  await w.ready
  w.send(position('AL', CENTER.lat, CENTER.lon, { status: '00200000' }))
  await w.reply(`[3G*${IMEI}*0002*AL]`)
  w.close()
  const fall = page.locator('[data-test=m-alarm]', { hasText: '跌倒报警' }).first()
  await fall.waitFor({ timeout: 10000 })
  assert.match(await fall.innerText(), /待处理/)
  await shot(page, '78-mobile-family-alarms')
  await page.locator('.m-bar button').first().click() // back home: the open fall is announced there
  await page.locator('[data-test=m-alarm-note]').waitFor()
  assert.match(await page.locator('[data-test=m-alarm-note]').innerText(), /1 条报警/)
  // Closed again, so no banner follows the other test files.
  const open = (await api('GET', `/api/v1/alerts?device_id=${deviceId}&state=active`)).body.items
  assert.equal(open.length, 1)
  assert.equal((await api('POST', `/api/v1/alerts/${open[0].id}/resolve`, { outcome: 'false_alarm', note: '测试：家属页面实时显示' })).status, 200)
  await ctx.close()
})

test('a grid worker on a phone acknowledges from the banner; another grid’s worker does not see the alarm', { skip: !WATCH_PORT && 'no gateway port' }, async () => {
  const ctx = await newContext(browser, { phone: true })
  const page = await ctx.newPage()
  page.on('pageerror', (e) => errors.push(`grid: ${e.message}`))
  await login(page, 'wangge1')
  await page.goto(BASE + '/alarms')
  await page.locator('[data-test=stream-status][data-status=open]').waitFor({ timeout: 10000 })
  const w = new Watch(WATCH_PORT)
  await w.ready
  w.send(position('AL', CENTER.lat, CENTER.lon, { status: '00010000' }))
  await w.reply(`[3G*${IMEI}*0002*AL]`)
  w.close()
  await page.locator('[data-test=alarm-banner]').waitFor({ timeout: 10000 })
  const card = page.locator('[data-test=alarm-live-card]', { hasText: '王建国' }).first()
  await card.waitFor()
  await shot(page, '7a-grid-phone-sos')
  await page.click('[data-test=banner-ack]')
  const dlg = page.locator('[data-test=alarm-ack-dialog]:visible')
  await dlg.waitFor()
  await dlg.locator('[data-test=alarm-submit]').click()
  await page.locator('[data-test=alarm-banner]').waitFor({ state: 'detached' })
  await page.locator('[data-test=alarm-live-card]', { hasText: '处理中' }).first().waitFor()
  const open = (await api('GET', `/api/v1/alerts?device_id=${deviceId}&state=active`)).body.items
  assert.equal(open.length, 1)
  assert.equal(open[0].acked_by_name, '第一网格网格员')
  // 第二网格's worker: not in scope.
  const other = await browser.newContext()
  assert.equal((await other.request.post(BASE + '/api/v1/auth/login', { data: { username: 'wangge2', password: DEMO_PASSWORD } })).status(), 200)
  const seen = await (await other.request.get(BASE + `/api/v1/alerts/${open[0].id}`)).status()
  assert.equal(seen, 404)
  await other.close()
  assert.equal((await api('POST', `/api/v1/alerts/${open[0].id}/resolve`, { outcome: 'false_alarm', note: '测试：网格员手机接警' })).status, 200)
  await ctx.close()
})

test('a wristband the gateway has seen is listed 待绑定, bound to a resident through the dialog, then unbound', { skip: !WATCH_PORT && 'no gateway port' }, async () => {
  const imei = String(Number(IMEI) + 1)
  const w = new Watch(WATCH_PORT)
  await w.ready
  w.sock.write(`[3G*${imei}*000B*LK,100,0,80]`)
  await w.reply(`[3G*${imei}*0002*LK]`)
  w.close()
  await staff.goto(BASE + '/devices?registered=false')
  const row = staff.locator('[data-test=device-table] .el-table__row', { hasText: imei })
  await row.waitFor({ timeout: 10000 })
  assert.match(await row.innerText(), /待绑定/)
  await row.locator('a').click()
  await staff.waitForURL(/\/devices\/\d+$/)
  const id = Number(new URL(staff.url()).pathname.split('/').pop())
  // A resident of 王建国's grid with a name nobody else in the community has (the picker searches
  // the whole community, and an option is found by its text).
  const res = (await api('GET', `/api/v1/residents?grid_id=${residentGrid}&status=active&limit=200`)).body.items
  const count = new Map()
  for (const r of res) count.set(r.name, (count.get(r.name) || 0) + 1)
  let who
  for (const r of res.filter((x) => x.id !== RESIDENT && count.get(x.name) === 1)) {
    const same = (await api('GET', `/api/v1/residents?q=${encodeURIComponent(r.name)}&status=active&limit=50`)).body.items
    if (same.filter((o) => o.name === r.name).length === 1) { who = r; break }
  }
  assert.ok(who, 'a resident whose name is nobody else\'s')
  await staff.click('[data-test=device-bind]')
  const dlg = staff.locator('[data-test=bind-dialog]:visible')
  await dlg.waitFor()
  // As in care.test.mjs: the pick is made once the dialog has slid in, and checked to have taken (the
  // select shows the name, its list is closed) before 保存, at most three times. The run of 2026-12-08
  // 00:00 (rebased on main) clicked 保存 for 30 s under the list, still open with the option
  // unselected: the click on the option had not picked it.
  await staff.waitForFunction(() => document.getAnimations().every((a) => a.effect?.getTiming().iterations === Infinity || a.playState !== 'running'))
  const picked = dlg.locator('[data-test=resident-picker] .el-select__placeholder:not(.is-transparent)', { hasText: who.name })
  for (let i = 0; ; i++) {
    await dlg.locator('[data-test=resident-picker] input').fill(who.name)
    const opt = staff.locator('.el-select-dropdown__item:visible').filter({ has: staff.getByText(who.name, { exact: true }) }).first()
    await opt.waitFor()
    await opt.click()
    try {
      await picked.waitFor({ timeout: 3000 })
      await staff.locator('.el-select-dropdown__item:visible').first().waitFor({ state: 'hidden', timeout: 3000 })
      break
    } catch (err) {
      if (i === 2) throw err
      console.log(`the resident pick did not take (attempt ${i + 1}); picking again`)
    }
  }
  await dlg.locator('[data-test=bind-save]').click()
  await staff.locator('[data-test=device-resident]', { hasText: who.name }).waitFor()
  let d = (await api('GET', `/api/v1/devices/${id}`)).body
  assert.deepEqual([d.resident_id, d.registered], [who.id, true])
  await staff.click('[data-test=device-unbind]')
  await staff.locator('.el-popconfirm:visible').getByRole('button', { name: /确定|Yes|OK/ }).click()
  await staff.locator('[data-test=device-resident]', { hasText: '未绑定' }).waitFor()
  d = (await api('GET', `/api/v1/devices/${id}`)).body
  assert.equal(d.resident_id, null)
})

test('a registered wristband heard from a second source is tagged 疑似冒用 in the list and detail until staff confirm its identity', { skip: !WATCH_PORT && 'no gateway port' }, async () => {
  const imei = String(Number(IMEI) + 2)
  const made = await api('POST', '/api/v1/devices', { imei, protocol: 'watch', model: 'E2E-S8' })
  assert.equal(made.status, 201, JSON.stringify(made.body))
  const id = made.body.id
  // The real watch, then the same ID from another loopback address while the first connection lives.
  const real = new Watch(WATCH_PORT, { imei })
  await real.ready
  real.send('LK,100,0,80')
  await real.reply(`[3G*${imei}*0002*LK]`)
  const other = new Watch(WATCH_PORT, { imei, localAddress: '127.0.0.2' })
  await other.ready
  other.send('LK,100,0,80')
  await other.reply(`[3G*${imei}*0002*LK]`)
  let d = {}
  for (let i = 0; i < 50 && !d.takeover_at; i++) {
    d = (await api('GET', `/api/v1/devices/${id}`)).body
    if (!d.takeover_at) await new Promise((r) => setTimeout(r, 100))
  }
  assert.ok(d.takeover_at && d.commands_held, `flagged: ${JSON.stringify(d)}`)
  other.close()

  await staff.goto(BASE + `/devices?q=${imei}`)
  const row = staff.locator('[data-test=device-table] .el-table__row', { hasText: imei })
  await row.waitFor({ timeout: 10000 })
  const tag = row.locator('[data-test=device-takeover]')
  assert.equal((await tag.innerText()).trim(), '疑似冒用')
  await tag.hover()
  await staff.locator('.el-popper:visible', { hasText: '暂停下发' }).waitFor()
  await row.locator('a').click()
  await staff.waitForURL(new RegExp(`/devices/${id}$`))
  await staff.locator('[data-test=device-takeover]', { hasText: '疑似冒用' }).waitFor()
  await shot(staff, '7c-device-takeover')
  await staff.click('[data-test=device-confirm-identity]')
  const dlg = staff.locator('[data-test=confirm-identity-dialog]:visible')
  await dlg.waitFor()
  assert.match(await dlg.innerText(), /老人本人/)
  await dlg.locator('[data-test=confirm-identity-ok]').click()
  await staff.locator('[data-test=device-takeover]').waitFor({ state: 'detached' })
  assert.equal(await staff.locator('[data-test=device-confirm-identity]').count(), 0)
  d = (await api('GET', `/api/v1/devices/${id}`)).body
  assert.deepEqual([d.takeover_at, d.commands_held, !!d.takeover_confirmed_at], [null, false, true])
  // The alert list names the kind in Chinese.
  const alerts = await all(`/api/v1/alerts?kind=takeover&device_id=${id}`)
  assert.equal(alerts.length, 1)
  await staff.goto(BASE + `/alarms/${alerts[0].id}`)
  await staff.getByText('设备身份存疑（疑似冒用）').first().waitFor()
  real.close()
})

test('alarm channels: a JSON receiver is added (URL checked), switched off and deleted', async () => {
  await staff.goto(BASE + '/devices/webhooks')
  await staff.locator('[data-test=webhook-table]').waitFor()
  await staff.click('[data-test=webhook-add]')
  const dlg = staff.locator('[data-test=webhook-dialog]:visible')
  await dlg.waitFor()
  await dlg.locator('[data-test=webhook-name]').fill('E2E 值班群')
  await dlg.getByText('通用 JSON').click()
  await dlg.locator('[data-test=webhook-url]').fill('ftp://nope')
  await dlg.locator('[data-test=webhook-save]').click()
  assert.match(await dlg.locator('.el-form-item__error').first().innerText(), /地址/)
  // an internal address is refused (the instance metadata service); the test server allows only
  // 127.0.0.1 through outbound_allow, as a deployment allows the intranet receiver it really has
  await dlg.locator('[data-test=webhook-url]').fill('http://169.254.169.254/latest/meta-data')
  await dlg.locator('[data-test=webhook-save]').click()
  await dlg.locator('.el-form-item__error', { hasText: /内网|内部/ }).first().waitFor()
  await dlg.locator('[data-test=webhook-url]').fill('http://127.0.0.1:9/e2e-hook')
  await dlg.getByText('家属').click() // family level off: grid worker and duty staff only
  await shot(staff, '79-webhook-dialog')
  await dlg.locator('[data-test=webhook-save]').click()
  const row = staff.locator('[data-test=webhook-table] .el-table__row', { hasText: 'E2E 值班群' })
  await row.waitFor()
  assert.match(await row.innerText(), /通用 JSON/)
  let w = (await api('GET', '/api/v1/webhooks')).body.items.find((x) => x.name === 'E2E 值班群')
  // the URL carries robot keys: stored encrypted, shown masked (its start and last characters only)
  assert.deepEqual([w.format, w.levels, w.enabled], ['json', [0, 1], true])
  assert.equal(w.url, 'http://127.0.0.1:9/…hook')
  // the switch sends a PATCH: read the receiver back once its answer is in, not after a fixed pause
  const [toggled] = await Promise.all([
    staff.waitForResponse((q) => q.request().method() === 'PATCH' && new URL(q.url()).pathname === `/api/v1/webhooks/${w.id}`),
    row.locator('.el-switch').click(),
  ])
  assert.equal(toggled.status(), 200, await toggled.text())
  w = (await api('GET', `/api/v1/webhooks/${w.id}`)).body
  assert.equal(w.enabled, false)
  await row.getByText('删除').click()
  await staff.locator('.el-popconfirm:visible').getByRole('button', { name: /确定|Yes|OK/ }).click()
  await row.waitFor({ state: 'detached' })
  assert.equal((await api('GET', `/api/v1/webhooks/${w.id}`)).status, 404)
})
