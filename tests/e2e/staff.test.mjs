// Staff console (工作台) as community staff (shequ): login errors and lockout, the dashboard,
// finding a resident by pinyin initials, the detail page with an audited reveal, back/forward and
// deep links, the create form's ID check digit, and the Excel export.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { BASE, launch, newContext, login, shot, zipEntries, switchLanguage } from './harness.mjs'

let browser, ctx, page
const pageErrors = []
before(async () => {
  browser = await launch()
  ctx = await newContext(browser)
  page = await ctx.newPage()
  page.on('pageerror', (e) => pageErrors.push(String(e)))
})
after(async () => { await browser?.close() })

test('login page: wrong password and lockout messages in Chinese', async () => {
  await page.goto(BASE + '/login')
  await shot(page, '01-login')
  await page.fill('input[name=username]', 'wangge8')
  await page.fill('input[name=password]', 'wrong-password')
  await page.click('[data-test=login-submit]')
  const err = page.locator('[data-test=login-error]')
  await err.waitFor()
  assert.match(await err.innerText(), /用户名或密码错误/)
  for (let i = 0; i < 5; i++) {
    // The page empties the password field once it has handled the last answer; typing before that
    // (the answer has arrived, the page has not run yet) would be wiped and submit an empty form.
    await page.waitForFunction(() => document.querySelector('input[name=password]')?.value === '')
    await page.fill('input[name=password]', 'wrong-password')
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login')),
      page.click('[data-test=login-submit]'),
    ])
  }
  await page.waitForFunction(() => /锁定/.test(document.querySelector('[data-test=login-error]')?.innerText || ''))
  const text = await err.innerText()
  assert.match(text, /账号已锁定/)
  assert.match(text, /\d+ 分钟/)
  await shot(page, '02-login-locked')
})

test('staff logs in and sees the dashboard with figures and charts', async () => {
  await login(page, 'shequ')
  assert.equal(new URL(page.url()).pathname, '/')
  await page.locator('[data-test=figure-residents] .value').waitFor()
  const residents = await page.locator('[data-test=figure-residents] .value').innerText()
  assert.match(residents, /^\d+/)
  assert.ok(Number(residents.match(/\d+/)[0]) > 1000, `residents figure ${residents}`)
  assert.equal(await page.locator('.chart canvas').count(), 3, 'three ECharts canvases')
  const side = await page.locator('[data-test=sidebar]').innerText()
  for (const item of ['首页', '居民信息', '家庭户', '批量导入', '网格', '小区楼栋']) assert.ok(side.includes(item), `sidebar has ${item}`)
  // community staff read their community's audit log (who revealed or changed what), but do not
  // manage accounts
  assert.ok(side.includes('审计日志'), 'staff has the audit viewer')
  assert.ok(!side.includes('账号与角色'), 'staff does not manage accounts')
  await page.waitForTimeout(600) // chart animation
  await shot(page, '03-dashboard')
})

test('find 王建国 by pinyin initials wjg', async () => {
  await page.click('[data-test=sidebar] >> text=居民信息')
  await page.waitForURL(/\/residents$/, { waitUntil: 'commit' })
  await page.locator('[data-test=resident-table] .el-table__row').first().waitFor()
  await page.fill('input[name=q]', 'wjg')
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/v1/residents?') && r.url().includes('q=wjg')),
    page.click('[data-test=search-submit]'),
  ])
  const body = await res.json()
  assert.ok(body.items.length >= 1 && body.items.length < 20, `few matches for wjg: ${body.total}`)
  await page.waitForURL(/q=wjg/, { waitUntil: 'commit' })
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=resident-table] .el-table__row').length === n, body.items.length)
  const names = await page.locator('[data-test=resident-table] .el-table__row td:first-child').allInnerTexts()
  assert.ok(names.length >= 1)
  assert.ok(names.includes('王建国'), `results: ${names.join(',')}`)
  assert.match(await page.locator('[data-test=pager]').innerText(), /共 \d+ 条/)
  await shot(page, '04-residents-wjg')
})

