// Web performance budget, measured in headless chromium against a running nuanxin (NX_BASE_URL):
//  - JS + CSS transferred (bytes on the wire, gzip as served) for the login page and the dashboard,
//    each from a cold cache (a fresh browser context);
//  - time from navigation start to the dashboard being usable (key figures shown and the three
//    charts drawn), median of RUNS cold loads for an already signed-in user.
// Run: scripts/e2e.sh --perf   (builds, starts a demo server, runs this file; prints a table)
import { launch, BASE, DEMO_PASSWORD } from './harness.mjs'

const RUNS = Number(process.env.RUNS || 7)
const BUDGET_LOGIN = 350 * 1024

function median(a) {
  const s = [...a].sort((x, y) => x - y)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Collect JS/CSS responses of a page: [{url, type, bytes}] with bytes = encoded body size. */
function collect(page) {
  const list = []
  page.on('requestfinished', async (req) => {
    const type = req.resourceType()
    if (type !== 'script' && type !== 'stylesheet') return
    const sizes = await req.sizes().catch(() => null)
    list.push({ url: req.url(), type, bytes: sizes ? sizes.responseBodySize : 0 })
  })
  return list
}
const kb = (n) => (n / 1024).toFixed(1)

const browser = await launch()
try {
  // Login page, cold.
  let ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } })
  let page = await ctx.newPage()
  let res = collect(page)
  await page.goto(BASE + '/login', { waitUntil: 'networkidle' })
  await page.locator('[data-test=login-submit]').waitFor()
  const loginBytes = res.reduce((s, r) => s + r.bytes, 0)
  const loginFiles = res.length
  await ctx.close()

  // Dashboard, cold cache, signed in (cookie from an API login in the same context).
  const times = []
  let dashBytes = 0, dashFiles = 0
  for (let i = 0; i < RUNS; i++) {
    ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } })
    const r = await ctx.request.post(BASE + '/api/v1/auth/login', { data: { username: 'shequ', password: DEMO_PASSWORD } })
    if (!r.ok()) throw new Error(`login failed: ${r.status()}`)
    page = await ctx.newPage()
    res = collect(page)
    await page.goto(BASE + '/')
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-test=figure-residents] .value')
      return v && /\d/.test(v.textContent) && document.querySelectorAll('.chart canvas').length === 3
    }, null, { polling: 'raf', timeout: 20000 })
    // performance.now() is measured from the navigation's time origin.
    times.push(await page.evaluate(() => performance.now()))
    await page.waitForLoadState('networkidle')
    if (i === 0) {
      dashBytes = res.reduce((s, x) => s + x.bytes, 0)
      dashFiles = res.length
    }
    await ctx.close()
  }

  console.log(`base: ${BASE}   chromium headless, cold cache per run, localhost`)
  console.log(`login page     JS+CSS transferred: ${kb(loginBytes)} KiB in ${loginFiles} files (budget ${kb(BUDGET_LOGIN)} KiB) ${loginBytes <= BUDGET_LOGIN ? 'OK' : 'OVER'}`)
  console.log(`dashboard      JS+CSS transferred: ${kb(dashBytes)} KiB in ${dashFiles} files`)
  console.log(`dashboard usable after navigation: median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (${RUNS} runs)`)
  if (loginBytes > BUDGET_LOGIN) process.exitCode = 1
} finally {
  await browser.close()
}
