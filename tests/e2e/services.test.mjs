// The online service hall (issue 7) in the browser. On a phone, the resident jumin (王建国) applies for
// 居住证明: submitting without the ID card lists what is missing, a text file posing as a JPEG is
// refused by the server's type sniffing, then the application goes in. Community staff (shequ) find
// it in their review queue and return it for correction; jumin sees the message, corrects and
// resubmits; shequ approves (居住证明 has one review step). The certificate PDF downloads and its
// verification code verifies at /verify/<code> (the server's own page, not the SPA), an altered code
// does not. Staff applying (代办) for 高龄津贴 on behalf of an under-80 resident are refused with the
// reason; the coming-of-age list shows next month's 80/90/100-year-olds and starts an application
// from a row; a grid worker is offered no review queue and no review buttons; the street officer's
// queue, the statistics and the catalogue editor (JSON parts with their errors) render.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, launch, newContext, login, shot } from './harness.mjs'
import { idCheckChar } from '../../web/src/utils/idcard.js'

// a well-formed 1x1 grey baseline JPEG: uploads are walked by their structure, a JFIF header
// followed by zeros is refused
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb00430001010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101ffc0000b080001000101011100ffc40014000100000000000000000000000000000000ffc40014100100000000000000000000000000000000ffda0008010100003f003fffd9', 'hex')
const PDF = Buffer.from('%PDF-1.4\n%lease for the e2e test\n' + '0'.repeat(100))
const ADMIN_PW = process.env.NX_ADMIN_PASSWORD
const ADMIN_NEW_PW = 'Nx-e2e-Secret-2026' // what admin.test.mjs sets

let browser, phoneCtx, phone, staffCtx, staff
const st = {} // shared between the steps: application id, verification code

before(async () => {
  browser = await launch()
  phoneCtx = await newContext(browser, { phone: true })
  phone = await phoneCtx.newPage()
  staffCtx = await newContext(browser)
  staff = await staffCtx.newPage()
})
after(async () => { await browser?.close() })

