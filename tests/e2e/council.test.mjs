// The courtyard council on the resident pages (issue 15's browser "Must show"): jumin (王建国) on a
// phone-sized viewport in 长辈模式 opens 议事会, raises a topic for the estate and votes in the open
// secret poll the demo leaves in his estate; the vote is recorded once (a second one is refused) and
// the page keeps large text and no horizontal overflow. Screenshots go to tests/artifacts (60-…).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot } from './harness.mjs'

let browser, page
const errors = []

before(async () => {
  browser = await launch()
  page = await (await newContext(browser, { phone: true })).newPage()
  page.on('pageerror', (e) => errors.push(e.message))
})
after(async () => { await browser?.close() })

async function fontPx(sel) {
  return page.locator(sel).first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
}

test('a resident in 长辈模式 raises a topic and votes on a phone', async () => {
  await login(page, 'jumin', undefined, '/m/login')
  await page.locator('[data-test=m-nav]').waitFor()
  if (!(await page.evaluate(() => document.documentElement.classList.contains('elder')))) {
    await page.click('[data-test=elder-switch]')
    await page.waitForFunction(() => document.documentElement.classList.contains('elder'))
  }
  await page.click('[data-test=m-nav-council]')
  await page.waitForURL((u) => u.pathname === '/m/council')
  await page.locator('[data-test=m-council-topics]').waitFor()

  // raise a topic
  const title = `楼下增设休息长椅 ${Date.now() % 100000}`
  await page.click('[data-test=m-council-raise]')
  await page.locator('input[data-test=m-council-title]').fill(title)
  await shot(page, '60-m-council-raise')
  await page.click('[data-test=m-council-submit]')
  await page.locator('[data-test=m-topic]', { hasText: title }).waitFor()
  const mine = (await (await page.request.get(BASE + '/api/v1/topics?limit=50')).json()).items.find((x) => x.title === title)
  assert.ok(mine && mine.source === 'resident' && mine.status === 'open', `the topic is stored as raised by the resident ${JSON.stringify(mine)}`)
  assert.ok((await fontPx('[data-test=m-topic] .topic-title')) >= 20, 'large text in 长辈模式')

  // vote in the open poll of the estate
  const polls = (await (await page.request.get(BASE + '/api/v1/polls?status=open')).json()).items
  assert.ok(polls.length > 0, 'the demo leaves an open poll in the resident\'s estate')
  const poll = polls[0]
  const card = page.locator(`[data-test=m-poll-${poll.id}]`)
  await card.locator('[data-test="m-choice-同意"]').click()
  const box = await card.locator('[data-test=m-vote]').boundingBox()
  assert.ok(box.height >= 48, `vote button ${box.height}px high`)
  await card.locator('[data-test=m-vote]').click()
  await card.locator('[data-test=m-poll-voted]').waitFor()
  await shot(page, '61-m-council-voted')
  const seen = await (await page.request.get(BASE + `/api/v1/polls/${poll.id}`)).json()
  assert.equal(seen.voted, true, 'the register has the vote')
  const csrf = (await (await page.request.get(BASE + '/api/v1/me')).json()).csrf_token
  const again = await page.request.post(BASE + `/api/v1/polls/${poll.id}/ballots`,
    { data: { choice: '反对' }, headers: { 'X-CSRF-Token': csrf } })
  assert.equal(again.status(), 409, 'a second vote is refused')
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 390, `no horizontal overflow (${width}px)`)
  assert.deepEqual(errors, [], 'no page errors')
})

// Staff (shequ) on the council's 成员与议事规则 page: add a resident of an estate to the council, change
// their role, take them off again, and define a consultation template of two steps. The resident is
// looked up through the API (one of the community's adults not on the council, whose name finds only
// them); the template's name carries the time, so reruns on one database do not clash.
test('staff keep the council members and define a consultation template', async () => {
  const ctx = await newContext(browser)
  const staff = await ctx.newPage()
  const pageErrors = []
  staff.on('pageerror', (e) => pageErrors.push(e.message))
  try {
    await login(staff, 'shequ')
    const api = (p) => staff.evaluate(async (u) => (await fetch(u, { headers: { Accept: 'application/json' } })).json(), p)
    const onCouncil = new Set((await api('/api/v1/council-members')).items.map((m) => m.resident_id))
    let person = null
    for (const r of (await api('/api/v1/residents?limit=30&status=active&age_min=30')).items) {
      if (!r.estate_id || onCouncil.has(r.id)) continue
      if ((await api(`/api/v1/residents?q=${encodeURIComponent(r.name)}&status=active&limit=5`)).items.length === 1) { person = r; break }
    }
    assert.ok(person, 'an adult resident not on the council')

    await staff.goto(BASE + '/council/setup')
    await staff.locator('[data-test=cm-members]').waitFor()
    const picker = staff.locator('[data-test=resident-picker]')
    await picker.click()
    await picker.locator('input').fill(person.name)
    await staff.locator('.el-select-dropdown__item', { hasText: person.name }).first().click()
    await staff.click('[data-test=cm-add]')
    const row = staff.locator('[data-test=cm-members] tbody tr', { hasText: person.name })
    await row.waitFor()
    assert.match(await row.innerText(), new RegExp(person.estate_name))
    // the role: 居民代表
    await row.locator('[data-test=cm-row-role]').click()
    await staff.locator('.el-select-dropdown__item:visible', { hasText: '居民代表' }).click()
    await staff.waitForFunction(async (id) => {
      const r = await fetch('/api/v1/council-members').then((x) => x.json())
      return r.items.some((m) => m.resident_id === id && m.role === 'representative')
    }, person.id)
    await shot(staff, '62-council-members')
    // remove: off the list, kept in the database
    await row.locator('[data-test=cm-remove]').click()
    await staff.locator('.el-popconfirm__action .el-button--primary:visible').click()
    await row.waitFor({ state: 'detached' })
    assert.ok(!(await api('/api/v1/council-members')).items.some((m) => m.resident_id === person.id), 'off the council')

    // a template of two steps
    const name = `e2e 两步议事法 ${Date.now() % 100000}`
    await staff.getByRole('tab', { name: '议事规则（模板）' }).click()
    await staff.click('[data-test=ct-new]')
    await staff.locator('[data-test=ct-name]').fill(name)
    await staff.click('[data-test=ct-add-step]')
    const steps = staff.locator('[data-test=ct-step]')
    for (const [i, [n, a]] of [['征集', '居委会'], ['议定', '议事会']].entries()) {
      await steps.nth(i).locator('input').nth(0).fill(n)
      await steps.nth(i).locator('input').nth(1).fill(a)
    }
    await staff.click('[data-test=ct-save]')
    const item = staff.locator('[data-test=ct-item]', { hasText: name })
    await item.waitFor()
    assert.match(await item.innerText(), /征集[\s\S]*议定/)
    const tpl = (await api('/api/v1/council-templates')).items.find((x) => x.name === name)
    assert.deepEqual(tpl.steps.map((s) => [s.name, s.actor]), [['征集', '居委会'], ['议定', '议事会']])
    await shot(staff, '63-council-templates')
    assert.deepEqual(pageErrors, [], 'no page errors')
  } finally { await ctx.close() }
})
