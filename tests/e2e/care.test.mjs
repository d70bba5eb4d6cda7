// Care files, home visits, problems and grid scope in the browser (issue 6's "Must show" loop):
// staff open a 勤访 file and the scheduler (run with a pinned clock) adds one task a week; a grid
// worker records a visit on a phone-sized viewport with a need raised; the need becomes a problem
// that staff assign, work on and resolve; the resident (jumin = 王建国) rates it on /m; overdue and
// escalated tasks show on the task list and the dashboard; another grid's worker cannot open the
// file. Screenshots go to tests/artifacts (30-…).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { BASE, launch, newContext, login, shot, demoAccount, settled } from './harness.mjs'

let browser, staff, worker, resident
const errors = []
const NEED = '午饭没有热饭，希望食堂送餐上门'
let careFileId // 王建国's care file (第一网格)
let wjgId // 王建国: the resident account jumin's person, looked up (before)
let grid1 // 第一网格's id (wangge1's grid), looked up (before)
let problemId

/** YYYY-MM-DD in Asia/Shanghai, offset by days. */
function shanghaiDay(offset = 0) {
  return new Date(Date.now() + 8 * 3600e3 + offset * 86400e3).toISOString().slice(0, 10)
}
function watchErrors(page, who) {
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
}
/** Pick an option in the currently open Element Plus select dropdown by its text (exact: a part of the
 * option reads exactly text, e.g. a resident's name and not a longer name that holds it). */
async function pickOption(page, text, { exact = false } = {}) {
  const items = page.locator('.el-select-dropdown__item:visible')
  const opt = (exact ? items.filter({ has: page.getByText(text, { exact: true }) }) : items.filter({ hasText: text })).first()
  await opt.waitFor()
  await opt.click()
}

before(async () => {
  browser = await launch()
  staff = await (await newContext(browser)).newPage()
  worker = await (await newContext(browser, { phone: true })).newPage()
  resident = await (await newContext(browser, { phone: true })).newPage()
  watchErrors(staff, 'staff')
  watchErrors(worker, 'worker')
  watchErrors(resident, 'resident')
  await login(staff, 'shequ')
  wjgId = (await demoAccount('jumin')).resident_id
  grid1 = (await demoAccount('wangge1')).grid_id
  assert.ok(wjgId && grid1, 'the demo accounts jumin and wangge1 name their resident and grid')
  const files = await (await staff.request.get(BASE + `/api/v1/care-files?resident_id=${wjgId}`)).json()
  careFileId = files.items[0]?.id
})
after(async () => { await browser?.close() })

