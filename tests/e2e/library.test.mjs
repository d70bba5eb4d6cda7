// The neighbourhood library (issue 14) in the browser. Community staff (shequ) check a book out at the
// lending desk by scanning its label (a scanner types the code and Enter), are refused when the same
// copy is scanned again, and take it back in return mode; today's loans (the dashboard card) count it. On a
// phone in 长辈模式 the resident jumin finds a title, places a hold, sees it under 我的预约 and cancels
// it. The copy, the reader and the title are looked up through the API, never taken from the demo.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot, inElderMode } from './harness.mjs'

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

/** GET path as the page's session (JSON). */
function api(page, path) {
  return page.evaluate(async (p) => { const r = await fetch(p, { headers: { Accept: 'application/json' } }); return r.json() }, path)
}

test('staff check a book out and back in by scanning its label', async () => {
  const ctx = await newContext(browser)
  const page = await ctx.newPage()
  try {
    await login(page, 'shequ')
    // a shelf copy on the shelf, and a reader who may borrow and whose name finds only them
    const copy = (await api(page, '/api/v1/book-copies?kind=shelf&status=available&limit=1')).items[0]
    assert.ok(copy, 'a copy on the shelf')
    const residents = (await api(page, '/api/v1/residents?limit=15&status=active')).items
    let reader = null
    for (const r of residents) {
      const rd = await api(page, `/api/v1/library/readers/${r.id}`)
      if (rd.blocked !== false || rd.overdue_loans || (rd.max_loans != null && rd.open_loans >= rd.max_loans)) continue
      const same = (await api(page, `/api/v1/residents?q=${encodeURIComponent(r.name)}&status=active&limit=5`)).items
      if (same.length === 1) { reader = r; break }
    }
    assert.ok(reader, 'a reader who may borrow')
    const before = await api(page, '/api/v1/library/stats')

    await page.goto(BASE + '/library/desk')
    const picker = page.locator('[data-test=resident-picker]')
    await picker.click()
    await picker.locator('input').fill(reader.name)
    await page.locator('.el-select-dropdown__item', { hasText: reader.name }).first().click()
    await page.locator('[data-test=desk-reader]', { hasText: reader.name }).waitFor()
    // the scan field has the focus: the scanner types the code and Enter
    await page.locator('[data-test=desk-scan]').waitFor()
    assert.equal(await page.evaluate(() => document.activeElement?.closest('[data-test=desk-scan]') !== null), true, 'scan field focused')
    await page.keyboard.type(copy.code.toLowerCase())
    await page.keyboard.press('Enter')
    await page.locator('[data-test=desk-ok]', { hasText: copy.title }).first().waitFor()
    // the same copy again: refused, in the server's words
    await page.keyboard.type(copy.code)
    await page.keyboard.press('Enter')
    await page.locator('[data-test=desk-error]').first().waitFor()
    const loans = (await api(page, `/api/v1/loans?state=open&resident_id=${reader.id}&limit=50`)).items
    assert.ok(loans.some((l) => l.code === copy.code), 'the loan is on the reader')
    await shot(page, '95-lib-desk')

    const after = await api(page, '/api/v1/library/stats')
    assert.equal(after.loans_today, before.loans_today + 1, 'one more loan today (the dashboard card\'s figure)')

    // return mode: the scan alone takes it back (the scan field takes the focus again)
    await page.locator('[data-test=desk-mode]').getByText('归还').click()
    await page.waitForFunction(() => document.activeElement?.closest('[data-test=desk-scan]') !== null)
    await page.keyboard.type(copy.code)
    await page.keyboard.press('Enter')
    await page.locator('[data-test=desk-ok]', { hasText: '已归还' }).waitFor()
    const back = (await api(page, `/api/v1/book-copies?q=${copy.code}&kind=shelf&limit=1`)).items[0]
    assert.notEqual(back.status, 'on_loan', 'the copy is no longer on loan')
  } finally { await ctx.close() }
})

test('a resident places a hold on a phone in 长辈模式', async () => {
  const ctx = await newContext(browser, { phone: true })
  const page = await ctx.newPage()
  await login(page, 'jumin', undefined, '/m/login')
  try {
    await inElderMode(page, async () => {
      // a title with shelf copies that jumin neither holds nor borrows, whose title finds only it
      const mine = new Set([...(await api(page, '/api/v1/holds?state=active&limit=100')).items.map((h) => h.book_id),
        ...(await api(page, '/api/v1/loans?state=open&limit=100')).items.map((l) => l.book_id)])
      const books = (await api(page, '/api/v1/books?limit=100')).items
      let book = null
      for (const b of books) {
        if (!b.copies || mine.has(b.id)) continue
        if ((await api(page, `/api/v1/books?q=${encodeURIComponent(b.title)}&limit=5`)).items.length === 1) { book = b; break }
      }
      assert.ok(book, 'a title to hold')

      await page.click('[data-test=m-nav-library]')
      await page.fill('[data-test=m-lib-q]', book.title)
      await page.keyboard.press('Enter')
      const card = page.locator('[data-test=m-lib-book]', { hasText: book.title })
      const btn = card.locator('[data-test=m-lib-hold]')
      await btn.waitFor()
      const fontSize = await btn.evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
      assert.ok(fontSize >= 18, `big buttons in 长辈模式 (${fontSize}px)`)
      await btn.click()
      await page.getByText('预约成功').first().waitFor()
      await page.locator('[data-test=m-lib-tabs]').getByText('我的预约').click()
      const row = page.locator('[data-test=m-lib-holdrow]', { hasText: book.title })
      await row.waitFor()
      assert.match(await row.innerText(), /排队第 \d+ 位|请在 \d{4}-\d\d-\d\d 前取书/)
      await shot(page, '96-m-lib-hold-elder')
      const width = await page.evaluate(() => document.documentElement.scrollWidth)
      assert.ok(width <= 390, `no sideways scrolling on a phone (${width})`)
      await row.getByText('取消预约').click()
      await row.waitFor({ state: 'detached' })
    })
  } finally { await ctx.close() }
})
