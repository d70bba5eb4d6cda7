// Shared helpers for the browser tests: one headless chromium per test file (Debian's, through
// playwright-core), contexts per user, login through the real form, screenshots in tests/artifacts.
//
// Each test file has a server of its own. scripts/e2e.sh makes one demo community (init + demo)
// as a template and exports NX_E2E_TEMPLATE; importing this module copies the template to a fresh
// directory, starts `nuanxin serve` on a free loopback port over the copy and exports NX_BASE_URL,
// NX_DATA and NX_WATCH_PORT for the file before any of its tests runs. So no file sees what another
// changed (a setting, a password, a sale), and node's runner can run two files at once. The server
// stops when the file's process exits; its log is kept as tests/artifacts/e2e-server-FILE.log.
// Without NX_E2E_TEMPLATE the tests use the server NX_BASE_URL names (e.g. `make run`'s).
import { chromium, request } from 'playwright-core'
import { mkdirSync, mkdtempSync, cpSync, openSync, readFileSync, copyFileSync, rmSync } from 'node:fs'
import { join, basename } from 'node:path'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'

let own = null // the file's own server: {data, port, logPath, name, proc, exited}
if (process.env.NX_E2E_TEMPLATE) await startOwnServer()

/** The file's own server over a copy of the template (see the top of this file). */
async function startOwnServer() {
  const name = basename(process.argv[1] || 'test', '.mjs').replace(/\.test$/, '')
  const data = mkdtempSync(join(process.env.NX_E2E_ROOT || '/tmp', `${name}-`))
  cpSync(process.env.NX_E2E_TEMPLATE, data, { recursive: true })
  const port = await new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) })
    s.on('error', reject)
  })
  own = { data, port, logPath: join(data, 'server.log'), name, proc: null, exited: null }
  process.on('exit', () => {
    try { process.kill(own.proc.pid, 'SIGTERM') } catch { /* already gone */ }
    reportServerTrouble()
    if (process.env.NX_ARTIFACTS) {
      try { copyFileSync(own.logPath, join(process.env.NX_ARTIFACTS, `e2e-server-${name}.log`)) } catch { /* no log */ }
    }
  })
  await serveOwn([])
  // "nuanxin: gateway watch on 127.0.0.1:PORT" (none when the binary has no gateway: those tests skip).
  const m = /^nuanxin: gateway watch on .*:(\d+)$/m.exec(readFileSync(own.logPath, 'utf8'))
  process.env.NX_BASE_URL = `http://127.0.0.1:${port}`
  process.env.NX_DATA = data
  process.env.NX_WATCH_PORT = m ? m[1] : ''
  process.on('exit', () => {
    if (!process.env.NX_E2E_KEEP) try { rmSync(data, { recursive: true, force: true }) } catch { /* best effort */ }
  })
}

/** Print the server's errors, 5xx answers and requests slower than a second (at most 20 lines): a
 * failed test in CI then shows whether the server stalled or failed, without the artifacts. */
function reportServerTrouble() {
  let text
  try { text = readFileSync(own.logPath, 'utf8') } catch { return }
  // (an event stream is open for as long as its page: its access line is long by design, not slow)
  const bad = text.split('\n').filter((l) => / ERROR /.test(l) ||
    (/ http\.access /.test(l) && (/ status=5\d\d /.test(l) ||
      (!/ path=\S*\/stream /.test(l) && Number(/ ms=([\d.]+)/.exec(l)?.[1] || 0) >= 1000))))
  if (!bad.length) return
  console.log(`server ${own.name}: ${bad.length} error(s), 5xx or slow request(s)${bad.length > 20 ? ', the last 20' : ''}:`)
  for (const l of bad.slice(-20)) console.log(`  ${l}`)
}

