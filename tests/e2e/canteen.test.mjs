// 幸福食堂 (issue 12) in the browser. On a tablet viewport the canteen account (shitang) sells at the
// counter by scanning a card's QR code (a USB scanner types the code and presses Enter) and by finding
// the diner by pinyin; a card's QR code is read by the tablet's camera (chromium's fake camera fed
// a frame with the real card's QR code, drawn from the card's own qr.svg); then, with the network cut, a sale goes into the offline queue and is sent once
// when the network is back (sending the same queued sale again still records one sale). On a phone in
// 长辈模式 the family account (jiashu) orders a meal for the elder and cancels it. At 375 px the
// volunteer (zhiyuan) walks today's delivery round the demo gave them: one stop delivered, one missed
// with a reason. Cards, menus and
// balances are looked up through the API; nothing depends on the demo's ids or today's date.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { BASE, ARTIFACTS, CHROMIUM_ARGS, launch, newContext, login, shot } from './harness.mjs'

let browser, tabletCtx, tablet

before(async () => {
  browser = await launch()
  tabletCtx = await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true, locale: 'zh-CN' })
  tablet = await tabletCtx.newPage()
  await login(tablet, 'shitang')
})
after(async () => { await browser?.close() })

/** GET as the signed-in page. */
const api = (page, path) => page.evaluate(async (p) => (await fetch(p)).json(), path)

/** Today in Shanghai, as the counter counts it. */
const today = () => new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10)

/** How many sales of a resident the server holds for today. */
async function salesOf(page, residentId) {
  const r = await api(page, `/api/v1/canteen/sales?resident_id=${residentId}&date=${today()}&limit=200`)
  return r.items.length
}

test('counter: a sale by scanning the card and one by pinyin search (tablet)', async () => {
  // a card with money on it, taken from the card list (its QR code is what the scanner reads)
  const cards = (await api(tablet, '/api/v1/canteen/cards?limit=100')).items.filter((c) => c.status === 'active' && c.code)
  cards.sort((a, b) => b.balance - a.balance)
  const card = cards[0]
  assert.ok(card && card.balance >= 2000, 'a card with a balance')
  await tablet.goto(BASE + '/canteen')
  await tablet.locator('[data-test=counter-item]').first().waitFor()
  const before = await salesOf(tablet, card.resident_id)

  // the scanner: types the code into the focused scan box, then Enter
  await tablet.locator('[data-test=counter-scan]').fill(card.code)
  await tablet.locator('[data-test=counter-scan]').press('Enter')
  await tablet.locator('[data-test=counter-diner]').getByText(card.resident_name).waitFor()
  // the diner's own prices (subsidies) are asked for after the diner shows: read the price once they are in
  await tablet.locator('[data-test=counter-menu][aria-busy=false]').waitFor()
  const item = tablet.locator('[data-test=counter-item]:not([disabled])').first()
  const shown = (await item.locator('[data-test=counter-price]').innerText()).trim()
  await item.click()
  await tablet.locator('[data-test=counter-sold]').first().waitFor()
  assert.equal(await salesOf(tablet, card.resident_id), before + 1)
  assert.match(await tablet.locator('[data-test=counter-recent]').innerText(), new RegExp(shown.replace(/[.$¥]/g, '\\$&')))

  // pinyin: 王建国 (the demo's first household always holds a card) found as "wangjianguo"
  await tablet.locator('[data-test=counter-search]').fill('wangjianguo')
  const opt = tablet.locator('[data-test=counter-diner-option]', { hasText: '王建国' }).first()
  await opt.waitFor()
  await opt.click()
  await tablet.locator('[data-test=counter-diner]').getByText('王建国').waitFor()
  await tablet.locator('[data-test=counter-item]:not([disabled])').first().click()
  await tablet.waitForFunction(() => document.querySelectorAll('[data-test=counter-sold]').length >= 2)
  await shot(tablet, '95-canteen-counter')
})

/** A one-frame Y4M video (640×480, 4:2:0) showing the SVG image svg centred on white: what chromium's
 * fake camera plays in a loop. The SVG is rasterised by page's own canvas. */
