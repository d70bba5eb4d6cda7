// Volunteers and partner units (issue 13) in the browser. Community staff (shequ) publish an activity
// under way now; the demo volunteer (zhiyuan) signs up on a phone, the staff's check-in board shows the
// rotating code as a QR code and in digits, and the volunteer checks in on the phone page the QR code
// opens (a wrong code is refused first, with the server's reason). On a phone in 长辈模式, the resident
// jumin books a free clinic (义诊) slot with big buttons and sees it under 我的预约. Times are taken
// from the browser's clock in Shanghai time, never from the demo's output. The volunteer, credited
// approved hours by staff, redeems time-bank points for a service on the phone page and sees the balance drop.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot, settled } from './harness.mjs'

let browser, phoneCtx, phone, staffCtx, staff

before(async () => {
  browser = await launch()
  phoneCtx = await newContext(browser, { phone: true })
  phone = await phoneCtx.newPage()
  staffCtx = await newContext(browser)
  staff = await staffCtx.newPage()
})
after(async () => { await browser?.close() })

/** Shanghai local "YYYY-MM-DDTHH:MM", minutes from now. */
function local(minutes) {
  const d = new Date(Date.now() + minutes * 60000 + 8 * 3600000)
  return d.toISOString().slice(0, 16)
}

test('a volunteer checks in on a phone with the board\'s rotating code', async () => {
  await login(staff, 'shequ')
  const title = `e2e 签到演练 ${Date.now() % 100000}`
  // publish through the API as the page would (the create dialog's date pickers are not what is tested)
  const act = await staff.evaluate(async ({ title, starts, ends }) => {
    const me = await (await fetch('/api/v1/me')).json()
    const r = await fetch('/api/v1/volunteer-activities', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ title, place: '社区广场', starts_at: starts, ends_at: ends, signup_deadline: ends, capacity: 5 }),
    })
    return { status: r.status, body: await r.json() }
  }, { title, starts: local(-10), ends: local(60) })
  assert.equal(act.status, 201, JSON.stringify(act.body))

  // the volunteer signs up on the phone
  await login(phone, 'zhiyuan', undefined, '/m/login')
  await phone.goto(BASE + '/m/volunteer')
  const card = phone.locator('[data-test=m-vol-activity]', { hasText: title })
  await card.locator('[data-test=m-vol-join]').click()
  await card.getByText('已报名').waitFor()

  // the board: QR code and digits
  await staff.goto(BASE + '/volunteers/activities')
  await staff.locator('[data-test=vol-activities] tr', { hasText: title }).click()
  await staff.locator('[data-test=vol-qr] path').waitFor()
  const code = (await staff.locator('[data-test=vol-code]').innerText()).trim()
  assert.match(code, /^\d{6}$/)
  await shot(staff, '90-vol-board')

  // a wrong code first: refused with the server's reason
  const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0')
  await phone.goto(`${BASE}/m/checkin/${act.body.id}?code=${wrong}`)
  await phone.locator('[data-test=m-checkin-title]').getByText(title).waitFor()
  await phone.click('[data-test=m-checkin-in]')
  await phone.locator('[data-test=m-checkin-error]').getByText('签到码无效或已过期').waitFor()
  // the QR code's link: the current code filled in
  await phone.goto(`${BASE}/m/checkin/${act.body.id}?code=${code}`)
  assert.equal(await phone.inputValue('[data-test=m-checkin-code]'), code)
  await phone.click('[data-test=m-checkin-in]')
  await phone.locator('[data-test=m-checkin-ok]').waitFor()
  await shot(phone, '91-m-checkin')
  const width = await phone.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 390, `no sideways scrolling on a phone (${width})`)
  // the sheet shows the check-in time
  await staff.reload()
  await staff.locator('[data-test=vol-activities] tr', { hasText: title }).click()
  const row = staff.locator('[data-test=vol-sheet] tr', { hasText: '社区志愿者' }).or(staff.locator('[data-test=vol-sheet] tbody tr').first())
  await row.first().waitFor()
  assert.match(await staff.locator('[data-test=vol-sheet] tbody').innerText(), /\d\d:\d\d/)
})

