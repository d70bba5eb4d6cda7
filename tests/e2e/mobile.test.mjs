// Resident pages on a phone-sized viewport: jumin (王建国) logs in on /m/login, sees their profile
// and household, turns on 长辈模式 (≥ 20 px text, big touch targets), and the setting is remembered
// for the user across a new login in a fresh browser context.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot } from './harness.mjs'

let browser, ctx, page
before(async () => {
  browser = await launch()
  ctx = await newContext(browser, { phone: true })
  page = await ctx.newPage()
})
after(async () => { await browser?.close() })

async function fontPx(sel) {
  return page.locator(sel).first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
}

test('a resident opening the staff console is sent to the resident pages', async () => {
  await page.goto(BASE + '/m/login')
  await shot(page, '15-m-login')
  await login(page, 'jumin', undefined, '/m/login')
  assert.equal(new URL(page.url()).pathname, '/m')
  await page.goto(BASE + '/residents')
  await page.waitForURL((u) => u.pathname === '/m', { waitUntil: 'commit' })
})

test('my profile and household on a phone', async () => {
  await page.locator('[data-test=m-profile]').waitFor()
  assert.match(await page.locator('[data-test=m-hello]').innerText(), /王建国/)
  const hh = await page.locator('[data-test=m-household]').innerText()
  assert.match(hh, /户主/)
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 390, `no horizontal overflow (${width}px)`)
  await shot(page, '16-m-home')
})

test('长辈模式: large text and touch targets, remembered for the user', async () => {
  // the account's choice is remembered, and earlier test files may have left it on: start from off
  if (await page.evaluate(() => document.documentElement.classList.contains('elder'))) {
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/me/preferences')),
      page.click('[data-test=elder-switch]'),
    ])
    await page.waitForFunction(() => !document.documentElement.classList.contains('elder'))
  }
  const before = await fontPx('[data-test=m-profile] .m-row')
  assert.ok(before < 20, `normal text ${before}px`)
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/me/preferences')),
    page.click('[data-test=elder-switch]'),
  ])
  assert.equal(res.status(), 200)
  await page.waitForFunction(() => document.documentElement.classList.contains('elder'))
  assert.ok((await fontPx('[data-test=m-profile] .m-row')) >= 20)
  assert.ok((await fontPx('[data-test=m-hello]')) >= 20)
  const btn = await page.locator('[data-test=m-logout]').boundingBox()
  assert.ok(btn.height >= 48, `logout button ${btn.height}px high`)
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 390, `no horizontal overflow in 长辈模式 (${width}px)`)
  await shot(page, '17-m-elder')

  // A different browser: same user, same setting (it is stored on the server).
  const other = await newContext(browser, { phone: true })
  const p2 = await other.newPage()
  await login(p2, 'jumin', undefined, '/m/login')
  await p2.locator('[data-test=m-profile]').waitFor()
  assert.ok(await p2.evaluate(() => document.documentElement.classList.contains('elder')), 'elder mode remembered')
  await other.close()
})
