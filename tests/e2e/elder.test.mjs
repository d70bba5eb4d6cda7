// 长辈模式 everywhere (issue 19, item 7): every resident (mobile) page opened in 长辈模式 — the resident
// jumin's pages and the family account's elder page — shows no visible text below 20 px and no text
// below a contrast ratio of 4.5:1 (WCAG 2 AA for normal text) against the background it is drawn on.
// What is measured: every visible, non-empty text node inside the page (.m-page), its element's
// computed font size, and its colour against the first opaque background of it or an ancestor
// (colours with alpha blended over it). Not measured, and why: text inside SVG drawings (the estate
// plan: its own units, scaled with the drawing), disabled controls (WCAG exempts inactive
// components), placeholders and typed input values (not text nodes). Each account's 长辈模式 setting
// is left as it was found (inElderMode): later files expect it off.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot, inElderMode } from './harness.mjs'

const MIN_PX = 20
const MIN_RATIO = 4.5

let browser
before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

/** Open path and wait until its lists have loaded (no skeleton or loading mask left). */
async function open(page, path) {
  await page.goto(BASE + path)
  await page.locator('.m-main > *').first().waitFor()
  await page.waitForFunction(() => !document.querySelector('.m-page .el-skeleton, .m-page .el-loading-mask, .m-page .is-loading'))
  await page.waitForTimeout(250)
}

/** The texts on the page that are too small or too pale: [{text, px, ratio, color, bg}]. */
function offenders(page) {
  return page.evaluate(({ MIN_PX, MIN_RATIO }) => {
    const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 } }
    const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4 }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b) }
    const over = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1 })
    // The backgrounds under the text, top first: what is painted at the text's point (so that a
    // selected segment's indicator, a sibling under the label, counts), else the element's ancestors.
    function background(el, box) {
      const stack = document.elementsFromPoint(box.left + Math.min(box.width / 2, 8), box.top + box.height / 2)
      const at = stack.indexOf(el)
      const chain = at >= 0 ? stack.slice(at) : []
      // a selected segment's indicator takes no pointer events, so elementsFromPoint misses it
      const seg = el.closest('.el-segmented__item.is-selected')?.closest('.el-segmented')?.querySelector('.el-segmented__item-selected')
      if (seg) chain.unshift(seg)
      if (at < 0) for (let e = el; e; e = e.parentElement) chain.push(e)
      const layers = []
      for (const e of chain) {
        const c = parse(getComputedStyle(e).backgroundColor)
        if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break }
      }
      let bg = { r: 255, g: 255, b: 255, a: 1 }
      for (const c of layers.reverse()) bg = over(c, bg)
      return bg
    }
    const root = document.querySelector('.m-page')
    const out = []
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT)
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const text = n.textContent.trim()
      if (!text) continue
      const el = n.parentElement
      if (el.closest('svg, [disabled], .is-disabled, [aria-hidden=true]')) continue
      const st = getComputedStyle(el)
      if (st.visibility === 'hidden' || st.display === 'none' || !el.getClientRects().length) continue
      let hidden = false
      for (let e = el; e && !hidden; e = e.parentElement) hidden = getComputedStyle(e).opacity === '0'
      if (hidden) continue
      const r = document.createRange(); r.selectNodeContents(n)
      const box = r.getBoundingClientRect()
      if (box.width < 1 || box.height < 1) continue
      const px = parseFloat(st.fontSize)
      const bg = background(el, box)
      const fg = over(parse(st.color), bg)
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x)
      const ratio = (a + 0.05) / (b + 0.05)
      if (px < MIN_PX || ratio < MIN_RATIO) out.push({ text: text.slice(0, 30), px, ratio: Math.round(ratio * 100) / 100, color: st.color, cls: el.className })
    }
    return out
  }, { MIN_PX, MIN_RATIO })
}

async function sweep(page, paths, tag) {
  const bad = []
  for (const path of paths) {
    await open(page, path)
    for (const o of await offenders(page)) bad.push({ path, ...o })
  }
  await shot(page, `99-elder-${tag}`)
  return bad
}

test('every resident page in 长辈模式: no text under 20 px, none under 4.5:1 contrast', async () => {
  const ctx = await newContext(browser, { phone: true })
  const page = await ctx.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  await login(page, 'jumin', undefined, '/m/login')
  const get = async (p) => (await page.request.get(BASE + p)).json()
  const paths = ['/m', '/m/problems', '/m/incidents', '/m/council', '/m/services', '/m/notifications', '/m/elections',
    '/m/party', '/m/volunteer', '/m/canteen', '/m/briefings', '/m/courses', '/m/rooms', '/m/clinic', '/m/library']
  const items = (await get('/api/v1/service-items')).items
  paths.push(`/m/services/apply/${items.find((i) => i.code === 'residence_certificate').id}`)
  const apps = (await get('/api/v1/service-applications?limit=1')).items
  if (apps.length) paths.push(`/m/services/${apps[0].id}`)
  const problems = (await get('/api/v1/problems?limit=1')).items
  if (problems.length) paths.push(`/m/problems/${problems[0].id}`)
  let bad = []
  await inElderMode(page, async () => { bad = await sweep(page, paths, 'resident') })
  assert.deepEqual(bad.slice(0, 15), [], `${bad.length} texts too small or too pale`)

  // the family account's page of the elder (position, readings, alarms)
  const fam = await (await newContext(browser, { phone: true })).newPage()
  fam.on('pageerror', (e) => errors.push(e.message))
  await login(fam, 'jiashu', undefined, '/m/login')
  await inElderMode(fam, async () => { bad = await sweep(fam, ['/m', '/m/alarms'], 'family') })
  assert.deepEqual(bad.slice(0, 15), [], `${bad.length} texts too small or too pale`)
  await ctx.close()
  assert.deepEqual(errors, [])
})