/** Shanghai's next month as YYYY-MM (the server's clock and zone). */
function nextMonth() {
  const [y, m] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(new Date()).split('-').map(Number)
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`
}

async function pickOption(page, selectSel, text) {
  await page.click(selectSel)
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click()
}

async function setDate(page, fieldSel, value) {
  const input = page.locator(`${fieldSel} input`)
  await input.fill(value) // phones: the native date input
  if ((await input.getAttribute('type')) !== 'date') {
    await input.press('Enter')
    await page.keyboard.press('Escape')
  }
}

test('a resident applies for 居住证明 on a phone; missing material and a fake JPEG are refused', async () => {
  await login(phone, 'jumin', undefined, '/m/login')
  await phone.click('[data-test=m-nav-services]')
  await phone.locator('[data-test=m-catalogue]').waitFor()
  await shot(phone, '50-m-services')
  await phone.click('[data-test=m-item-residence_certificate]')
  await phone.locator('[data-test=app-editor]').waitFor()
  await phone.locator('[data-test=field-purpose] .el-radio-button', { hasText: '子女入学' }).click()
  await setDate(phone, '[data-test=field-since]', '2012-09-01')

  // Submit without the ID card: the draft is saved and the server says exactly what is missing.
  await phone.click('[data-test=submit-app]')
  const problems = phone.locator('[data-test=submit-problems]')
  await problems.waitFor()
  assert.match(await problems.innerText(), /身份证正反面/)
  assert.match(await phone.locator('[data-test=material-id_card] [data-test=material-error]').innerText(), /身份证/)

  // A text file named .jpg: the server sniffs the bytes and refuses it (415), shown under the material.
  await phone.setInputFiles('[data-test=material-id_card] input[type=file]', { name: 'id.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('just some text, not a picture') })
  const matErr = phone.locator('[data-test=material-id_card] [data-test=material-error]')
  await phone.waitForFunction(() => !/请上传/.test(document.querySelector('[data-test=material-id_card] [data-test=material-error]')?.innerText || '请上传'))
  assert.ok((await matErr.innerText()).length > 0, 'the refused upload is explained')
  assert.equal(await phone.locator('[data-test=material-id_card] [data-test=material-file]').count(), 0)
  await shot(phone, '51-m-apply-refused')

  await phone.setInputFiles('[data-test=material-id_card] input[type=file]', { name: '身份证.jpg', mimeType: 'image/jpeg', buffer: JPEG })
  await phone.locator('[data-test=material-id_card] [data-test=material-file]').waitFor()
  assert.match(await phone.locator('[data-test=material-id_card] [data-test=material-file]').innerText(), /身份证\.jpg[\s\S]*image\/jpeg/)
  const width = await phone.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 390, `no horizontal overflow (${width}px)`)
  await phone.click('[data-test=submit-app]')
  await phone.waitForURL(/\/m\/services\/\d+$/)
  st.appId = Number(new URL(phone.url()).pathname.split('/').pop())
  await phone.locator('[data-test=m-app-status]').waitFor()
  assert.equal((await phone.locator('[data-test=m-app-status]').innerText()).trim(), '审核中')
  assert.match(await phone.locator('[data-test=svc-timeline]').innerText(), /提交申请/)
  await shot(phone, '52-m-submitted')
})

test('community staff return it for correction from the review queue', async () => {
  await login(staff, 'shequ')
  assert.match(await staff.locator('[data-test=sidebar]').innerText(), /审核队列/)
  await staff.goto(BASE + '/services/queue')
  const table = staff.locator('[data-test=app-table]')
  await table.waitFor()
  const row = table.locator('.el-table__row', { hasText: '居住证明' }).filter({ hasText: '王*国' }).first()
  await row.waitFor()
  assert.ok(await table.locator('[data-test=due]').count() > 0, 'due states shown in the queue')
  await shot(staff, '53-staff-queue')
  await staff.goto(`${BASE}/services/applications/${st.appId}`)
  await staff.locator('[data-test=review-return]').waitFor()
  assert.match(await staff.locator('[data-test=app-form]').innerText(), /子女入学/)
  assert.match(await staff.locator('[data-test=app-material]').innerText(), /身份证\.jpg/)
  await staff.click('[data-test=review-return]')
  // What to correct is required.
  await staff.click('[data-test=review-submit]')
  await staff.locator('[data-test=review-dialog] .el-form-item__error').waitFor()
  await staff.fill('[data-test=review-note]', '请补充房产证或租赁合同，并核对起始居住日期')
  await staff.click('[data-test=review-submit]')
  await staff.locator('[data-test=app-correction]').waitFor()
  assert.equal((await staff.locator('[data-test=app-status]').innerText()).trim(), '退回补正')
  await shot(staff, '54-staff-returned')
})

test('the resident is told, corrects and resubmits', async () => {
  await phone.goto(BASE + '/m')
  await phone.click('[data-test=m-nav-notifications]')
  const note = phone.locator('[data-test=m-note]', { hasText: '补正' }).first()
  await note.waitFor()
  assert.ok(await note.evaluate((el) => el.classList.contains('unread')), 'the message is unread')
  await shot(phone, '55-m-notifications')
  await note.click()
  await phone.waitForURL(new RegExp(`/m/services/${st.appId}$`))
  await phone.locator('[data-test=m-correction]').waitFor()
  assert.match(await phone.locator('[data-test=m-correction]').innerText(), /租赁合同/)
  await setDate(phone, '[data-test=field-since]', '2011-03-01')
  await phone.setInputFiles('[data-test=material-lease] input[type=file]', { name: 'lease.pdf', mimeType: 'application/pdf', buffer: PDF })
  await phone.locator('[data-test=material-lease] [data-test=material-file]').waitFor()
  await shot(phone, '56-m-correct')
  await phone.click('[data-test=submit-app]')
  await phone.waitForFunction(() => document.querySelector('[data-test=m-app-status]')?.innerText.trim() === '审核中')
  assert.match(await phone.locator('[data-test=svc-timeline]').innerText(), /补正后重新提交/)
})

test('a saved 生育登记 reopens with the ID number and phone masked and goes in without retyping them', async () => {
  const spouse = '11010519950203' + '221'
  const spouseId = spouse + idCheckChar(spouse)
  await phone.goto(BASE + '/m/services')
  await phone.click('[data-test=m-item-birth_registration]')
  await phone.locator('[data-test=app-editor]').waitFor()
  await phone.locator('[data-test=field-spouse_name] input').fill('赵敏')
  await phone.locator('[data-test=field-spouse_id_number] input').fill(spouseId)
  await phone.locator('[data-test=field-child_order] .el-radio-button', { hasText: '一孩' }).click()
  await setDate(phone, '[data-test=field-expected_date]', '2027-03-01')
  await phone.locator('[data-test=field-contact_phone] input').fill('13900001111')
  const [saved] = await Promise.all([
    phone.waitForResponse((r) => r.url().endsWith('/api/v1/service-applications') && r.request().method() === 'POST'),
    phone.click('[data-test=save-draft]'),
  ])
  const id = (await saved.json()).id
  assert.ok(id > 0, 'draft saved')
  // reopened: the two personal fields are empty inputs with the masked value as a placeholder
  await phone.goto(BASE + `/m/services/${id}`)
  await phone.locator('[data-test=app-editor]').waitFor()
  const idInput = phone.locator('[data-test=field-spouse_id_number] input')
  assert.equal(await idInput.inputValue(), '')
  const placeholder = await idInput.getAttribute('placeholder')
  const shown = placeholder.split('（')[0]
  // the mask keeps province and city only: with the birth date elsewhere on screens, more would give it away
  assert.match(shown, /^1101\*{14}$/, `masked: ${placeholder}`)
  assert.match(placeholder, /不修改请留空/)
  await phone.locator('[data-test=field-child_order] .el-radio-button', { hasText: '二孩' }).click()
  await phone.setInputFiles('[data-test=material-id_card] input[type=file]', { name: '身份证.jpg', mimeType: 'image/jpeg', buffer: JPEG })
  await phone.locator('[data-test=material-id_card] [data-test=material-file]').waitFor()
  await phone.setInputFiles('[data-test=material-marriage_cert] input[type=file]', { name: '结婚证.jpg', mimeType: 'image/jpeg', buffer: JPEG })
  await phone.locator('[data-test=material-marriage_cert] [data-test=material-file]').waitFor()
  await phone.click('[data-test=submit-app]')
  await phone.waitForFunction(() => document.querySelector('[data-test=m-app-status]')?.innerText.trim() === '审核中')
  const a = await phone.evaluate(async (i) => (await fetch(`/api/v1/service-applications/${i}`)).json(), id)
  assert.equal(a.status, 'in_review')
  assert.equal(a.form.child_order, '二孩', 'the change went in')
  assert.equal(a.form.spouse_id_number, shown, 'the stored ID number was kept (the same masked form)')
  assert.match(a.form.contact_phone, /^139\*+1111$/, 'and the phone')
  await shot(phone, '57-m-masked-kept')
})

test('staff approve; the certificate PDF downloads and its code verifies, an altered one does not', async () => {
  await staff.goto(`${BASE}/services/applications/${st.appId}`)
  await staff.locator('[data-test=review-approve]').waitFor()
  assert.match(await staff.locator('[data-test=app-form]').innerText(), /2011-03-01/)
  await staff.click('[data-test=review-approve]')
  await staff.fill('[data-test=review-note]', '材料齐全，情况属实')
  await staff.click('[data-test=review-submit]')
  await staff.waitForFunction(() => document.querySelector('[data-test=app-status]')?.innerText.trim() === '已办结')
  await staff.locator('[data-test=verify-code]').first().waitFor()
  await shot(staff, '57-staff-approved')

  await phone.goto(`${BASE}/m/services/${st.appId}`)
  await phone.locator('[data-test=m-cert]').waitFor()
  st.code = (await phone.locator('[data-test=m-verify-code]').innerText()).trim()
  assert.match(st.code, /^\d+-[a-z2-7]{16}$/)
  await shot(phone, '58-m-approved')
  const href = await phone.locator('[data-test=m-cert]').getAttribute('href')
  const pdf = await phone.request.get(BASE + href)
  assert.equal(pdf.status(), 200)
  assert.equal(pdf.headers()['content-type'], 'application/pdf')
  assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-')

  // /verify/<code> is the server's own page (the SPA's history fallback does not take it).
  const v = await phoneCtx.newPage()
  await v.goto(`${BASE}/verify/${st.code}`)
  assert.match(await v.locator('h1').innerText(), /真实有效/)
  assert.match(await v.content(), /居住证明/)
  assert.equal(await v.locator('#app').count(), 0, 'not the web app')
  await shot(v, '59-verify-ok')
  const last = st.code.at(-1)
  await v.goto(`${BASE}/verify/${st.code.slice(0, -1)}${last === 'a' ? 'b' : 'a'}`)
  assert.match(await v.locator('h1').innerText(), /核验失败/)
  assert.doesNotMatch(await v.content(), /真实有效/)
  await shot(v, '60-verify-altered')
  await v.close()
})

test('高龄津贴 applied for an under-80 resident (代办) is refused with the reason', async () => {
  const res = (await (await staff.request.get(BASE + '/api/v1/residents?age_min=60&age_max=75&status=active&limit=1')).json()).items
  assert.ok(res.length, 'a resident aged 60-75 in the demo')
  const items = (await (await staff.request.get(BASE + '/api/v1/service-items')).json()).items
  const ea = items.find((i) => i.code === 'elderly_allowance')
  await staff.goto(`${BASE}/services/apply?resident=${res[0].id}&item=${ea.id}`)
  await staff.locator('[data-test=app-editor]').waitFor()
  assert.match(await staff.locator('[data-test=apply-item-info]').innerText(), /年满 80 周岁/)
  await staff.fill('[data-test=field-bank_name] input', '中国工商银行')
  await staff.fill('[data-test=field-bank_account] input', '6222020200112233445')
  await staff.fill('[data-test=field-contact_phone] input', '1380000')
  await staff.click('[data-test=submit-app]')
  // The browser checks the phone first.
  await staff.locator('[data-test=field-contact_phone] .el-form-item__error').waitFor()
  await staff.fill('[data-test=field-contact_phone] input', '13800001111')
  for (const key of ['id_card', 'hukou', 'bank_card']) {
    await staff.setInputFiles(`[data-test=material-${key}] input[type=file]`, { name: `${key}.jpg`, mimeType: 'image/jpeg', buffer: JPEG })
    await staff.locator(`[data-test=material-${key}] [data-test=material-file]`).waitFor()
  }
  await staff.click('[data-test=submit-app]')
  const problems = staff.locator('[data-test=submit-problems]')
  await problems.waitFor()
  const text = await problems.innerText()
  assert.match(text, /80/)
  assert.match(text, /现年 \d+ 周岁|现年\d+周岁/)
  assert.equal(new URL(staff.url()).pathname, '/services/apply', 'not submitted')
  await shot(staff, '61-allowance-refused')
})

test('the coming-of-age list shows next month’s 80/90/100 and starts an application from a row', async () => {
  await staff.goto(BASE + '/services/allowance')
  const table = staff.locator('[data-test=coming-table]')
  await table.waitFor()
  assert.match(await staff.locator('[data-test=coming-month]').innerText(), new RegExp(nextMonth()))
  const api = await (await staff.request.get(BASE + '/api/v1/allowance/coming-of-age')).json()
  assert.equal(api.month, nextMonth())
  const rows = table.locator('.el-table__body-wrapper .el-table__row')
  assert.equal(await rows.count(), api.items.length)
  assert.ok(api.items.length > 0, 'the demo has residents coming of age next month')
  const turning = await table.locator('[data-test=turning]').allInnerTexts()
  for (const x of turning) assert.ok(['80', '90', '100'].includes(x.trim()), `turning ${x}`)
  for (const it of api.items) assert.ok(it.birthday.startsWith(nextMonth()), `${it.name}'s birthday ${it.birthday} is next month`)
  await shot(staff, '62-coming-of-age')
  // 发起申请 shows on a row neither receiving nor applied for, once the page has read the catalogue's
  // allowance item by a request of its own: whether to expect it is the server's answer, not what the
  // page shows at the moment it is asked (a count read before the item came skipped this step)
  const start = table.locator('[data-test=coming-start]').first()
  const canStart = items => items.some((it) => !it.receiving && !it.open_application)
  const allowance = (await (await staff.request.get(BASE + '/api/v1/service-items')).json()).items.some((i) => i.effect === 'allowance' || i.code === 'elderly_allowance')
  if (allowance && canStart(api.items)) {
    await start.click()
    await staff.waitForURL(/\/services\/apply\?/)
    await staff.locator('[data-test=apply-resident]').waitFor()
    await staff.locator('[data-test=app-editor]').waitFor()
  }
  await staff.goto(BASE + '/services/allowance')
  await staff.click('#tab-recipients')
  await staff.locator('[data-test=recipient-table] .el-table__row').first().waitFor()
  await shot(staff, '63-recipients')
  await staff.click('#tab-roster')
  const [dl] = await Promise.all([staff.waitForEvent('download'), staff.click('[data-test=roster-export]')])
  assert.match(dl.suggestedFilename(), /\.xlsx$/)
})