test('detail page: masked ID, 查看 reveals it, back/forward and deep link work', async () => {
  await page.locator('[data-test=resident-table] .el-table__row', { hasText: '王建国' }).first().locator('a').click()
  await page.waitForURL(/\/residents\/\d+$/, { waitUntil: 'commit' })
  const id = page.locator('[data-test=id-number]')
  await id.waitFor()
  assert.match(await id.innerText(), /\*/, 'masked before reveal')
  await shot(page, '05-resident-detail-masked')
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/reveal') && r.request().method() === 'POST'),
    page.click('[data-test=reveal]'),
  ])
  assert.equal(res.status(), 200)
  await page.waitForFunction(() => /^\d{17}[\dX]$/.test(document.querySelector('[data-test=id-number]').innerText.trim()))
  await shot(page, '06-resident-detail-revealed')
  const detailUrl = page.url()

  await page.goBack()
  await page.waitForURL(/\/residents\?q=wjg/, { waitUntil: 'commit' })
  await page.locator('[data-test=resident-table] .el-table__row', { hasText: '王建国' }).first().waitFor()
  assert.equal(await page.locator('input[name=q]').inputValue(), 'wjg', 'search restored on back')
  await page.goForward()
  await page.waitForURL(detailUrl, { waitUntil: 'commit' })
  await page.locator('[data-test=id-number]').waitFor()

  const deep = await ctx.newPage()
  await deep.goto(detailUrl)
  await deep.locator('[data-test=profile]').waitFor()
  assert.match(await deep.locator('.page-head h1').innerText(), /王建国/)
  await deep.close()
})

test('create form: wrong ID check digit shows the field error; a good one fills birth date and sex', async () => {
  await page.goto(BASE + '/residents/new')
  const form = page.locator('[data-test=resident-form]')
  await form.waitFor()
  await page.fill('input[name=name]', '测试居民')
  await page.fill('input[name=id_number]', '110105194912310021') // right digit is X
  await page.click('[data-test=save]')
  const item = page.locator('[data-test=field-id_number]')
  await page.waitForFunction(() => /校验位错误/.test(document.querySelector('[data-test=field-id_number] .el-form-item__error')?.innerText || ''))
  assert.match(await item.locator('.el-form-item__error').innerText(), /身份证号校验位错误/)
  await shot(page, '07-resident-form-check-digit')

  await page.fill('input[name=id_number]', '11010519491231002X')
  await page.waitForFunction(() => !document.querySelector('[data-test=field-id_number] .el-form-item__error'))
  const birth = await form.locator('.el-date-editor input').first().inputValue()
  assert.equal(birth, '1949-12-31')
  assert.ok(await form.locator('.el-radio.is-checked', { hasText: '女' }).count(), 'sex derived: female')
})

test('server validation errors are shown under the field (duplicate ID number)', async () => {
  // 王建国's ID number exists already: the client accepts it, the server refuses it and names the field.
  // The demo derives birth dates (and so ID numbers) from today: look his up through the audited reveal.
  const existing = await page.evaluate(async () => {
    const csrf = (await (await fetch('/api/v1/me')).json()).csrf_token
    const list = await (await fetch('/api/v1/residents?q=' + encodeURIComponent('王建国') + '&limit=1')).json()
    const r = await fetch(`/api/v1/residents/${list.items[0].id}/reveal`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify({ fields: ['id_number'] }),
    })
    return (await r.json()).id_number
  })
  assert.match(existing, /^\d{17}[\dX]$/, 'looked-up ID number')
  await page.fill('input[name=id_number]', existing)
  await page.locator('[data-test=field-grid]').click()
  await page.locator('.el-select-dropdown__item:visible').first().click()
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/residents') && r.request().method() === 'POST'),
    page.click('[data-test=save]'),
  ])
  assert.ok(res.status() >= 400, `server refused: ${res.status()}`)
  const problem = await res.json()
  assert.equal(problem.field, 'id_number')
  await page.waitForFunction((d) => document.querySelector('[data-test=field-id_number] .el-form-item__error')?.innerText === d, problem.detail)
  await shot(page, '08-resident-form-server-error')
})

