// Pure helpers of the wristband pages (no Vue, no DOM, tested by devices.test.js): the plan's
// projection of positions to a local metric plane, the scale bar, durations, alert kinds and
// states, the validation of device commands and of a resident's alert bands.

/** Kinds that sound the alarm and raise the banner: somebody may be lying on the floor. */
export const URGENT_KINDS = ['sos', 'fall']
export const ALERT_KINDS = ['sos', 'fall', 'taken_off', 'low_battery', 'fence', 'general', 'heart_rate',
  'blood_pressure', 'spo2', 'temperature', 'offline', 'no_activity', 'left_home', 'takeover']
export const ALERT_STATES = ['open', 'acknowledged', 'resolved', 'false_alarm']
export const STATE_TAG = { open: 'danger', acknowledged: 'warning', resolved: 'success', false_alarm: 'info' }
export const SEVERITY_TAG = { critical: 'danger', high: 'warning', normal: 'info' }
export const LOW_BATTERY = 20

export const isUrgent = (kind) => URGENT_KINDS.includes(kind)

/** Whether a device (as the API answers it) is flagged as possibly spoofed and not yet confirmed by
 * staff: its ID arrived from a second source (takeover_at) and its queued commands are held. */
export const isTakeover = (d) => !!d && (!!d.takeover_at || d.commands_held === true)

const M_PER_DEG_LAT = 110574
const M_PER_DEG_LON_EQ = 111320

/** Metres east (x) and north (y) of centre {lat, lon} for point {lat, lon} (equirectangular; exact
 * enough across a community of a few kilometres). */
export function toLocal(p, center) {
  const k = Math.cos((center.lat * Math.PI) / 180)
  return { x: (p.lon - center.lon) * M_PER_DEG_LON_EQ * k, y: (p.lat - center.lat) * M_PER_DEG_LAT }
}

/** The centre of a set of points: the middle of their bounding box ({lat, lon}), or null. */
export function centerOf(points) {
  const ps = points.filter(hasCoord)
  if (!ps.length) return null
  let a = Infinity, b = -Infinity, c = Infinity, d = -Infinity
  for (const p of ps) { a = Math.min(a, p.lat); b = Math.max(b, p.lat); c = Math.min(c, p.lon); d = Math.max(d, p.lon) }
  return { lat: (a + b) / 2, lon: (c + d) / 2 }
}

/** A usable coordinate: numbers, not the (0, 0) of a frame without a fix. */
export function hasCoord(p) {
  return !!p && Number.isFinite(p.lat) && Number.isFinite(p.lon) && !(p.lat === 0 && p.lon === 0)
}

/** The median of numbers (the lower middle for an even count), or NaN. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN
}

/**
 * Fit points on a width × height drawing around centre (default: the points' own centre), keeping
 * metres square and at least minSpan metres across so one point does not fill the plan.
 * robust (many markers): centre on the median point and span 90 % of the points, so one wristband
 * far away does not shrink the community to a dot; the others fall outside (see inside()).
 * Returns { center, scale (px per metre), points: [{x, y, …p}] in pixels (y down), toPx(p) }.
 */
export function fitPlan(points, { width, height, pad = 24, center = null, minSpan = 200, robust = false } = {}) {
  const ps = points.filter(hasCoord)
  let c = center && hasCoord(center) ? center : centerOf(ps)
  if (!c) return { center: null, scale: 0, points: [], toPx: () => null }
  if (robust && !hasCoord(center) && ps.length > 2) c = { lat: median(ps.map((p) => p.lat)), lon: median(ps.map((p) => p.lon)) }
  const spans = ps.map((p) => { const l = toLocal(p, c); return Math.max(Math.abs(l.x), Math.abs(l.y)) }).sort((a, b) => a - b)
  let half = minSpan / 2
  if (spans.length) half = Math.max(half, robust ? spans[Math.min(spans.length - 1, Math.ceil(spans.length * 0.9) - 1)] : spans.at(-1))
  const scale = Math.min(width - 2 * pad, height - 2 * pad) / (2 * half * 1.1)
  const toPx = (p) => {
    const l = toLocal(p, c)
    return { x: width / 2 + l.x * scale, y: height / 2 - l.y * scale }
  }
  return { center: c, scale, points: ps.map((p) => ({ ...p, ...toPx(p) })), toPx }
}

