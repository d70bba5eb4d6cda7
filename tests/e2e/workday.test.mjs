// A community worker's day in the browser (issue 19's "Must show"): the grid worker's home lists
// their overdue visits (one row per resident) and a click lands on the filtered task list; the
// problem list opens on the work (an open problem on its first page, oldest first) and the staff
// rating dialog has no default; the allowance outreach tab lists residents over 80 not receiving it;
// the resident page (一人一档) links to his care file, an application and an alarm.
// Screenshots go to tests/artifacts (90-…).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot } from './harness.mjs'

let browser, worker, staff
const errors = []

before(async () => {
  browser = await launch()
  worker = await (await newContext(browser)).newPage()
  staff = await (await newContext(browser)).newPage()
  for (const [p, who] of [[worker, 'worker'], [staff, 'staff']]) p.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
  await login(worker, 'wangge1')
  await login(staff, 'shequ')
})
after(async () => { await browser?.close() })

test("the grid worker's home lists overdue visits; a click lands on the filtered list", async () => {
  const overdue = await (await worker.request.get(BASE + '/api/v1/visit-tasks?status=open&overdue=true&limit=100')).json()
  assert.ok(overdue.total > 0, 'the demo has overdue visits in 第一网格')
  await worker.goto(BASE + '/')
  const card = worker.locator('[data-test=today-overdue-visits]')
  await card.waitFor()
  assert.equal((await card.locator('.value').innerText()).trim(), String(overdue.total), 'the card counts them')
  const rows = worker.locator('[data-test=today-overdue-list] .el-table__row')
  await rows.first().waitFor()
  const residents = new Set(overdue.items.map((t) => t.resident_id))
  assert.equal(await rows.count(), Math.min(8, residents.size), 'one row per resident')
  await shot(worker, '90-grid-worker-today')
  await card.click()
  await worker.waitForURL(/\/care\/tasks\?view=overdue/)
  await worker.locator('[data-test=days-overdue]').first().waitFor()
  const days = await worker.locator('[data-test=days-overdue]').first().innerText()
  assert.match(days.trim(), /^\d+$/, 'days overdue shown as a column')
  assert.deepEqual(errors, [])
})

test('the problem list opens on open problems, oldest first; rate on behalf starts with no stars', async () => {
  const open = await (await staff.request.get(BASE + '/api/v1/problems?status=pending&order=oldest&limit=1')).json()
  assert.ok(open.total > 0, 'open problems exist in the demo')
  await staff.goto(BASE + '/care/problems')
  const table = staff.locator('[data-test=problem-table]')
  await table.locator('.el-table__row').first().waitFor()
  const text = await table.innerText()
  assert.ok(text.includes(open.items[0].title), 'the oldest open problem is on the first page')
  assert.ok(!/已办结|已关闭/.test(await table.locator('.el-table__row').first().innerText()), 'first row is not closed')
  await shot(staff, '91-problems-open-first')
  // a resolved, unrated problem: the staff rating dialog has no default rating
  const resolved = await (await staff.request.get(BASE + '/api/v1/problems?status=resolved&limit=50')).json()
  const target = resolved.items.find((p) => !p.rating)
  if (target) {
    await staff.goto(`${BASE}/care/problems/${target.id}`)
    await staff.locator('[data-test=problem-rate]').click()
    const dialog = staff.locator('.el-dialog:visible')
    await dialog.waitFor()
    assert.equal(await dialog.locator('.el-rate__item .is-active, .el-rate__icon.is-active').count(), 0, 'no star preselected')
    await dialog.locator('.el-button--primary').click()
    await staff.locator('.el-message--warning').waitFor()
    const after = await (await staff.request.get(`${BASE}/api/v1/problems/${target.id}`)).json()
    assert.equal(after.rating, null, 'nothing rated without a choice')
  }
  const missing = await (await staff.request.get(BASE + '/api/v1/allowance/missing')).json()
  await staff.goto(BASE + '/services/allowance?tab=missing')
  await staff.locator('[data-test=missing-table]').waitFor()
  if (missing.items.length) await staff.locator('[data-test=missing-table] .el-table__row').first().waitFor()
  assert.deepEqual(errors, [])
})

test('the resident page links to his care file, an application and an alarm', async () => {
  const alerts = (await (await staff.request.get(BASE + '/api/v1/alerts?limit=100')).json()).items.filter((a) => a.resident_id)
  const apps = (await (await staff.request.get(BASE + '/api/v1/service-applications?limit=200')).json()).items
  const files = (await (await staff.request.get(BASE + '/api/v1/care-files?limit=200')).json()).items
  const filed = new Set(files.map((f) => f.resident_id))
  const withApp = new Set(apps.map((a) => a.resident_id))
  const a = alerts.find((x) => filed.has(x.resident_id) && withApp.has(x.resident_id)) || alerts.find((x) => filed.has(x.resident_id))
  assert.ok(a, 'a resident with a care file and an alarm in the demo')
  await staff.goto(`${BASE}/residents/${a.resident_id}`)
  await staff.locator('[data-test=hub-care-file]').waitFor()
  await staff.locator('[data-test=hub-alarm]').first().waitFor()
  if (withApp.has(a.resident_id)) await staff.locator('[data-test=hub-app]').first().waitFor()
  await shot(staff, '92-resident-hub')
  await staff.locator('[data-test=hub-alarm]').first().click()
  await staff.waitForURL(/\/alarms\/\d+/)
  await staff.goBack()
  await staff.locator('[data-test=hub-care-file]').click()
  await staff.waitForURL(/\/care\/files\/\d+/)
  assert.deepEqual(errors, [])
})
