// Small display helpers shared by pages.

/** "2026-11-29T17:43:48.445+08:00" → "2026-11-29 17:43:48" (the server already gives local time). */
export function dateTime(s) {
  if (!s) return ''
  return String(s).replace('T', ' ').replace(/\.\d+/, '').replace(/[+-]\d\d:\d\d$|Z$/, '')
}

/** Copy of o without empty strings, null and undefined. */
export function compact(o) {
  const out = {}
  for (const [k, v] of Object.entries(o)) if (v !== '' && v !== null && v !== undefined) out[k] = v
  return out
}
