// Registry editing in the web (issue 19): community staff (shequ) create an estate, a building in
// it and a room, see the form name an empty field under it, then move a resident into the new room
// from the resident's page and read the move in its history. Values are looked up, never typed
// from the demo's output.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot } from './harness.mjs'

let browser, ctx, page
const pageErrors = []
before(async () => {
  browser = await launch()
  ctx = await newContext(browser)
  page = await ctx.newPage()
  page.on('pageerror', (e) => pageErrors.push(String(e)))
})
after(async () => { await browser?.close() })

const ESTATE = '登记测试新苑'
const option = (text) => page.locator('.el-select-dropdown__item:visible', { hasText: text }).first()

test('an estate and a building are created and a resident moved in the web', async () => {
  await login(page, 'shequ')
  await page.goto(BASE + '/estates')
  await page.locator('[data-test=estate-table] .el-table__row').first().waitFor()
  // an empty name is named under the field, and nothing is sent
  await page.click('[data-test=estate-new]')
  await page.click('[data-test=org-save]')
  const nameItem = page.locator('[data-test=field-name]:visible')
  await nameItem.locator('.el-form-item__error').waitFor()
  assert.match(await nameItem.locator('.el-form-item__error').innerText(), /请填写名称/)
  await nameItem.locator('input').fill(ESTATE)
  await page.locator('[data-test=field-built_year]:visible input').fill('2015')
  const [created] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/estates') && r.request().method() === 'POST'),
    page.click('[data-test=org-save]'),
  ])
  assert.equal(created.status(), 201)
  const estate = await created.json()
  await page.waitForURL(new RegExp(`estate=${estate.id}`), { waitUntil: 'commit' })
  // a building in it, then a room
  await page.click('[data-test=building-new]')
  await page.locator('[data-test=field-name]:visible input').fill('1号楼')
  await page.locator('[data-test=field-floors]:visible input').fill('6')
  const [bres] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/buildings') && r.request().method() === 'POST'),
    page.click('[data-test=org-save]'),
  ])
  assert.equal(bres.status(), 201)
  const building = await bres.json()
  assert.equal(building.estate_id, estate.id)
  const brow = page.locator('[data-test=building-table] .el-table__row', { hasText: '1号楼' })
  await brow.waitFor()
  await brow.locator('button', { hasText: '房屋' }).click()
  await page.click('[data-test=room-new]')
  await page.locator('[data-test=field-unit]:visible input').fill('1单元')
  await page.locator('[data-test=field-number]:visible input').fill('101')
  const [rres] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/api/v1/buildings/${building.id}/rooms`) && r.request().method() === 'POST'),
    page.click('[data-test=org-save]'),
  ])
  assert.equal(rres.status(), 201)
  const room = await rres.json()
  await page.locator('[data-test=room-table] .el-table__row', { hasText: '101' }).waitFor()
  await shot(page, 'registry-01-estate-building-room')

  // a resident of the community, looked up
  const list = await (await page.request.get(BASE + '/api/v1/residents?limit=5')).json()
  const resident = list.items.find((r) => r.room_id && r.room_id !== room.id)
  assert.ok(resident, 'an active resident with a room')
  await page.goto(BASE + `/residents/${resident.id}`)
  await page.click('[data-test=move-open]')
  await page.locator('[data-test=move-mode] label', { hasText: '另一房屋' }).click()
  // the reason is required: named under its field
  await page.click('[data-test=move-save]')
  await page.locator('[data-test=field-reason] .el-form-item__error').waitFor()
  await page.click('[data-test=room-estate]')
  await option(ESTATE).click()
  await page.click('[data-test=room-building]')
  await option('1号楼').click()
  await page.click('[data-test=room-room]')
  await option('1单元 101').click()
  await page.fill('textarea[data-test=move-reason]', '搬入新建小区')
  const [mres] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/api/v1/residents/${resident.id}/move`)),
    page.click('[data-test=move-save]'),
  ])
  assert.equal(mres.status(), 200, await mres.text())
  const moved = await mres.json()
  assert.equal(moved.room_id, room.id)
  const row = page.locator('[data-test=moves-table] .el-table__row').first()
  await row.waitFor()
  const text = await row.innerText()
  assert.ok(text.includes(ESTATE) && text.includes('搬入新建小区'), `history row: ${text}`)
  await shot(page, 'registry-02-resident-moved')
  assert.deepEqual(pageErrors, [])
})