test('statistics page and the home dashboard card', async () => {
  await staff.goto(BASE + '/')
  await staff.locator('[data-test=dash-services]').waitFor()
  assert.match(await staff.locator('[data-test=dash-services]').innerText(), /待审核/)
  await staff.goto(BASE + '/services/stats')
  await staff.locator('[data-test=svc-cards]').waitFor()
  const waiting = Number((await staff.locator('[data-test=svc-card-waiting] .num').innerText()).trim())
  const s = await (await staff.request.get(BASE + '/api/v1/stats/services')).json()
  assert.equal(waiting, s.waiting)
  await staff.locator('[data-test=svc-cards] ~ .grid2 canvas').first().waitFor()
  await shot(staff, '64-service-stats')
})

test('a grid worker is offered no review: no queue, no review buttons', async () => {
  const ctx = await newContext(browser)
  const p = await ctx.newPage()
  await login(p, 'wangge1')
  const side = await p.locator('[data-test=sidebar]').innerText()
  assert.ok(side.includes('代办申请'), 'grid workers apply on behalf of residents')
  assert.ok(!side.includes('审核队列'), 'but have no review queue')
  await p.goto(BASE + '/services/queue')
  await p.waitForURL(/\/forbidden$/)
  const list = await (await p.request.get(BASE + '/api/v1/service-applications?status=in_review&limit=1')).json()
  if (list.items.length) {
    await p.goto(`${BASE}/services/applications/${list.items[0].id}`)
    await p.locator('[data-test=app-status]').waitFor()
    assert.equal(await p.locator('[data-test=review-approve]').count(), 0)
    await shot(p, '65-grid-no-review')
  }
  await ctx.close()

  // The street officer reviews the street step across communities.
  const jctx = await newContext(browser)
  const j = await jctx.newPage()
  await login(j, 'jiedao')
  await j.goto(BASE + '/services/queue')
  await j.locator('[data-test=app-table]').waitFor()
  await shot(j, '66-street-queue')
  await jctx.close()
})

