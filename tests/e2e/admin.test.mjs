// The administrator: first login forces a password change; a reveal on a resident's detail page
// appears in the audit log viewer (filtered by action); the system pages render.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot } from './harness.mjs'

const ADMIN_PW = process.env.NX_ADMIN_PASSWORD
const NEW_PW = 'Nx-e2e-Secret-2026' // may not contain the username
let browser, page
before(async () => {
  browser = await launch()
  page = await (await newContext(browser)).newPage()
})
after(async () => { await browser?.close() })

test('first admin login must change the password', { skip: !ADMIN_PW && 'NX_ADMIN_PASSWORD not set' }, async () => {
  await page.goto(BASE + '/login')
  await page.fill('input[name=username]', 'admin')
  await page.fill('input[name=password]', ADMIN_PW)
  await page.click('[data-test=login-submit]')
  await page.waitForURL(/\/password$/, { waitUntil: 'commit' })
  await page.fill('input[name=old_password]', ADMIN_PW)
  await page.fill('input[name=new_password]', NEW_PW)
  await page.fill('input[name=repeat_password]', NEW_PW)
  await page.click('[data-test=password-submit]')
  await page.waitForURL((u) => u.pathname === '/', { waitUntil: 'commit' })
  const side = await page.locator('[data-test=sidebar]').innerText()
  assert.ok(side.includes('账号与角色') && side.includes('审计日志'), 'admin sees the system pages')
})

test('reveal on the detail page appears in the audit log viewer', { skip: !ADMIN_PW && 'NX_ADMIN_PASSWORD not set' }, async () => {
  await page.goto(BASE + '/residents?q=wjg')
  await page.locator('[data-test=resident-table] .el-table__row', { hasText: '王建国' }).first().locator('a').click()
  await page.waitForURL(/\/residents\/\d+$/, { waitUntil: 'commit' })
  const rid = page.url().match(/\/residents\/(\d+)$/)[1]
  await page.locator('[data-test=reveal]').click()
  await page.waitForFunction(() => /^\d{17}[\dX]$/.test(document.querySelector('[data-test=id-number]').innerText.trim()))

  await page.click('[data-test=sidebar] >> text=审计日志')
  await page.waitForURL(/\/system\/audit/, { waitUntil: 'commit' })
  await page.locator('[data-test=audit-table] .el-table__row').first().waitFor()
  await page.locator('[data-test=audit-action]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '查看敏感信息' }).click()
  await page.waitForURL(/action=reveal/, { waitUntil: 'commit' })
  const row = page.locator('[data-test=audit-table] .el-table__row').first()
  await page.waitForFunction(() => document.querySelector('[data-test=audit-table] .el-table__row')?.innerText.includes('查看敏感信息'))
  const text = await row.innerText()
  // the log names people by their display name (as the header shows it) and fields in Chinese
  const me = (await page.locator('[data-test=user-menu] .name').innerText()).trim()
  assert.ok(me && text.includes(me), `the row names ${me}: ${text}`)
  assert.match(text, new RegExp(`居民 #${rid}`))
  assert.match(text, /证件号码/)
  await shot(page, '10-audit-reveal')
})

test('users page lists the demo accounts with their roles', { skip: !ADMIN_PW && 'NX_ADMIN_PASSWORD not set' }, async () => {
  await page.goto(BASE + '/system/users')
  await page.locator('[data-test=user-table] .el-table__row').first().waitFor()
  const text = await page.locator('[data-test=user-table]').innerText()
  for (const s of ['wangge1', '网格员', 'jiedao', '街道工作人员', 'jumin', '居民']) assert.ok(text.includes(s), `users page shows ${s}`)
  await shot(page, '11-users')
})