test('import wizard: upload → dry-run report with the bad row → confirm', async () => {
  await page.goto(BASE + '/residents/import')
  const csv = '姓名,证件号码,性别,网格\n张导入,110105198001010024,女,第一网格\n李有误,110105198001010021,男,第一网格\n'
  await page.setInputFiles('[data-test=import-file]', { name: 'residents.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
  await page.click('[data-test=import-dry-run]')
  const report = page.locator('[data-test=import-report]')
  await report.waitFor()
  const errors = await page.locator('[data-test=import-errors] .el-table__row').allInnerTexts()
  assert.equal(errors.length, 1, `bad rows: ${errors.join(' | ')}`)
  assert.match(errors[0], /^3\s/)
  assert.match(errors[0], /证件号码/)
  assert.match(await page.locator('[data-test=import-commit]').innerText(), /确认导入 1 行/)
  await shot(page, '18-import-report')
  await page.click('[data-test=import-commit]')
  await page.locator('[data-test=import-done]').waitFor()
  assert.match(await page.locator('[data-test=import-done]').innerText(), /共导入 1 位居民/)
})

test('export the list to Excel: a valid xlsx file', async () => {
  await page.goto(BASE + '/residents?q=wjg')
  await page.locator('[data-test=resident-table] .el-table__row').first().waitFor()
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export]')])
  const path = await download.path()
  const buf = readFileSync(path)
  assert.equal(buf.subarray(0, 4).toString('hex'), '504b0304', 'zip local header')
  const names = zipEntries(buf)
  assert.ok(names.includes('xl/workbook.xml'), `entries: ${names.join(',')}`)
  assert.ok(names.some((n) => n.startsWith('xl/worksheets/')), 'has a worksheet')
  assert.match(download.suggestedFilename(), /\.xlsx$/)
})

test('language switch: the console in English', async () => {
  await page.goto(BASE + '/')
  await switchLanguage(page, 'English')
  await page.waitForFunction(() => document.querySelector('[data-test=sidebar]').innerText.includes('Residents'))
  await page.waitForTimeout(600)
  await shot(page, '09-dashboard-en')
  await switchLanguage(page, '中文')
  await page.waitForFunction(() => document.querySelector('[data-test=sidebar]').innerText.includes('居民信息'))
})

test('households, grids, estates with buildings and rooms', async () => {
  await page.goto(BASE + '/households')
  await page.locator('[data-test=household-table] .el-table__row').first().waitFor()
  assert.match(await page.locator('[data-test=pager]').innerText(), /共 \d+ 条/)
  await shot(page, '19-households')
  await page.locator('[data-test=household-table] .el-table__row').first().click()
  await page.waitForURL(/\/households\/\d+$/, { waitUntil: 'commit' })
  await page.locator('.el-descriptions').waitFor()

  await page.goto(BASE + '/grids')
  await page.locator('[data-test=grid-table] .el-table__row').first().waitFor()
  // the community's grids as the server lists them (the demo makes eight), not a number written here
  const grids = (await (await page.request.get(BASE + '/api/v1/grids?limit=200')).json()).items.length
  assert.ok(grids > 1, `the demo's grids: ${grids}`)
  assert.equal(await page.locator('[data-test=grid-table] .el-table__row').count(), grids)

  await page.goto(BASE + '/estates')
  await page.locator('[data-test=estate-table] .el-table__row').first().click()
  await page.waitForURL(/estate=\d+/, { waitUntil: 'commit' })
  await page.locator('[data-test=building-table] .el-table__row').first().waitFor()
  await page.locator('[data-test=building-table] .el-table__row').first().locator('button').click()
  await page.locator('.el-drawer .el-table__row').first().waitFor()
  await shot(page, '20-estates-rooms')
})

test('no uncaught errors in the pages', () => {
  assert.deepEqual(pageErrors, [])
})
