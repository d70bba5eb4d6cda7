// node --test web/src/utils/ — the wristband pages' pure helpers, expected values worked out by hand.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toLocal, centerOf, fitPlan, scaleBar, metresText, durationText, msBetween, dayStartMs, validateCommand,
  commandArgs, commandKinds, inside, validateRules, rulesBody, differsFromDefault, applyAlertEvent, hasCoord, isTakeover, ALERT_KINDS } from './devices.js'

test('toLocal: 0.001° of latitude is about 110.6 m north; of longitude at 60° N about 55.7 m east', () => {
  const c = { lat: 60, lon: 10 }
  const n = toLocal({ lat: 60.001, lon: 10 }, c)
  assert.ok(Math.abs(n.x) < 1e-9)
  assert.ok(Math.abs(n.y - 110.574) < 0.01, `${n.y}`)
  const e = toLocal({ lat: 60, lon: 10.001 }, c)
  assert.ok(Math.abs(e.x - 55.66) < 0.01, `${e.x}`) // 111.32 m × cos 60° = 55.66 m
  assert.ok(Math.abs(e.y) < 1e-9)
})

test('centerOf: the middle of the bounding box, ignoring points without a fix', () => {
  assert.deepEqual(centerOf([{ lat: 36.6, lon: 117.1 }, { lat: 36.7, lon: 117.3 }, { lat: 0, lon: 0 }, { lat: null, lon: 1 }]),
    { lat: 36.650000000000006, lon: 117.19999999999999 })
  assert.equal(centerOf([]), null)
  assert.equal(hasCoord({ lat: 0, lon: 0 }), false)
})

test('fitPlan: the centre is in the middle, north is up, metres are square, the farthest point stays inside', () => {
  const c = { lat: 36.65, lon: 117.12 }
  const pts = [{ lat: 36.651, lon: 117.12 }, { lat: 36.65, lon: 117.125 }]
  const plan = fitPlan(pts, { width: 400, height: 300, pad: 20, center: c })
  assert.deepEqual(plan.toPx(c), { x: 200, y: 150 })
  const [north, east] = plan.points
  assert.ok(Math.abs(north.x - 200) < 1e-9 && north.y < 150, 'north of the centre is up')
  assert.ok(east.x > 200 && Math.abs(east.y - 150) < 1e-9, 'east is right')
  // east is ~446.7 m away (0.005° × 111320 × cos 36.65°): the half-span, ×1.1, fills (300 − 40) / 2 px.
  const eastM = 0.005 * 111320 * Math.cos((36.65 * Math.PI) / 180)
  assert.ok(Math.abs(plan.scale - 260 / (2 * eastM * 1.1)) < 1e-9)
  assert.ok(east.x < 400 - 20 && east.x > 0)
  // North 110.6 m at the same scale (square metres).
  assert.ok(Math.abs((150 - north.y) / plan.scale - 110.574) < 0.01)
})

test('fitPlan: a single point gets the minimum span; no points, no plan', () => {
  const plan = fitPlan([{ lat: 36.65, lon: 117.12 }], { width: 220, height: 220, pad: 10, minSpan: 200 })
  assert.ok(Math.abs(plan.scale - 200 / 220) < 1e-9) // 200 px for 200 m × 1.1
  assert.deepEqual(fitPlan([], { width: 100, height: 100 }).points, [])
})

test('scaleBar: 1, 2 or 5 × 10^n metres not longer than the room given', () => {
  assert.deepEqual(scaleBar(1, 120), { metres: 100, px: 100 })
  assert.deepEqual(scaleBar(0.5, 120), { metres: 200, px: 100 }) // 240 m fit: 200
  assert.deepEqual(scaleBar(0.1, 120), { metres: 1000, px: 100 }) // 1200 m fit: 1000
  assert.deepEqual(scaleBar(2, 120), { metres: 50, px: 100 }) // 60 m fit: 50
  assert.deepEqual(scaleBar(0, 120), { metres: 0, px: 0 })
  assert.equal(metresText(1000), '1 km')
  assert.equal(metresText(1500), '1.5 km')
  assert.equal(metresText(200), '200 m')
})

