// 德治评选 on a phone in 长辈模式: jumin (王建国) turns on 长辈模式, nominates a neighbour by name in the
// demo's selection that is open for nominations, then votes in a selection whose vote is open — set up
// through the API by the community's staff (nominated, reviewed, 公示 recorded as started ten days ago,
// a vote window around today) — sees 已投票, and a second vote in the same category is not offered.
// On 党员之家 he sees his approved volunteer hours, the figure of his member file.
// Names and ids are looked up, never typed from the demo's output.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, DEMO_PASSWORD, launch, newContext, login, shot } from './harness.mjs'

let browser, page, token
const errors = []

async function api(method, path, body) {
  const r = await fetch(BASE + path, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: body ? JSON.stringify(body) : undefined,
  })
  const j = await r.json().catch(() => null)
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`)
  return j
}
function day(offset) {
  const d = new Date(Date.now() + 8 * 3600e3 + offset * 86400e3) // Shanghai's day
  return d.toISOString().slice(0, 10)
}

let voteElection, candidates
before(async () => {
  browser = await launch()
  const ctx = await newContext(browser, { phone: true })
  page = await ctx.newPage()
  page.on('pageerror', (e) => errors.push(String(e)))
  const r = await fetch(BASE + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'shequ', password: DEMO_PASSWORD }) })
  token = (await r.json()).token
  // two residents to stand, other than the voter
  const res = (await api('GET', '/api/v1/residents?limit=20')).items.filter((x) => x.name !== '王建国' && (!x.status || x.status === 'active'))
  const el = await api('POST', '/api/v1/elections', { title: '最美家庭评选', publicity_days: 5,
    categories: [{ name: '最美家庭', seats: 1 }] })
  const cat = el.categories[0].id
  for (const x of res.slice(0, 2)) await api('POST', `/api/v1/elections/${el.id}/nominations`, { category_id: cat, resident_id: x.id, reason: '家庭和睦' })
  await api('POST', `/api/v1/elections/${el.id}/stage`, { to: 'review' })
  const full = await api('GET', `/api/v1/elections/${el.id}`)
  for (const n of full.nominations) await api('POST', `/api/v1/elections/${el.id}/nominations/${n.id}/review`, { eligible: true, reason: '符合条件' })
  await api('POST', `/api/v1/elections/${el.id}/stage`, { to: 'publicity', publicity_from: day(-10) })
  await api('POST', `/api/v1/elections/${el.id}/stage`, { to: 'voting', vote_from: day(-2), vote_until: day(2) })
  voteElection = el
  candidates = full.nominations
})
after(async () => { await browser?.close() })

test('a resident in 长辈模式 nominates a neighbour by name on a phone', async () => {
  await login(page, 'jumin', undefined, '/m/login')
  await page.locator('[data-test=elder-switch]').waitFor()
  if (!(await page.evaluate(() => document.documentElement.classList.contains('elder') || document.body.classList.contains('elder')))) {
    await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/v1/me/preferences')), page.click('[data-test=elder-switch]')])
  }
  await page.click('[data-test=m-nav-elections]')
  await page.locator('[data-test=m-elections]').waitFor()
  const open = (await api('GET', '/api/v1/elections?stage=nomination')).items[0]
  assert.ok(open, 'the demo has a selection open for nominations')
  // a neighbour whose name is unique in the community
  const names = (await api('GET', '/api/v1/residents?limit=100')).items.filter((x) => !x.status || x.status === 'active').map((x) => x.name)
  let name
  for (const n of names) {
    if (n === '王建国') continue
    const same = (await api('GET', `/api/v1/residents?q=${encodeURIComponent(n)}&limit=5`)).items.filter((x) => x.name === n)
    if (same.length === 1) { name = n; break }
  }
  assert.ok(name, 'a resident whose name is unique')
  await page.click(`[data-test=m-election-${open.id}]`)
  await page.locator('[data-test=m-nominate]').waitFor()
  await page.fill('input[data-test=m-nominee-name]', name)
  await page.fill('textarea[data-test=m-nominee-reason]', '常年义务打扫楼道，热心帮助邻居')
  await page.click('[data-test=m-nominate-submit]')
  await page.locator('[data-test=m-my-nomination]', { hasText: name }).waitFor()
  const px = await page.locator('[data-test=m-my-nomination]').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
  assert.ok(px >= 20, `长辈模式 text (${px}px)`)
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 390, `no horizontal overflow (${width}px)`)
  await shot(page, '60-m-nominate-elder')
  const after = await api('GET', `/api/v1/elections/${open.id}`)
  assert.ok(after.nominations.some((n) => n.name === name), 'the nomination reached the server')
})

test('the resident votes once in a category', async () => {
  await page.goto(BASE + `/m/elections/${voteElection.id}`)
  const nid = candidates[0].id
  await page.click(`[data-test=m-vote-${nid}]`)
  await page.locator('[data-test=m-voted]').waitFor()
  assert.equal(await page.locator(`[data-test=m-vote-${candidates[1].id}]`).count(), 0, 'no second vote offered in the category')
  await shot(page, '61-m-voted-elder')
  const el = await api('GET', `/api/v1/elections/${voteElection.id}`)
  assert.equal(el.nominations.length, 2)
  assert.deepEqual(errors, [], 'no uncaught errors')
})

test('党员之家 shows the member his approved volunteer hours', async () => {
  const me = (await api('GET', '/api/v1/party-members?q=' + encodeURIComponent('王建国'))).items[0]
  // staff record an hour and a half of his service and approve it, so the figure is not a default 0
  const vol = (await api('GET', '/api/v1/volunteers?limit=50&q=' + encodeURIComponent('王建国'))).items
    .find((v) => v.resident_id === me.resident_id) || await api('POST', '/api/v1/volunteers', { resident_id: me.resident_id })
  const h = await api('POST', '/api/v1/volunteer-hours', { volunteer_id: vol.id, hours: 1.5, served_on: day(0), reason: '党员志愿服务' })
  await api('POST', `/api/v1/volunteer-hours/${h.id}/approve`, {})
  const file = await api('GET', `/api/v1/party-members/${me.id}`)
  assert.ok(file.volunteer_hours.hours >= 1.5, `approved hours in his member file: ${JSON.stringify(file.volunteer_hours)}`)
  await page.goto(BASE + '/m/party')
  const row = page.locator('[data-test=m-party-hours]')
  await row.waitFor()
  assert.match(await row.innerText(), new RegExp(`${file.volunteer_hours.hours} 小时`), 'the figure of his member file')
  await shot(page, '62-m-party-hours-elder')
  assert.deepEqual(errors, [], 'no uncaught errors')
})
