// The service hall in the browser: a service item's form schema checked field by field (the same
// rules the server applies: required, number range, text length and digits, dates not in the
// future, ID numbers with their check character, mobile phones, choices), the 422 answer of a
// submission split into field errors and a list of what is missing, file sizes for people, and the
// tag colours of statuses and due states. The server always checks again and has the last word.
import { parseIdNumber } from './idcard'

export const STATUS_TAG = { draft: 'info', in_review: 'warning', returned: 'danger', approved: 'success', rejected: 'danger', withdrawn: 'info' }
export const DUE_TAG = { on_time: 'success', due_soon: 'warning', overdue: 'danger' }

/** A masked value from the server (ID numbers, phones): it cannot be sent back as it is. */
export const isMasked = (v) => typeof v === 'string' && v.includes('*')

function todayStr() {
  const d = new Date()
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

function validDate(s) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false
  const [y, m, d] = s.split('-').map(Number)
  const dt = new Date(Date.UTC(y, m - 1, d))
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d
}

const empty = (v) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '')

/**
 * Check one value against its field. Returns '' or a message built with t (vue-i18n's t).
 * `submit` makes required fields required (drafts may leave them empty).
 */
export function checkField(f, v, submit, t) {
  const name = f.label || f.key
  if (empty(v)) {
    if (!submit || !f.required) return ''
    return f.type === 'choice' ? t('svc.choose', { f: name }) : t('svc.required', { f: name })
  }
  switch (f.type) {
    case 'number': {
      const n = typeof v === 'number' ? v : Number(String(v).trim())
      if (!Number.isFinite(n)) return t('svc.number', { f: name })
      if (f.min !== undefined && n < f.min) return t('svc.min', { f: name, n: f.min })
      if (f.max !== undefined && n > f.max) return t('svc.max', { f: name, n: f.max })
      return ''
    }
    case 'date':
      if (!validDate(String(v))) return t('svc.date', { f: name })
      if (f.not_future && String(v) > todayStr()) return t('svc.future', { f: name })
      return ''
    case 'choice':
      return f.options && !f.options.includes(v) ? t('svc.option', { f: name }) : ''
    case 'id_number':
      if (isMasked(v)) return ''
      return parseIdNumber(v).ok ? '' : t('svc.idNumber', { f: name })
    case 'phone':
      if (isMasked(v)) return ''
      return /^1\d{10}$/.test(String(v).trim()) ? '' : t('svc.phone', { f: name })
    default: {
      const s = String(v).trim()
      const len = [...s].length
      if (f.min_len && len < f.min_len) return t('svc.minLen', { f: name, n: f.min_len })
      if (f.max_len && len > f.max_len) return t('svc.maxLen', { f: name, n: f.max_len })
      if (f.digits && !/^\d+$/.test(s)) return t('svc.digits', { f: name })
      return ''
    }
  }
}

/** Check a whole form: { key: message } for every field in error. */
export function checkForm(schema, values, submit, t) {
  const errors = {}
  for (const f of schema || []) {
    const m = checkField(f, values[f.key], submit, t)
    if (m) errors[f.key] = m
  }
  return errors
}

/** The form as sent to the server: empty values left out, numbers as numbers. A masked value (as the
 * server showed it, see utils/masked.js) goes back unchanged: the server keeps the stored value. */
export function formPayload(schema, values) {
  const out = {}
  for (const f of schema || []) {
    const v = values[f.key]
    if (empty(v)) continue
    out[f.key] = f.type === 'number' ? Number(v) : typeof v === 'string' ? v.trim() : v
  }
  return out
}

/**
 * Split a problem from the server (ApiError, with .errors for a 422 submission) into
 * { form: {key: msg}, materials: {key: msg}, other: [msg] }.
 */
export function splitProblems(err) {
  const out = { form: {}, materials: {}, other: [] }
  const list = err?.errors?.length ? err.errors : err?.field ? [{ field: err.field, message: err.detail || err.message }] : []
  for (const p of list) {
    const f = p.field || ''
    if (f.startsWith('form.')) out.form[f.slice(5)] = p.message
    else if (f.startsWith('materials.')) out.materials[f.slice(10)] = p.message
    else out.other.push(p.message)
  }
  if (!list.length && err) out.other.push(err.detail || err.message)
  return out
}

export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

const MIME = { pdf: ['application/pdf'], jpeg: ['image/jpeg'], png: ['image/png'] }
const EXT = { pdf: ['.pdf'], jpeg: ['.jpg', '.jpeg'], png: ['.png'] }

/** The <input accept> of a material. */
export const acceptOf = (m) => (m.types || []).flatMap((k) => [...(MIME[k] || []), ...(EXT[k] || [])]).join(',')
export const typesLabel = (m) => (m.types || []).map((k) => k.toUpperCase()).join(' / ')

/** A quick check before uploading (the server sniffs the bytes): '' or a message. */
export function checkFile(m, file, t) {
  const max = (m.max_kb || 0) * 1024
  if (max && file.size > max) return t('svc.tooBig', { size: fileSize(file.size), max: fileSize(max) })
  const name = (file.name || '').toLowerCase()
  const ok = (m.types || []).some((k) => (MIME[k] || []).includes(file.type) || (EXT[k] || []).some((e) => name.endsWith(e)))
  return ok ? '' : t('svc.badType', { types: typesLabel(m) })
}

/** Eligibility rules in words. */
export function ruleText(r, t, te) {
  const word = (x) => (r.rule === 'residence' && te && te(`choice.residence.${x}`) ? t(`choice.residence.${x}`) : x)
  const v = Array.isArray(r.value) ? r.value.map(word).join('、') : word(r.value)
  return t(`svc.rules.${r.rule}`, { v })
}

/** The resident page for a notification's link: a resident page (/m/…, what the message service
 * gives residents) as it is; an older console link /services/applications/N → /m/services/N. */
export function mobileLink(link) {
  if (/^\/m(\/[\w\-/]*)?$/.test(link || '')) return link
  const m = /^\/services\/applications\/(\d+)$/.exec(link || '')
  return m ? { name: 'm-service-app', params: { id: m[1] } } : null
}
