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