test('a resident books a clinic slot in 长辈模式', async () => {
  const ctx = await newContext(browser, { phone: true })
  const page = await ctx.newPage()
  await login(page, 'jumin', undefined, '/m/login')
  await page.locator('[data-test=elder-switch]').waitFor()
  const wasOn = await page.evaluate(() => document.documentElement.classList.contains('elder'))
  if (!wasOn) await page.click('[data-test=elder-switch]')
  await page.waitForFunction(() => document.documentElement.classList.contains('elder'))
  try {
    await page.click('[data-test=m-nav-clinic]')
    await page.locator('[data-test=m-clinic-item]').first().waitFor()
    // my bookings are read after the clinics, by a request of their own: count them once the page
    // shows as many as the server holds (not after a wait for the demo's 健康义诊 booking that gave up
    // silently after 5 s)
    const held = (await (await page.request.get(BASE + '/api/v1/partner-bookings?limit=20&mine=1&status=booked')).json()).items.length
    const before = await settled(() => page.locator('[data-test=m-clinic-booking]').count(), (n) => n === held)
    assert.equal(before, held, 'the page lists my bookings')
    // a clinic the resident holds no booking in: 康复义诊 (the demo gives jumin one 健康义诊 slot)
    await page.locator('[data-test=m-clinic-item]', { hasText: '康复义诊' }).first().click()
    await page.locator('[data-test=m-clinic-slots]').waitFor()
    const free = page.locator('[data-test=m-clinic-slot]:not([disabled]):not(.is-disabled)')
    assert.ok(await free.count() > 0, 'a free slot')
    const fontSize = await free.first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
    assert.ok(fontSize >= 18, `big buttons in 长辈模式 (${fontSize}px)`)
    await free.first().click()
    await page.click('[data-test=m-clinic-book]')
    await page.locator('[data-test=m-clinic-mine]').waitFor()
    // the list of my bookings reloads after the booking: wait for it, then count
    assert.equal(await settled(() => page.locator('[data-test=m-clinic-booking]').count(), (n) => n === before + 1), before + 1)
    assert.match(await page.locator('[data-test=m-clinic-mine]').innerText(), /康复义诊/)
    await shot(page, '92-m-clinic-elder')
  } finally {
    if (!wasOn) {
      await page.goto(BASE + '/m')
      await page.click('[data-test=elder-switch]')
      await page.waitForFunction(() => !document.documentElement.classList.contains('elder'))
    }
    await ctx.close()
  }
})

test('a volunteer redeems time-bank points on the phone', async () => {
  await login(phone, 'zhiyuan', undefined, '/m/login')
  const mine = await phone.evaluate(async () => (await (await fetch('/api/v1/volunteer-points')).json()).volunteer_id)
  // staff credit the demo volunteer two approved hours (the rule is looked up, not assumed)
  const credited = await staff.evaluate(async (vid) => {
    const me = await (await fetch('/api/v1/me')).json()
    const h = { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token }
    const day = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
    const e = await (await fetch('/api/v1/volunteer-hours', { method: 'POST', headers: h,
      body: JSON.stringify({ volunteer_id: vid, hours: 2, served_on: day, reason: 'e2e 积分兑换' }) })).json()
    const a = await fetch(`/api/v1/volunteer-hours/${e.id}/approve`, { method: 'POST', headers: h, body: '{}' })
    return { status: a.status, entry: e }
  }, mine)
  assert.equal(credited.status, 200, JSON.stringify(credited))
  await phone.goto(BASE + '/m/volunteer')
  const card = phone.locator('[data-test=m-vol-points]')
  await card.waitFor()
  const before = Number((await card.locator('[data-test=m-vol-balance]').innerText()).match(/-?[\d.]+/)[0])
  const offers = await phone.evaluate(async () => (await (await fetch('/api/v1/volunteer-point-offers?limit=50')).json()).items)
  const cheap = offers.filter((o) => o.active && o.points <= before).sort((a, b) => a.points - b.points)[0]
  assert.ok(cheap, `an offer the balance ${before} covers`)
  await card.locator('.row', { hasText: cheap.title }).locator('[data-test=m-vol-redeem]').click()
  await phone.getByText('兑换成功').first().waitFor()
  await phone.waitForFunction(({ want }) => {
    const t = document.querySelector('[data-test=m-vol-balance]')?.innerText || ''
    return Math.abs(Number((t.match(/-?[\d.]+/) || ['NaN'])[0]) - want) < 0.005
  }, { want: Math.round((before - cheap.points) * 100) / 100 }, { timeout: 10000 })
  await card.getByText(cheap.title).last().waitFor()
  await shot(phone, '93-m-vol-points')
})
