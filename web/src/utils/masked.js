// Values the server shows masked (ID numbers, phones in a service form) are not sent back as typed
// text: the editor shows the masked value as a placeholder and leaves the input empty. Left empty,
// the masked value itself goes back, which the server reads as "keep the stored value"; typed over,
// the new value is checked as usual.

const empty = (v) => v === '' || v === null || v === undefined

// values with every untouched masked field set back to its masked value (a new object).
export function keptValues(values, masked) {
  const out = { ...values }
  for (const [k, m] of Object.entries(masked)) if (empty(out[k])) out[k] = m
  return out
}

// errors without those of untouched masked fields (they are kept, not missing); a new object.
export function keptErrors(errors, values, masked) {
  const out = { ...errors }
  for (const k of Object.keys(masked)) if (empty(values[k])) delete out[k]
  return out
}

// Whether field k is an untouched masked field.
export const isKept = (k, values, masked) => k in masked && empty(values[k])