/** Start `nuanxin serve` over the file's data with extra flags; resolves once /healthz answers. */
async function serveOwn(extra) {
  const log = openSync(own.logPath, 'a')
  const proc = spawn(process.env.NX_BIN, ['--data', own.data, 'serve', '--listen', `127.0.0.1:${own.port}`,
    '--web-root', process.env.NX_WEB_ROOT, '--outbound_allow', '127.0.0.1', ...extra], {
    env: { ...process.env, NUANXIN_WATCH_LISTEN: '127.0.0.1:0', NUANXIN_IW_LISTEN: 'off' },
    stdio: ['ignore', log, log],
  })
  proc.unref() // the file's process ends when its tests do; 'exit' above stops the server
  own.proc = proc
  own.exited = null
  proc.on('exit', (code, sig) => { if (own.proc === proc) own.exited = code ?? sig })
  const base = `http://127.0.0.1:${own.port}`
  for (let i = 0; ; i++) {
    if (own.exited !== null) throw new Error(`nuanxin did not start (exit ${own.exited}):\n${readFileSync(own.logPath, 'utf8')}`)
    try {
      if ((await fetch(base + '/healthz')).ok) break
    } catch { /* not listening yet */ }
    if (i > 300) throw new Error(`nuanxin did not answer /healthz in 30 s:\n${readFileSync(own.logPath, 'utf8')}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Restart the file's own server on the same data and port with extra flags (a configuration key a
 * test needs, e.g. ['--map-tiles', url]); sessions survive (they are in the database). The watch
 * gateway's port changes: NX_WATCH_PORT is updated. Only with the file's own server (NX_E2E_TEMPLATE).
 */
export async function restartServer(extra) {
  if (!own) throw new Error('restartServer needs the file\'s own server (NX_E2E_TEMPLATE)')
  const old = own.proc
  const gone = new Promise((resolve) => { if (old.exitCode !== null || old.signalCode !== null) resolve(); else old.once('exit', resolve) })
  old.kill('SIGTERM')
  await gone
  const before = readFileSync(own.logPath, 'utf8').length
  await serveOwn(extra)
  const m = /^nuanxin: gateway watch on .*:(\d+)$/m.exec(readFileSync(own.logPath, 'utf8').slice(before))
  process.env.NX_WATCH_PORT = m ? m[1] : ''
}

export const BASE = process.env.NX_BASE_URL || 'http://127.0.0.1:8080'
export const ARTIFACTS = process.env.NX_ARTIFACTS || new URL('../artifacts', import.meta.url).pathname
// The demo gives each account its own random password; scripts/e2e.sh has it give them all this one.
export const DEMO_PASSWORD = process.env.NX_DEMO_PASSWORD || ''
mkdirSync(ARTIFACTS, { recursive: true })

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage']

export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS })
}

/** A fresh context (own cookies) at desktop size, or phone size with { phone: true }. */
export function newContext(browser, { phone = false } = {}) {
  return browser.newContext(phone
    ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', acceptDownloads: true }
    : { viewport: { width: 1440, height: 900 }, locale: 'zh-CN', acceptDownloads: true })
}

/** Log in through the form at path ('/login' or '/m/login') and wait for the app to leave it. */
export async function login(page, username, password = DEMO_PASSWORD, path = '/login') {
  await page.goto(BASE + path)
  await page.fill('input[name=username]', username)
  await page.fill('input[name=password]', password)
  await page.click('[data-test=login-submit]')
  await page.waitForURL((u) => !u.pathname.endsWith('/login'), { timeout: 10000, waitUntil: 'commit' })
}

/**
 * Switch the console's language from its header menu (label: 'English' or '中文') and wait until the
 * page is in it (the lang-switch button shows the label). The menu is opened and the item picked
 * again when the first pick did not take: in two clean-clone runs the switch back to 中文 stayed in
 * English once (the item clicked while its menu opened a second time; the cause in Element Plus's
 * dropdown is not found). A switch that never takes still fails, after three tries.
 */
export async function switchLanguage(page, label) {
  const taken = () => page.waitForFunction((l) => document.querySelector('[data-test=lang-switch]')?.innerText.trim() === l, label, { timeout: 5000 })
    .then(() => true, () => false)
  for (let i = 0; i < 3; i++) {
    await page.click('[data-test=lang-switch]')
    await page.locator('.el-dropdown-menu__item:visible', { hasText: label }).click()
    if (await taken()) return
    await page.keyboard.press('Escape') // a menu left open is closed before the next try
  }
  throw new Error(`the console did not switch to ${label}`)
}

/**
 * Read until ok(value) holds or `timeout` ms (30 s, the patience of Playwright's own waits) have
 * passed, and return the last value read. For what a
 * page shows once a request of its own has answered or a re-render has run (a row count, a figure,
 * an attribute): Playwright's one-shot reads (innerText, count, getAttribute, …) take the page as it
 * is at that moment and do not wait for content. The caller asserts on the value returned, so a page
 * that never gets there still fails, with the assertion's own message and the last value seen.
 */
export async function settled(read, ok, { timeout = 30000 } = {}) {
  const end = Date.now() + timeout
  for (;;) {
    const value = await read()
    if (await ok(value) || Date.now() >= end) return value
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** GET /api/v1/me of a demo account (its resident_id, grid_id, …), through a login of its own: the
 * demo's ids are looked up, not written into the tests. */
export async function demoAccount(username, password = DEMO_PASSWORD) {
  const ctx = await request.newContext({ baseURL: BASE })
  try {
    const res = await ctx.post('/api/v1/auth/login', { data: { username, password } })
    if (!res.ok()) throw new Error(`login of ${username}: ${res.status()} ${await res.text()}`)
    return await (await ctx.get('/api/v1/me')).json()
  } finally {
    await ctx.dispose()
  }
}

export async function shot(page, name) {
  await page.waitForTimeout(250) // let transitions settle
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

/** Names of the entries in a zip file's central directory (enough to check an xlsx). */
export function zipEntries(buf) {
  let eocd = -1
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break }
  }
  if (eocd < 0) throw new Error('not a zip file: no end of central directory')
  const count = buf.readUInt16LE(eocd + 10)
  let off = buf.readUInt32LE(eocd + 16)
  const names = []
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) throw new Error('bad central directory entry')
    const nameLen = buf.readUInt16LE(off + 28), extra = buf.readUInt16LE(off + 30), comment = buf.readUInt16LE(off + 32)
    names.push(buf.toString('utf8', off + 46, off + 46 + nameLen))
    off += 46 + nameLen + extra + comment
  }
  return names
}

/** Run fn with 长辈模式 on for the signed-in resident on page (at /m), and leave the account's
 * setting as it was afterwards (the account remembers it, and later tests of the file expect it off). */
export async function inElderMode(page, fn) {
  await page.locator('[data-test=elder-switch]').waitFor()
  const wasOn = await page.evaluate(() => document.documentElement.classList.contains('elder'))
  if (!wasOn) await page.click('[data-test=elder-switch]')
  await page.waitForFunction(() => document.documentElement.classList.contains('elder'))
  try {
    await fn()
  } finally {
    if (!wasOn) {
      await page.goto(BASE + '/m')
      await page.click('[data-test=elder-switch]')
      await page.waitForFunction(() => !document.documentElement.classList.contains('elder'))
    }
  }
}
