// A grid worker (wangge1) sees only their own grid: the list, the filters and the dashboard are
// limited to 第一网格, a resident of another grid cannot be opened by a deep link, and the menu has
// no import, export or system pages.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot, demoAccount } from './harness.mjs'

let browser, page, otherId
before(async () => {
  browser = await launch()
  // A resident of another grid than wangge1's (its id looked up, not assumed), found with the staff
  // account's API session.
  const own = (await demoAccount('wangge1')).grid_id
  const staff = await newContext(browser)
  const sp = await staff.newPage()
  await login(sp, 'shequ')
  const other = (await (await sp.request.get(BASE + '/api/v1/grids?limit=200')).json()).items.find((g) => g.id !== own && g.resident_count > 0)
  const res = await sp.request.get(BASE + `/api/v1/residents?grid_id=${other.id}&limit=1`)
  otherId = (await res.json()).items[0].id
  await staff.close()
  page = await (await newContext(browser)).newPage()
})
after(async () => { await browser?.close() })

test('wangge1 sees only 第一网格 residents', async () => {
  await login(page, 'wangge1')
  const side = await page.locator('[data-test=sidebar]').innerText()
  assert.ok(side.includes('居民信息'))
  assert.ok(!side.includes('批量导入') && !side.includes('审计日志') && !side.includes('账号与角色'), `menu: ${side}`)
  await page.goto(BASE + '/residents')
  await page.locator('[data-test=resident-table] .el-table__row').first().waitFor()
  const grids = await page.locator('[data-test=resident-table] .el-table__row td:nth-child(6)').allInnerTexts()
  assert.ok(grids.length > 0)
  assert.deepEqual([...new Set(grids)], ['第一网格'])
  assert.equal(await page.locator('[data-test=export]').count(), 0, 'no export right')
  await page.locator('[data-test=filter-grid]').click()
  await page.locator('.el-select-dropdown__item:visible').first().waitFor()
  const options = await page.locator('.el-select-dropdown__item:visible').allInnerTexts()
  assert.deepEqual(options, ['第一网格'])
  await page.keyboard.press('Escape')
  await shot(page, '12-grid-worker-residents')
})

test('wangge1 dashboard counts only their grid', async () => {
  await page.goto(BASE + '/')
  await page.locator('[data-test=by-grid] .el-table__row').first().waitFor()
  const rows = await page.locator('[data-test=by-grid] .el-table__row').allInnerTexts()
  assert.equal(rows.length, 1)
  assert.match(rows[0], /第一网格/)
  await page.waitForTimeout(600)
  await shot(page, '13-grid-worker-dashboard')
})

test('a resident of another grid cannot be opened', async () => {
  await page.goto(`${BASE}/residents/${otherId}`)
  await page.locator('[data-test=error-state]').waitFor()
  const text = await page.locator('[data-test=error-state]').innerText()
  assert.match(text, /无权|不存在/)
  await shot(page, '14-grid-worker-other-grid')
})