test('durationText and msBetween', () => {
  assert.equal(durationText(42_400), '42秒')
  assert.equal(durationText(185_000), '3分05秒')
  assert.equal(durationText(3_720_000), '1小时02分')
  assert.equal(durationText(185_000, 'en'), '3 min 05 s')
  assert.equal(durationText(null), '—')
  assert.equal(msBetween('2026-11-29T19:44:31.313+08:00', '2026-11-29T19:46:01.313+08:00'), 90_000)
  assert.equal(msBetween(null, 'x'), null)
  assert.equal(dayStartMs('2026-11-29'), Date.UTC(2026, 10, 28, 16))
  assert.equal(dayStartMs('29/11'), undefined)
})

test('validateCommand: ranges, phones, message length', () => {
  assert.equal(validateCommand('locate', {}), null)
  assert.equal(validateCommand('upload_interval', { seconds: 60 }), null)
  assert.deepEqual(validateCommand('upload_interval', { seconds: 59 }), { field: 'seconds', key: 'range', params: { min: 60, max: 65535 } })
  assert.equal(validateCommand('hr_interval', { seconds: 0 }), null)
  assert.equal(validateCommand('hr_interval', { seconds: 86401 })?.key, 'range')
  assert.equal(validateCommand('fall_level', { level: 9 }), null)
  assert.equal(validateCommand('fall_level', { level: 0 })?.field, 'level')
  assert.equal(validateCommand('fall_detect', { on: false }), null)
  assert.equal(validateCommand('center', { phone: '+8613800000000' }), null)
  assert.equal(validateCommand('center', { phone: '138-0000' })?.key, 'phone')
  assert.equal(validateCommand('sos_numbers', { phones: ['13800000000', '', '+8613900000000'] }), null)
  assert.deepEqual(validateCommand('sos_numbers', { phones: ['13800000000', 'abc', ''] }), { field: 'phones.1', key: 'phone' })
  assert.equal(validateCommand('message', { text: '  ' })?.key, 'required')
  assert.equal(validateCommand('message', { text: '吃'.repeat(120) }), null)
  assert.deepEqual(validateCommand('message', { text: '吃'.repeat(121) }), { field: 'text', key: 'tooLong', params: { max: 120 } })
  assert.equal(validateCommand('sos_numbers', { phones: ['13800000000'] }), null) // 1 to 3 numbers
  assert.equal(validateCommand('sos_numbers', { phones: [] })?.key, 'required')
  assert.equal(validateCommand('lowbat_alarm', { on: true }), null)
  assert.equal(validateCommand('remove_alarm', {})?.key, 'required')
  assert.equal(validateCommand('self_destruct', {})?.key, 'unknown')
  assert.deepEqual(commandArgs('fall_detect', { on: 1 }), { on: true, call_centre: false })
  assert.ok(commandKinds('watch').includes('center'))
  assert.equal(commandKinds('watch').length, 14)
  assert.deepEqual(commandKinds('iw'), ['locate', 'hr_now', 'message', 'hr_interval', 'sos_numbers', 'fall_detect', 'reset', 'poweroff'])
  assert.deepEqual(commandArgs('sos_numbers', { phones: [' 1380000 ', undefined] }), { phones: ['1380000', '', ''] })
  assert.deepEqual(commandArgs('locate', { seconds: 5 }), {})
})

// The server's built-in bands (GET /api/v1/residents/{id}/alert-rules → "defaults").
const DEFAULTS = { hr_min: 50, hr_max: 120, sys_min: 90, sys_max: 160, dia_max: 100, spo2_min: 90,
  temp_min: 35.0, temp_max: 37.5, offline_min: 60, no_steps_hour: 10, home_lat: null, home_lon: null, home_radius_m: 0 }