test('staff open a 勤访 care file: a weekly task at once, one more per week from the scheduler', async () => {
  // A 第一网格 resident without a care file, found through the staff session's API.
  const res = (await (await staff.request.get(BASE + `/api/v1/residents?grid_id=${grid1}&status=active&limit=200`)).json()).items
  const filed = new Set((await (await staff.request.get(BASE + `/api/v1/care-files?grid_id=${grid1}&status=all&limit=200`)).json()).items.map((f) => f.resident_id))
  const names = new Map()
  for (const r of res) names.set(r.name, (names.get(r.name) || 0) + 1)
  // The picker searches the whole community: the name must be one resident's only.
  let who
  for (const r of res.filter((r) => !filed.has(r.id) && names.get(r.name) === 1)) {
    const same = (await (await staff.request.get(BASE + `/api/v1/residents?q=${encodeURIComponent(r.name)}&status=active&limit=50`)).json()).items
    if (same.filter((o) => o.name === r.name).length === 1) { who = r; break }
  }
  assert.ok(who, 'a resident without a care file whose name is nobody else\'s')

  await staff.goto(BASE + '/care/files')
  await staff.locator('[data-test=care-file-table] .el-table__row').first().waitFor()
  const side = await staff.locator('[data-test=sidebar]').innerText()
  for (const item of ['关怀档案', '走访任务', '走访记录', '诉求（解难题）', '关怀统计', '网格成员', '网格事件'])
    assert.ok(side.includes(item), `sidebar has ${item}`)
  assert.ok(!side.includes('走访规则与字典'), 'no care.admin page for community staff')
  await staff.click('[data-test=new-care-file]')
  const dlg = staff.locator('[data-test=care-file-dialog]')
  // The pick must show as the select's value before the next field is touched. Twice in CI (stop 29
  // and a clean-clone run of 2026-12-07) the form went to 保存 with 居民 empty: the server saw the one
  // search and no pick. Here it happened once in four runs (two of this file alone, two beside
  // canteen.test.mjs; the miss was in one of the latter, on the first pick). The likeliest cause, not
  // proven: the click on the remote list was made while the dialog was still sliding in and landed
  // beside the option. So the dialog's opening animation is waited for, and the pick is checked and
  // made again, at most three times; a retry is printed in the log. The check reads Element Plus's
  // own markup: the select shows its picked label in .el-select__placeholder without .is-transparent.
  await dlg.waitFor()
  await staff.waitForFunction(() => document.getAnimations().every((a) => a.effect?.getTiming().iterations === Infinity || a.playState !== 'running'))
  const picked = dlg.locator('[data-test=resident-picker] .el-select__placeholder:not(.is-transparent)')
  for (let i = 0; ; i++) {
    await dlg.locator('[data-test=resident-picker] input').fill(who.name)
    await pickOption(staff, who.name, { exact: true })
    try {
      await picked.waitFor({ timeout: 3000 })
      break
    } catch (err) {
      if (i === 2) throw err
      console.log(`the resident pick did not take (attempt ${i + 1}); picking again`)
    }
  }
  assert.equal((await picked.innerText()).trim(), who.name, 'the picker shows the resident picked')
  await dlg.locator('[data-test=file-category]').click()
  await pickOption(staff, '独居')
  await dlg.locator('[data-test=file-level]').click()
  await pickOption(staff, '勤访')
  await shot(staff, '30-care-file-new')
  const [saved] = await Promise.all([
    staff.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/care-files'),
    dlg.locator('[data-test=file-save]').click()])
  assert.equal(saved.status(), 201, `the care file is created: ${await saved.text()}`)
  assert.equal((await saved.json()).resident_id, who.id, 'for the resident picked')
  await staff.waitForURL(/\/care\/files\/\d+$/)
  await staff.locator('[data-test=file-profile]').waitFor()
  assert.match(await staff.locator('[data-test=file-level-tag]').innerText(), /勤访/)
  const rows = staff.locator('[data-test=file-tasks] .el-table__row')
  await rows.first().waitFor()
  assert.equal(await rows.count(), 1, 'the current week has its task at once')
  const due1 = (await rows.first().locator('td').first().innerText()).trim()
  assert.equal(new Date(due1 + 'T00:00:00Z').getUTCDay(), 0, `a weekly task is due on Sunday (${due1})`)

  // The scheduler a week later (pinned clock, same data): exactly one more task, due 7 days later.
  if (!process.env.NX_BIN || !process.env.NX_DATA) return
  const now = `${shanghaiDay(7)}T10:00:00+08:00`
  for (let i = 0; i < 2; i++) execFileSync(process.env.NX_BIN, ['--data', process.env.NX_DATA, 'visits', 'schedule', '--now', now], { stdio: 'pipe' })
  await staff.reload()
  await staff.locator('[data-test=file-tasks] .el-table__row').nth(1).waitFor()
  const dues = (await staff.locator('[data-test=file-tasks] .el-table__row td:first-child').allInnerTexts()).map((s) => s.trim()).sort()
  assert.equal(dues.length, 2, `two weekly tasks after running the scheduler twice: ${dues}`)
  assert.equal((Date.parse(dues[1]) - Date.parse(dues[0])) / 86400e3, 7, `a week apart: ${dues}`)
  assert.match(await staff.locator('[data-test=timeline]').innerText(), /建档/)
  await shot(staff, '31-care-file-weekly-tasks')
})

