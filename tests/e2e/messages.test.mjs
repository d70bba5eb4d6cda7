// Messages that reach people: the community's staff member (shequ) sees the escalations the visit
// scheduler raised in the header inbox and opens one — it leads to the care file and counts as read;
// a resident (jumin) on a phone in 长辈模式 opens the notice sent to their grid from 消息 and reads it
// in large type, and the notice is marked read; the staff member takes attendance at the demo's policy
// briefing and the count goes up. Values are looked up on the page, never typed from the demo's output.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot } from './harness.mjs'

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

async function count(page) {
  const sup = page.locator('[data-test=inbox-count] sup')
  if (!(await sup.isVisible())) return 0
  const t = (await sup.innerText()).trim()
  return t.endsWith('+') ? 100 : Number(t)
}

test('staff open an escalation from the header inbox', async () => {
  const ctx = await newContext(browser)
  const page = await ctx.newPage()
  await login(page, 'shequ')
  await page.locator('[data-test=inbox-bell]').waitFor()
  await page.waitForFunction(() => !!document.querySelector('[data-test=inbox-count] sup'), null, { timeout: 10000 })
  const before = await count(page)
  assert.ok(before > 0, `unread messages in the header (${before})`)
  await page.click('[data-test=inbox-bell]')
  const item = page.locator('[data-test=inbox-item]', { hasText: '逾期' }).first()
  await item.waitFor()
  await shot(page, '60-header-inbox')
  await Promise.all([
    page.waitForResponse((r) => /\/api\/v1\/notifications\/\d+\/read$/.test(r.url()) && r.status() === 204),
    item.click(),
  ])
  // the page that handles it: a care file (an overdue visit), a problem, or the council's decision or
  // board (an overdue council step or milestone)
  await page.waitForURL((u) => /^\/(care\/(files|problems)\/\d+|council(\/decisions\/\d+)?)$/.test(u.pathname), { waitUntil: 'commit' })
  if (before < 100) await page.waitForFunction((n) => {
    const s = document.querySelector('[data-test=inbox-count] sup')
    return !s || s.offsetParent === null || Number(s.textContent.trim()) === n - 1
  }, before, { timeout: 5000 })
  await shot(page, '61-escalation-opened')
  await ctx.close()
})

test('a resident reads a notice on a phone in 长辈模式', async () => {
  const ctx = await newContext(browser, { phone: true })
  const page = await ctx.newPage()
  await login(page, 'jumin', undefined, '/m/login')
  await page.locator('[data-test=elder-switch]').waitFor()
  const wasElder = await page.evaluate(() => document.documentElement.classList.contains('elder'))
  if (!wasElder) {
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/v1/me/preferences')), page.click('[data-test=elder-switch]')])
    await page.waitForFunction(() => document.documentElement.classList.contains('elder'))
  }
  try {
    await page.goto(BASE + '/m/notifications')
    const note = page.locator('[data-test=m-note]', { hasText: '停水' }).first()
    await note.waitFor()
    await Promise.all([page.waitForURL((u) => /^\/m\/notices\/\d+$/.test(u.pathname), { waitUntil: 'commit' }), note.click()])
    const title = page.locator('[data-test=m-notice-title]')
    await title.waitFor()
    assert.match(await title.innerText(), /停水/)
    const px = await page.locator('[data-test=m-notice-body]').evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
    assert.ok(px >= 20, `large text in 长辈模式 (${px}px)`)
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    assert.ok(width <= 390, `no horizontal overflow (${width}px)`)
    await shot(page, '62-m-notice-elder')
    await page.goto(BASE + '/m/notifications')
    const again = page.locator('[data-test=m-note]', { hasText: '停水' }).first()
    await again.waitFor()
    assert.ok(!(await again.getAttribute('class')).includes('unread'), 'the notice now reads as read')
  } finally {
    if (!wasElder) { // leave the account as the other tests expect it
      await page.goto(BASE + '/m')
      await page.locator('[data-test=elder-switch]').waitFor()
      await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/v1/me/preferences')), page.click('[data-test=elder-switch]')])
    }
    await ctx.close()
  }
})

test('staff take attendance at a policy briefing', async () => {
  const ctx = await newContext(browser)
  const page = await ctx.newPage()
  await login(page, 'shequ')
  await page.goto(BASE + '/messages/briefings')
  const row = page.locator('[data-test=briefing-table] .el-table__row').first()
  await row.waitFor()
  await row.locator('[data-test=briefing-door]').click()
  const counts = page.locator('[data-test=briefing-counts]')
  await counts.waitFor()
  const attended = async () => Number((await counts.innerText()).match(/(\d+)\D*$/)[1])
  const before = await attended()
  const box = page.locator('.el-checkbox[data-test^=attend-]:not(.is-checked)').first()
  await box.waitFor()
  await Promise.all([
    page.waitForResponse((r) => /\/api\/v1\/briefings\/\d+\/attendance$/.test(r.url()) && r.status() === 200),
    box.click(),
  ])
  await page.waitForFunction((n) => {
    const m = document.querySelector('[data-test=briefing-counts]')?.textContent.match(/(\d+)\D*$/)
    return m && Number(m[1]) === n + 1
  }, before, { timeout: 5000 })
  assert.equal(await attended(), before + 1, 'one more attended')
  await shot(page, '63-briefing-attendance')
  await ctx.close()
})