test('validateRules: defaults are valid; ranges and the home centre are checked, band order is left to the server', () => {
  assert.deepEqual(validateRules({ ...DEFAULTS }), {})
  const e = validateRules({ ...DEFAULTS, hr_min: 130, spo2_min: 101, temp_max: '', home_radius_m: 300 })
  assert.equal(e.hr_max, undefined) // 130 ≥ 120: the server answers 422 on hr_max
  assert.equal(e.hr_min, undefined)
  assert.deepEqual(e.spo2_min, { key: 'range', params: { min: 50, max: 100 } })
  assert.equal(e.temp_max.key, 'required')
  assert.equal(e.home_lat.key, 'required')
  assert.equal(e.home_lon.key, 'required')
  assert.deepEqual(validateRules({ ...DEFAULTS, hr_min: 19, no_steps_hour: -2 }), {
    hr_min: { key: 'range', params: { min: 20, max: 250 } }, no_steps_hour: { key: 'range', params: { min: -1, max: 23 } } })
})

test('rulesBody: only the bands that differ from the defaults; the home centre needs a radius', () => {
  const body = rulesBody({ ...DEFAULTS, home_lat: 36.6, home_lon: 117.1, home_radius_m: 0 }, DEFAULTS)
  assert.deepEqual(Object.keys(body).sort(), Object.keys(DEFAULTS).sort())
  for (const v of Object.values(body)) assert.equal(v, null) // all defaults: the server resets ("custom": false)
  const own = rulesBody({ ...DEFAULTS, hr_min: 55, temp_max: 37.8, home_lat: 36.6, home_lon: 117.1, home_radius_m: 300 }, DEFAULTS)
  assert.deepEqual([own.hr_min, own.hr_max, own.temp_max, own.home_lat, own.home_lon, own.home_radius_m], [55, null, 37.8, 36.6, 117.1, 300])
  assert.equal(rulesBody({ ...DEFAULTS, hr_max: '' }, DEFAULTS).hr_max, null)
  assert.equal(differsFromDefault(DEFAULTS, 'temp_min', 35), false)
  assert.equal(differsFromDefault(DEFAULTS, 'home_lat', 36.6), true)
  assert.equal(differsFromDefault(DEFAULTS, 'home_lat', undefined), false)
})

test('applyAlertEvent: new first, updated in place, closed ones leave', () => {
  let l = [{ id: 3, state: 'open' }, { id: 1, state: 'acknowledged' }]
  l = applyAlertEvent(l, { id: 5, state: 'open' })
  assert.deepEqual(l.map((a) => a.id), [5, 3, 1])
  l = applyAlertEvent(l, { id: 3, state: 'acknowledged' })
  assert.deepEqual(l.map((a) => [a.id, a.state]), [[5, 'open'], [3, 'acknowledged'], [1, 'acknowledged']])
  l = applyAlertEvent(l, { id: 5, state: 'false_alarm' })
  assert.deepEqual(l.map((a) => a.id), [3, 1])
})

test('fitPlan robust: a far-away marker does not shrink the community; it falls off the plan', () => {
  const near = Array.from({ length: 19 }, (_, i) => ({ lat: 36.4574 + (i - 9) * 0.0002, lon: 116.2984 + ((i * 7) % 19 - 9) * 0.0002 }))
  const far = { lat: 36.65, lon: 117.12 } // ~77 km away
  const plain = fitPlan([...near, far], { width: 400, height: 400, pad: 0 })
  const robust = fitPlan([...near, far], { width: 400, height: 400, pad: 0, robust: true })
  assert.ok(robust.scale > 100 * plain.scale, `${robust.scale} vs ${plain.scale}`)
  assert.deepEqual(robust.center, { lat: 36.4574, lon: 116.2984 }) // the median point
  const [farPx] = robust.points.slice(-1)
  assert.equal(inside(farPx, 400, 400), false)
  for (const p of robust.points.slice(0, -1)) assert.ok(inside(p, 400, 400))
})

test('isTakeover: flagged (takeover_at set, commands held) until staff confirm; takeover is an alert kind', () => {
  assert.equal(isTakeover({ takeover_at: '2026-12-06T08:00:00Z', commands_held: true }), true)
  assert.equal(isTakeover({ takeover_at: null, commands_held: false, takeover_confirmed_at: '2026-12-06T09:00:00Z' }), false)
  assert.equal(isTakeover({ imei: '1' }), false) // an older server without the fields
  assert.equal(isTakeover(null), false)
  assert.ok(ALERT_KINDS.includes('takeover'))
})