test('a grid worker records a visit on a phone with a need raised', async () => {
  assert.ok(careFileId, '王建国 has a care file in the demo')
  await login(worker, 'wangge1')
  await worker.goto(BASE + '/care/files')
  // On a phone the sidebar is a drawer.
  assert.equal(await worker.locator('[data-test=sidebar]').count(), 0)
  await worker.click('[data-test=menu-toggle]')
  await worker.locator('[data-test=nav-drawer]').getByText('关怀档案').waitFor()
  await worker.keyboard.press('Escape')
  await worker.locator('[data-test=filter-resident] input').fill('王建国')
  await pickOption(worker, '王建国')
  await worker.waitForURL(new RegExp(`resident_id=${wjgId}(&|$)`))
  await worker.locator('[data-test=care-file-table] .el-table__row', { hasText: '王建国' }).first().click()
  await worker.waitForURL(new RegExp(`/care/files/${careFileId}$`))
  await worker.click('[data-test=record-visit]')
  await worker.waitForURL(/\/care\/visits\/new\?care_file_id=/)
  assert.match(await worker.locator('[data-test=visit-target]').innerText(), /王建国/)
  assert.equal(await worker.locator('[data-test=visit-date]').inputValue(), shanghaiDay(0), 'date defaults to today')
  assert.equal(await worker.locator('[data-test=photo-input]').getAttribute('accept'), 'image/*')
  assert.ok(await worker.locator('[data-test=photo-input]').getAttribute('capture'), 'camera capture on phones')
  await worker.locator('[data-test=visit-kind]').getByText('入户走访').click()
  await worker.locator('textarea[data-test=visit-findings]').fill('老人独自在家，午饭是剩菜，精神尚可')
  await worker.locator('[data-test=visit-mood]').getByText('一般').click()
  await worker.click('[data-test=add-need]')
  await worker.locator('[data-test=need-0] [data-test=need-category]').click()
  await pickOption(worker, '助餐')
  await worker.locator('[data-test=need-0] input[data-test=need-title]').fill(NEED)
  // A photo from the "camera": a 1×1 PNG.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==', 'base64')
  await worker.locator('[data-test=photo-input]').setInputFiles({ name: 'visit.png', mimeType: 'image/png', buffer: png })
  const width = await worker.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 390, `no horizontal overflow on the phone form (${width}px)`)
  await worker.evaluate(() => window.scrollTo(0, 0)) // the sticky header stays on top in the full-page shot
  await shot(worker, '32-visit-form-phone')
  await worker.click('[data-test=visit-submit]')
  await worker.waitForURL(/\/care\/visits\/\d+$/)
  const problems = worker.locator('[data-test=visit-problems] .el-table__row')
  await problems.first().waitFor()
  assert.match(await problems.first().innerText(), new RegExp(NEED))
  await worker.locator('[data-test=visit-photos] .el-image img').first().waitFor()
  await shot(worker, '33-visit-saved-phone')
  const href = await problems.first().locator('a').getAttribute('href')
  problemId = Number(href.split('/').pop())
  assert.ok(problemId > 0)
})

test('staff assign, work on and resolve the problem', async () => {
  assert.ok(problemId)
  await staff.goto(BASE + '/care/problems?status=open')
  const row = staff.locator('[data-test=problem-table] .el-table__row', { hasText: NEED })
  await row.first().waitFor()
  await row.first().click()
  await staff.waitForURL(new RegExp(`/care/problems/${problemId}$`))
  assert.match(await staff.locator('[data-test=problem-status]').innerText(), /待办/)
  await staff.click('[data-test=problem-assign]')
  await staff.locator('[data-test=problem-assignee-select]').click()
  await pickOption(staff, '第一网格网格员')
  await staff.click('[data-test=problem-submit]')
  await staff.waitForFunction(() => /已交办/.test(document.querySelector('[data-test=problem-status]')?.innerText || ''))
  assert.match(await staff.locator('[data-test=problem-assignee]').innerText(), /第一网格网格员/)
  await staff.click('[data-test=problem-note]')
  await staff.locator('textarea[data-test=problem-text]').fill('已联系幸福食堂，明天起送餐')
  await staff.click('[data-test=problem-submit]')
  await staff.waitForFunction(() => /办理中/.test(document.querySelector('[data-test=problem-status]')?.innerText || ''))
  await staff.click('[data-test=problem-resolve]')
  await staff.locator('textarea[data-test=problem-text]').fill('幸福食堂每天中午送餐上门')
  await staff.click('[data-test=problem-submit]')
  await staff.waitForFunction(() => /已解决/.test(document.querySelector('[data-test=problem-status]')?.innerText || ''))
  const tl = await staff.locator('[data-test=timeline]').innerText()
  for (const step of ['提出', '交办', '办理进展', '办结']) assert.ok(tl.includes(step), `timeline has ${step}: ${tl}`)
  await shot(staff, '34-problem-resolved')
})

test('the resident sees the problem on /m and rates it', async () => {
  await login(resident, 'jumin', undefined, '/m/login')
  await resident.click('[data-test=m-nav-problems]')
  await resident.waitForURL(/\/m\/problems$/)
  await resident.locator('[data-test=m-problem-list]').getByText(NEED).click()
  await resident.waitForURL(new RegExp(`/m/problems/${problemId}$`))
  assert.match(await resident.locator('[data-test=m-problem-status]').innerText(), /已解决/)
  assert.match(await resident.locator('[data-test=m-resolution]').innerText(), /送餐上门/)
  await resident.locator('[data-test=m-rate-stars] .el-rate__item').nth(4).click()
  await shot(resident, '35-m-problem-rate')
  await resident.click('[data-test=m-rate-submit]')
  await resident.locator('[data-test=m-rated]').waitFor()
  assert.match(await resident.locator('[data-test=m-problem-status]').innerText(), /已办结/)
  const width = await resident.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 390, `no horizontal overflow (${width}px)`)
  await shot(resident, '36-m-problem-rated')
  // Staff see the rating.
  await staff.reload()
  await staff.locator('[data-test=problem-rating] .el-rate').waitFor()
  assert.equal(await staff.locator('[data-test=problem-rating] .el-rate__item .is-active').count(), 5)
})

