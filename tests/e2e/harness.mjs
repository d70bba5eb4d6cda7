// Shared helpers for the browser tests: one headless chromium per test file (Debian's, through
// playwright-core), contexts per user, login through the real form, screenshots in tests/artifacts.
// The server is started by scripts/e2e.sh, which exports NX_BASE_URL, NX_ADMIN_PASSWORD and
// NX_DEMO_PASSWORD.
import { chromium } from 'playwright-core'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

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
 * setting as it was afterwards (the account remembers it, and later files expect it off). */
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