async function y4mOf(page, svg) {
  const W = 640, H = 480
  const yuv = await page.evaluate(async ({ svg, W, H }) => {
    const url = URL.createObjectURL(new Blob([svg.replace('<svg ', '<svg width="360" height="360" ')], { type: 'image/svg+xml' }))
    const img = new Image()
    img.src = url
    await img.decode()
    const c = document.createElement('canvas')
    c.width = W; c.height = H
    const g = c.getContext('2d')
    g.fillStyle = '#fff'
    g.fillRect(0, 0, W, H)
    g.imageSmoothingEnabled = false
    g.drawImage(img, (W - 360) / 2, (H - 360) / 2, 360, 360)
    const px = g.getImageData(0, 0, W, H).data
    const out = new Uint8Array(W * H * 3 / 2).fill(128) // chroma planes: grey
    for (let i = 0; i < W * H; i++) out[i] = Math.round(16 + (219 * (0.299 * px[i * 4] + 0.587 * px[i * 4 + 1] + 0.114 * px[i * 4 + 2])) / 255)
    return Array.from(out)
  }, { svg, W, H })
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\nFRAME\n`), Buffer.from(yuv)])
}

test('counter: a sale by reading the card\'s QR code with the camera (tablet)', async () => {
  const cards = (await api(tablet, '/api/v1/canteen/cards?limit=100')).items.filter((c) => c.status === 'active' && c.code && c.balance >= 2000)
  const card = cards[cards.length - 1]
  assert.ok(card, 'a card with a balance')
  const svg = await tablet.evaluate(async (id) => (await fetch(`/api/v1/canteen/cards/${id}/qr.svg`)).text(), card.id)
  const file = join(ARTIFACTS, 'canteen-card-qr.y4m')
  writeFileSync(file, await y4mOf(tablet, svg))
  // a second chromium whose camera plays that frame; the counter's session is carried over
  const cam = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${file}`],
  })
  try {
    const ctx = await cam.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true, locale: 'zh-CN', storageState: await tabletCtx.storageState() })
    await ctx.grantPermissions(['camera'], { origin: BASE })
    const page = await ctx.newPage()
    await page.goto(BASE + '/canteen')
    await page.locator('[data-test=counter-item]').first().waitFor()
    const before = await salesOf(page, card.resident_id)
    const native = await page.evaluate(() => 'BarcodeDetector' in window)
    await page.click('[data-test=counter-camera]')
    console.log(`camera decoder: ${native ? 'BarcodeDetector' : 'jsQR'}`)
    await page.locator('[data-test=counter-diner]').getByText(card.resident_name).waitFor({ timeout: 10000 })
    assert.equal(await page.locator('[data-test=counter-camera-view]').count(), 0, 'the camera closes once a code is read')
    await page.locator('[data-test=counter-item]:not([disabled])').first().click()
    await page.locator('[data-test=counter-sold]').first().waitFor()
    const sale = (await api(page, `/api/v1/canteen/sales?resident_id=${card.resident_id}&limit=1`)).items[0]
    assert.equal(sale.card_id, card.id, 'sold on the card whose code the camera read')
    assert.equal(await salesOf(page, card.resident_id), before + 1)
    await shot(page, '95b-canteen-camera')
  } finally {
    await cam.close()
  }
})

test('counter: sales made offline are queued and sent once when the network is back', async () => {
  await tablet.goto(BASE + '/canteen')
  await tablet.locator('[data-test=counter-item]').first().waitFor()
  await tablet.locator('[data-test=counter-search]').fill('wangjianguo')
  await tablet.locator('[data-test=counter-diner-option]', { hasText: '王建国' }).first().click()
  await tablet.locator('[data-test=counter-diner]').getByText('王建国').waitFor()
  const rid = await tablet.evaluate(async () => (await (await fetch('/api/v1/canteen/diners?q=wangjianguo')).json()).items.find((d) => d.card_id).resident_id)
  const before = await salesOf(tablet, rid)

  await tabletCtx.setOffline(true)
  try {
    await tablet.locator('[data-test=counter-item]:not([disabled])').first().click()
    await tablet.locator('[data-test=counter-offline]').waitFor()
    await tablet.locator('[data-test=counter-queue]').waitFor()
    const ref = (await tablet.locator('[data-test=counter-queued-ref]').first().innerText()).trim()
    assert.match(ref, /^web-/)
    const queued = await tablet.evaluate(() => JSON.parse(localStorage.getItem('nx.canteen.queue') || '[]'))
    assert.equal(queued.length, 1)
    assert.equal(queued[0].body.client_ref, ref)
    await shot(tablet, '96-canteen-offline')
  } finally {
    await tabletCtx.setOffline(false)
  }
  // back online: the page sends the queue by itself
  await tablet.locator('[data-test=counter-synced]').first().waitFor({ timeout: 20000 })
  await tablet.locator('[data-test=counter-online]').waitFor()
  assert.equal(await tablet.evaluate(() => JSON.parse(localStorage.getItem('nx.canteen.queue') || '[]').length), 0)
  assert.equal(await salesOf(tablet, rid), before + 1)

  // the same sale sent again (a second tab that still held it): the server keeps one
  const again = await tablet.evaluate(async () => {
    const me = await (await fetch('/api/v1/me')).json()
    const sales = (await (await fetch('/api/v1/canteen/sales?limit=1')).json()).items
    const r = await fetch('/api/v1/canteen/sales', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ client_ref: sales[0].client_ref, menu_item_id: sales[0].menu_item_id, card_id: sales[0].card_id }),
    })
    return { status: r.status, id: (await r.json()).id, first: sales[0].id }
  })
  assert.equal(again.status, 200)
  assert.equal(again.id, again.first)
  assert.equal(await salesOf(tablet, rid), before + 1)
})

