// Mainland resident ID numbers (GB 11643-1999), checked in the browser for instant feedback; the
// server checks again and has the last word.
//   6 digits region · 8 digits birth date YYYYMMDD · 3 digits sequence (odd = male) · check char
// The check character is "10X98765432"[Σ(digit_i × weight_i) mod 11] with weights 2^(17-i) mod 11.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK = '10X98765432'

/** The check character for the first 17 digits, or '' when they are not 17 digits. */
export function idCheckChar(first17) {
  if (!/^\d{17}$/.test(first17)) return ''
  let sum = 0
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * WEIGHTS[i]
  return CHECK[sum % 11]
}

function validDate(y, m, d) {
  const dt = new Date(Date.UTC(y, m - 1, d))
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d
}

/**
 * Parse an 18-character ID number. Returns { ok: true, birthDate: 'YYYY-MM-DD', sex: 'male'|'female' }
 * or { ok: false, reason } where reason is one of 'length', 'format', 'date', 'future', 'check'.
 * `today` (a Date) bounds the birth date; lower-case x is accepted.
 */
export function parseIdNumber(raw, today = new Date()) {
  const s = String(raw || '').trim().toUpperCase()
  if (s.length !== 18) return { ok: false, reason: 'length' }
  if (!/^\d{17}[\dX]$/.test(s)) return { ok: false, reason: 'format' }
  const y = Number(s.slice(6, 10)), m = Number(s.slice(10, 12)), d = Number(s.slice(12, 14))
  if (y < 1880 || !validDate(y, m, d)) return { ok: false, reason: 'date' }
  const birth = `${s.slice(6, 10)}-${s.slice(10, 12)}-${s.slice(12, 14)}`
  const t = today.toISOString().slice(0, 10)
  if (birth > t) return { ok: false, reason: 'future' }
  if (idCheckChar(s.slice(0, 17)) !== s[17]) return { ok: false, reason: 'check' }
  return { ok: true, birthDate: birth, sex: Number(s[16]) % 2 === 1 ? 'male' : 'female' }
}