test('a resident asks for help and reports an incident (随手拍) on /m', async () => {
  await resident.goto(BASE + '/m/problems')
  await resident.click('[data-test=m-raise]')
  await resident.locator('[data-test=m-problem-category]').getByText('住房维修').click()
  await resident.locator('input[data-test=m-problem-title]').fill('厨房水龙头漏水')
  await resident.click('[data-test=m-problem-submit]')
  await resident.waitForURL(/\/m\/problems\/\d+$/)
  assert.match(await resident.locator('[data-test=m-problem-status]').innerText(), /待办/)
  await resident.goto(BASE + '/m/incidents')
  const form = resident.locator('[data-test=m-incident-form]')
  await form.getByText('设施损坏').click()
  await resident.locator('input[data-test=m-incident-title]').fill('楼道灯坏了')
  await resident.locator('input[data-test=m-incident-place]').fill('1号楼2单元')
  await resident.click('[data-test=m-incident-submit]')
  await resident.locator('[data-test=m-incident-list]').getByText('楼道灯坏了').waitFor()
  await shot(resident, '37-m-incident')
})

test('overdue and escalated visit tasks show on the task list and the dashboard', async () => {
  await staff.goto(BASE + '/care/tasks?view=overdue')
  await staff.locator('[data-test=task-table] .el-table__row').first().waitFor()
  const status = await staff.locator('[data-test=task-status]').allInnerTexts()
  assert.ok(status.length > 0 && status.every((s) => s.includes('逾期')), 'every row overdue')
  assert.ok(status.some((s) => s.includes('已上报')), 'escalated tasks marked')
  await shot(staff, '38-tasks-overdue')
  // the 已上报 view: only escalated tasks, fewer than or as many as the overdue ones
  // the overdue rows stay until the list's answer for 已上报 comes: wait for that answer (not a fixed
  // pause), then for its rows to be drawn
  const [answer] = await Promise.all([
    staff.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/visit-tasks' && new URL(r.url()).searchParams.get('escalated') === 'true'),
    staff.click('[data-test=task-view-escalated]'),
  ])
  await staff.waitForURL(/view=escalated/)
  const shown = (await answer.json()).items.length
  const escalated = await settled(() => staff.locator('[data-test=task-status]').allInnerTexts(), (v) => v.length === shown && v.every((s) => s.includes('已上报')))
  assert.equal(escalated.length, shown, 'the rows are the answer\'s')
  assert.ok(escalated.length > 0 && escalated.every((s) => s.includes('已上报')), 'every row escalated')
  await staff.goto(BASE + '/care/stats')
  await staff.locator('[data-test=overdue-table] .el-table__row').first().waitFor()
  assert.match(await staff.locator('[data-test=care-figure-coverage]').innerText(), /\d+(\.\d)?%/)
  await staff.waitForTimeout(600)
  await shot(staff, '39-care-dashboard')
  // The monthly register downloads as an xlsx.
  const [download] = await Promise.all([staff.waitForEvent('download'), staff.click('[data-test=dash-register]')])
  assert.match(download.suggestedFilename(), /\.xlsx$/)
})

test('a grid worker cannot open another grid\'s care file', async () => {
  const other = await (await newContext(browser, { phone: true })).newPage()
  watchErrors(other, 'wangge2')
  await login(other, 'wangge2')
  await other.goto(`${BASE}/care/files/${careFileId}`)
  await other.locator('[data-test=error-state]').waitFor()
  assert.match(await other.locator('[data-test=error-state]').innerText(), /不存在|无权/)
  assert.ok(!(await other.content()).includes('王建国'), 'nothing of the file leaks')
  await shot(other, '40-other-grid-care-file')
  await other.goto(BASE + '/care/files')
  await other.locator('[data-test=care-file-table] .el-table__row').first().waitFor()
  const grids = new Set((await other.locator('[data-test=care-file-table] .el-table__row').allInnerTexts()).map((r) => (r.match(/第.网格/) || [''])[0]))
  assert.deepEqual([...grids], ['第二网格'])
})

test('no uncaught errors in the care pages', () => {
  assert.deepEqual(errors, [])
})