/** Whether pixel point p lies on a width × height drawing (else it is drawn on the border). */
export const inside = (p, width, height) => p.x >= 0 && p.y >= 0 && p.x <= width && p.y <= height

/** A round scale-bar length (1, 2 or 5 × 10^n metres) not longer than maxPx at scale px/m. */
export function scaleBar(scale, maxPx = 120) {
  if (!(scale > 0)) return { metres: 0, px: 0 }
  const maxM = maxPx / scale
  const p = 10 ** Math.floor(Math.log10(maxM))
  const m = [5, 2, 1].map((f) => f * p).find((v) => v <= maxM) || p
  return { metres: m, px: m * scale }
}

/** "850 m" / "1.2 km". */
export function metresText(m) {
  return m >= 1000 ? `${+(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`
}

/** Milliseconds as [hours, minutes, seconds] (rounded to the second), or null. */
export function msParts(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return null
  const s = Math.round(ms / 1000)
  return [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
}

/** A duration for people: "1小时02分" / "3分05秒" / "42秒" (zh) or "1 h 02 min" / "3 min 05 s" / "42 s". */
export function durationText(ms, lang = 'zh-CN') {
  const p = msParts(ms)
  if (!p) return '—'
  const [h, m, s] = p
  const pad = (n) => String(n).padStart(2, '0')
  const zh = lang !== 'en'
  if (h) return zh ? `${h}小时${pad(m)}分` : `${h} h ${pad(m)} min`
  if (m) return zh ? `${m}分${pad(s)}秒` : `${m} min ${pad(s)} s`
  return zh ? `${s}秒` : `${s} s`
}

/** Milliseconds between two server times ("2026-11-29T19:44:31.313+08:00"), or null. */
export function msBetween(a, b) {
  if (!a || !b) return null
  const d = Date.parse(b) - Date.parse(a)
  return Number.isFinite(d) ? d : null
}

/** Epoch ms of a local date "YYYY-MM-DD" at 00:00 in Asia/Shanghai (the server's zone), or undefined. */
export function dayStartMs(day) {
  if (!/^\d{4}-\d\d-\d\d$/.test(day || '')) return undefined
  return Date.parse(`${day}T00:00:00+08:00`)
}

// ---- device commands ----

export const COMMAND_KINDS = ['locate', 'find', 'hr_now', 'message', 'upload_interval', 'hr_interval', 'sos_numbers',
  'center', 'fall_detect', 'fall_level', 'lowbat_alarm', 'remove_alarm', 'reset', 'poweroff']
/** Commands that need a confirmation (the watch stops working for a while, or for good). */
export const DRASTIC_COMMANDS = ['reset', 'poweroff']
/** What the IW protocol has no command for (docs/devices.md, 手环指令); the server refuses them too. */
const IW_LACKS = ['upload_interval', 'center', 'fall_level', 'lowbat_alarm', 'remove_alarm', 'find']
/** The kinds a protocol takes. */
export const commandKinds = (protocol) => COMMAND_KINDS.filter((k) => protocol !== 'iw' || !IW_LACKS.includes(k))
export const COMMAND_STATE_TAG = { queued: 'info', sent: 'warning', done: 'success', failed: 'danger', expired: 'info', cancelled: 'info' }
const PHONE = /^\+?\d{3,20}$/

const intIn = (v, lo, hi) => Number.isInteger(v) && v >= lo && v <= hi

/**
 * Check a command before it is sent. Returns null when valid, else { field, key, params } where key
 * is an i18n key under dev.cmdErr (the server checks again and has the last word).
 */
export function validateCommand(kind, args = {}) {
  switch (kind) {
    case 'locate': case 'find': case 'hr_now': case 'reset': case 'poweroff':
      return null
    case 'upload_interval':
      return intIn(args.seconds, 60, 65535) ? null : { field: 'seconds', key: 'range', params: { min: 60, max: 65535 } }
    case 'hr_interval':
      return intIn(args.seconds, 0, 86400) ? null : { field: 'seconds', key: 'range', params: { min: 0, max: 86400 } }
    case 'fall_level':
      return intIn(args.level, 1, 9) ? null : { field: 'level', key: 'range', params: { min: 1, max: 9 } }
    case 'fall_detect': case 'lowbat_alarm': case 'remove_alarm':
      return typeof args.on === 'boolean' ? null : { field: 'on', key: 'required' }
    case 'center':
      return PHONE.test(args.phone || '') ? null : { field: 'phone', key: 'phone' }
    case 'sos_numbers': {
      const ph = args.phones
      if (!Array.isArray(ph) || ph.length < 1 || ph.length > 3) return { field: 'phones', key: 'required' }
      for (let i = 0; i < ph.length; i++) if (ph[i] !== '' && !PHONE.test(ph[i])) return { field: `phones.${i}`, key: 'phone' }
      return null
    }
    case 'message': {
      const n = [...(args.text || '').trim()].length
      if (!n) return { field: 'text', key: 'required' }
      return n <= 120 ? null : { field: 'text', key: 'tooLong', params: { max: 120 } }
    }
    default:
      return { field: 'kind', key: 'unknown' }
  }
}

/** The args a command form holds, trimmed to what the kind takes. */
export function commandArgs(kind, f) {
  switch (kind) {
    case 'upload_interval': case 'hr_interval': return { seconds: f.seconds }
    case 'fall_level': return { level: f.level }
    case 'fall_detect': return { on: !!f.on, call_centre: !!f.call_centre }
    case 'lowbat_alarm': case 'remove_alarm': return { on: !!f.on }
    case 'center': return { phone: (f.phone || '').trim() }
    case 'sos_numbers': return { phones: [0, 1, 2].map((i) => (f.phones?.[i] || '').trim()) }
    case 'message': return { text: (f.text || '').trim() }
    default: return {}
  }
}

// ---- alert rules ----

/** The bands a resident's rules hold, with the range the server accepts for each (the built-in
 * defaults come from the server: GET …/alert-rules answers them as "defaults"). */
export const RULE_LIMITS = { hr_min: [20, 250], hr_max: [20, 250], sys_min: [40, 300], sys_max: [40, 300], dia_max: [30, 200],
  spo2_min: [50, 100], temp_min: [30, 42], temp_max: [30, 42], offline_min: [0, 10080], no_steps_hour: [-1, 23],
  home_lat: [-90, 90], home_lon: [-180, 180], home_radius_m: [0, 100000] }

/** Errors of a rules form: { field: { key, params } } (empty when valid). Ranges and the home centre
 * only: whether a band's lower end is below its upper end is the server's to say (422 on hr_max,
 * sys_max or temp_max). */
export function validateRules(r) {
  const err = {}
  for (const [k, [lo, hi]] of Object.entries(RULE_LIMITS)) {
    const v = r[k]
    if (v === null || v === undefined || v === '') {
      if (!k.startsWith('home_')) err[k] = { key: 'required' }
      continue
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) err[k] = { key: 'range', params: { min: lo, max: hi } }
  }
  if (!err.home_radius_m && r.home_radius_m > 0)
    for (const k of ['home_lat', 'home_lon']) if (!err[k] && (r[k] === null || r[k] === undefined || r[k] === '')) err[k] = { key: 'required' }
  return err
}

/** Whether band k's value v differs from the defaults (the server's "defaults" object). */
export const differsFromDefault = (defaults, k, v) => (defaults?.[k] ?? null) !== (v ?? null)

/** The PUT body: the resident's own bands, null where a band equals its default (so the resident
 * follows the default; all null means "custom": false), the home centre null when no radius. */
export function rulesBody(r, defaults) {
  const out = {}
  for (const k of Object.keys(RULE_LIMITS)) {
    const v = r[k] === '' || r[k] === undefined ? null : r[k]
    out[k] = differsFromDefault(defaults, k, v) ? v : null
  }
  if (!(r.home_radius_m > 0)) { out.home_lat = null; out.home_lon = null }
  return out
}

/** Fold a live event into a list of active alerts (newest first): returns the new list. Opened and
 * updated alerts are fetched by the caller; resolved ones leave the list. */
export function applyAlertEvent(list, alert) {
  const rest = list.filter((a) => a.id !== alert.id)
  if (alert.state !== 'open' && alert.state !== 'acknowledged') return rest
  return [alert, ...rest].sort((a, b) => b.id - a.id)
}