test('a relative orders a meal for the elder on a phone in 长辈模式', async () => {
  const ctx = await newContext(browser, { phone: true })
  const page = await ctx.newPage()
  await login(page, 'jiashu', undefined, '/m/login')
  await page.locator('[data-test=elder-switch]').waitFor()
  const wasOn = await page.evaluate(() => document.documentElement.classList.contains('elder'))
  if (!wasOn) await page.click('[data-test=elder-switch]')
  await page.waitForFunction(() => document.documentElement.classList.contains('elder'))
  try {
    await page.click('[data-test=m-nav-canteen]')
    await page.locator('[data-test=m-canteen-card]').waitFor()
    const order = page.locator('[data-test=m-canteen-order]').first()
    await order.waitFor()
    const fontSize = await order.evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
    assert.ok(fontSize >= 18, `big buttons in 长辈模式 (${fontSize}px)`)
    const row = page.locator('[data-test=m-canteen-item]', { has: page.locator('[data-test=m-canteen-order]') }).first()
    const name = (await row.locator('.name').innerText()).trim()
    const before = await page.locator('[data-test=m-canteen-myorder]').count()
    await order.click()
    await page.waitForFunction((n) => document.querySelectorAll('[data-test=m-canteen-myorder]').length >= n, before + 1, { timeout: 10000 })
    assert.match(await page.locator('[data-test=m-canteen-mine]').innerText(), new RegExp(name.replace(/[()（）.·+*?[\]]/g, '.')))
    // the order is the elder's (the family account is bound to 王建国)
    const mine = await page.evaluate(async () => (await (await fetch('/api/v1/canteen/orders?limit=1')).json()).items[0])
    assert.equal(mine.resident_name, '王建国')
    assert.equal(mine.status, 'ordered')
    await shot(page, '97-m-canteen-elder')
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    assert.ok(width <= 390, `no sideways scrolling on a phone (${width})`)
    // and cancels it again
    page.once('dialog', (d) => d.accept())
    await page.locator(`[data-test=m-canteen-cancel][data-order="${mine.id}"]`).click()
    await page.waitForFunction(async (id) => (await (await fetch(`/api/v1/canteen/orders/${id}`)).json()).status === 'cancelled', mine.id, { timeout: 10000 })
  } finally {
    if (!wasOn) {
      await page.goto(BASE + '/m')
      await page.click('[data-test=elder-switch]')
      await page.waitForFunction(() => !document.documentElement.classList.contains('elder'))
    }
    await ctx.close()
  }
})

test('a volunteer marks today\'s delivery round on a phone (375 px)', async () => {
  const ctx = await browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' })
  const page = await ctx.newPage()
  try {
    await login(page, 'zhiyuan', undefined, '/m/login')
    await page.goto(BASE + '/m')
    await page.click('[data-test=m-nav-delivery]')
    await page.locator('[data-test=m-delivery-stop]').first().waitFor()
    // the round as the server gives it to this account: masked names, route order within each grid
    const dl = await api(page, '/api/v1/canteen/deliveries')
    const stops = dl.grids.flatMap((g) => g.stops)
    assert.ok(dl.grids.every((g) => g.stops.every((x, i) => x.route === i + 1)), 'route order')
    assert.ok(stops.every((x) => x.resident_name.includes('*')), `names masked for a volunteer: ${stops.map((x) => x.resident_name)}`)
    assert.equal(await page.locator('[data-test=m-delivery-stop]').count(), stops.length)
    const open = stops.filter((x) => x.status === 'ordered')
    assert.ok(open.length >= 2, 'two stops still to walk')

    const first = page.locator(`[data-test=m-delivery-stop][data-order="${open[0].order_id}"]`)
    await first.locator('[data-test=m-delivery-deliver]').click()
    await first.locator('[data-test=m-delivery-done]').waitFor()
    const done = await api(page, `/api/v1/canteen/orders/${open[0].order_id}`)
    assert.equal(done.status, 'delivered')
    assert.ok(done.delivered_at, 'the time is recorded')

    const second = page.locator(`[data-test=m-delivery-stop][data-order="${open[1].order_id}"]`)
    await second.locator('[data-test=m-delivery-miss]').click()
    await page.locator('.el-message-box input').fill('敲门无人应答')
    await page.locator('.el-message-box__btns .el-button--primary').click()
    await second.locator('[data-test=m-delivery-missed]').waitFor()
    const missed = await api(page, `/api/v1/canteen/orders/${open[1].order_id}`)
    assert.equal(missed.status, 'missed')
    assert.equal(missed.note, '敲门无人应答')
    const width = await page.evaluate(() => document.documentElement.scrollWidth)
    assert.ok(width <= 375, `no sideways scrolling at 375 px (${width})`)
    await shot(page, '98-m-delivery-round')
  } finally {
    await ctx.close()
  }
})