test("catalogue admin: an item's parts are built in a form (no JSON), a mistake is named under its part, the built definition is saved", { skip: !ADMIN_PW && 'NX_ADMIN_PASSWORD not set' }, async () => {
  const ctx = await newContext(browser)
  const p = await ctx.newPage()
  await p.goto(BASE + '/login')
  await p.fill('input[name=username]', 'admin')
  await p.fill('input[name=password]', ADMIN_NEW_PW)
  await p.click('[data-test=login-submit]')
  try {
    await p.waitForURL((u) => !u.pathname.endsWith('/login'), { timeout: 4000, waitUntil: 'commit' })
  } catch {
    // admin.test.mjs did not run: first login with the one-time password and change it.
    await p.fill('input[name=password]', ADMIN_PW)
    await p.click('[data-test=login-submit]')
    await p.waitForURL(/\/password$/, { waitUntil: 'commit' })
    await p.fill('input[name=old_password]', ADMIN_PW)
    await p.fill('input[name=new_password]', ADMIN_NEW_PW)
    await p.fill('input[name=repeat_password]', ADMIN_NEW_PW)
    await p.click('[data-test=password-submit]')
    await p.waitForURL((u) => u.pathname === '/', { waitUntil: 'commit' })
  }
  await p.goto(BASE + '/services/items')
  await p.locator('[data-test=item-table] .el-table__row').nth(11).waitFor()
  await shot(p, '67-item-admin')
  await p.click('[data-test=item-edit-volunteer_certificate]')
  const dlg = p.locator('[data-test=item-dialog]')
  // the review levels are built, not typed as JSON (issue 19): a deadline out of range is named
  // under 审核环节 and nothing is sent; a valid one is saved and read back from the server
  const stepRow = dlg.locator('[data-test=builder-steps-row]').first()
  await stepRow.waitFor()
  assert.equal(await dlg.locator('textarea.json, [data-test^=item-json]').count(), 0, 'no JSON text to edit')
  const days = stepRow.locator('[data-test=b-days]')
  const oldDays = Number(await days.inputValue())
  await days.fill('0')
  let sent = 0
  const count = (r) => { if (r.url().includes('/api/v1/service-items/') && r.method() === 'PATCH') sent++ }
  p.on('request', count)
  await p.click('[data-test=item-save]')
  await dlg.locator('[data-test=item-part-steps] .el-form-item__error', { hasText: '审核时限' }).waitFor()
  assert.equal(sent, 0, 'nothing sent while the builder shows a mistake')
  await shot(p, '68-item-edit-error')
  const newDays = oldDays === 7 ? 8 : 7
  await days.fill(String(newDays))
  await dlg.locator('[data-test=builder-form-add]').click()
  const field = dlg.locator('[data-test=builder-form-row]').last()
  await field.locator('[data-test=b-label]').fill('备注说明')
  await field.locator('[data-test=b-key]').fill('remark_note')
  await p.click('[data-test=item-save]')
  await dlg.waitFor({ state: 'hidden' })
  p.off('request', count)
  const items = await (await p.request.get(BASE + '/api/v1/service-items?all=true')).json()
  const saved = items.items.find((it) => it.code === 'volunteer_certificate')
  assert.equal(saved.steps[0].days, newDays, 'the deadline built in the form is the item\'s')
  assert.ok(saved.form.some((f) => f.key === 'remark_note' && f.label === '备注说明' && f.type === 'text'), 'the new field is saved')
  await ctx.close()
})
