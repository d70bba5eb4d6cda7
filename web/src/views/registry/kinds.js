// The editable fields of each registry object (labels, options and messages are i18n keys, reg.* in
// web/src/i18n/registry.*.js), as the server's org module (src/modules/org/org.c)
// and households (people_http.c) accept them: key, label, type, whether required on create, whether
// it may change after creation, limits. The server stays the authority: these rules only let the
// form say what is wrong under the field before a round trip; the server's 422 names the field too
// and is shown in the same place.
//   type: text | textarea | int | real | bool | select (options: [{value, label}] or a name of a
//   shared list: grids, estates, streets, communities) | room (estate → building → room) | resident
export const ESTATE_KINDS = [
  { value: 'old', label: 'reg.o.old' }, { value: 'commercial', label: 'reg.o.commercial' },
  { value: 'unit', label: 'reg.o.unit' }, { value: 'other', label: 'reg.o.other' }]
export const SHOP_KINDS = [
  { value: 'shop', label: 'reg.o.shop' }, { value: 'restaurant', label: 'reg.o.restaurant' }, { value: 'market_stall', label: 'reg.o.market_stall' },
  { value: 'service', label: 'reg.o.service' }, { value: 'other', label: 'reg.o.other' }]
export const SHOP_STATUSES = [{ value: 'open', label: 'reg.o.open' }, { value: 'closed', label: 'reg.o.closed' }]
export const TAG_CATEGORIES = [{ value: 'care', label: 'reg.o.care' }, { value: 'identity', label: 'reg.o.identity' }, { value: 'work', label: 'reg.o.work' }]
export const HOUSEHOLD_KINDS = [{ value: 'registered', label: 'reg.o.registered' }, { value: 'resident', label: 'reg.o.resident' }, { value: 'floating', label: 'reg.o.floating' }]

const year = new Date().getFullYear()

/** fields per kind; `fixed` fields are not edited after creation (the server refuses them in PATCH). */
export const KINDS = {
  street: { title: 'reg.k.street', fields: [
    { key: 'name', label: 'reg.f.name', type: 'text', required: true, max: 50 },
    { key: 'code', label: 'reg.f.code', type: 'text', max: 32 }] },
  community: { title: 'reg.k.community', fields: [
    { key: 'street_id', label: 'reg.f.street_id', type: 'select', options: 'streets', required: true },
    { key: 'name', label: 'reg.f.name', type: 'text', required: true, max: 50 },
    { key: 'code', label: 'reg.f.code', type: 'text', max: 32 },
    { key: 'address', label: 'reg.f.address', type: 'text', max: 200 },
    { key: 'phone', label: 'reg.f.phone', type: 'text', max: 30, pattern: /^[0-9+\-\s()]*$/, patternMsg: 'reg.msg.phone' }] },
  grid: { title: 'reg.k.grid', community: true, fields: [
    { key: 'name', label: 'reg.f.name', type: 'text', required: true, max: 50 },
    { key: 'code', label: 'reg.f.code', type: 'text', max: 32 },
    { key: 'description', label: 'reg.f.description', type: 'textarea', max: 500 }] },
  estate: { title: 'reg.k.estate', community: true, fields: [
    { key: 'name', label: 'reg.f.name', type: 'text', required: true, max: 50 },
    { key: 'kind', label: 'reg.f.kind', type: 'select', options: ESTATE_KINDS },
    { key: 'grid_id', label: 'reg.f.grid_id', type: 'select', options: 'grids' },
    { key: 'address', label: 'reg.f.address', type: 'text', max: 200 },
    { key: 'built_year', label: 'reg.f.built_year', type: 'int', min: 1800, max: year + 5 },
    { key: 'property_company', label: 'reg.f.property_company', type: 'text', max: 100 }] },
  building: { title: 'reg.k.building', fields: [
    { key: 'estate_id', label: 'reg.f.estate_id', type: 'select', options: 'estates', required: true },
    { key: 'name', label: 'reg.f.name', type: 'text', required: true, max: 50 },
    { key: 'grid_id', label: 'reg.f.grid_id', type: 'select', options: 'grids' },
    { key: 'floors', label: 'reg.f.floors', type: 'int', min: 1, max: 200 },
    { key: 'units', label: 'reg.f.units', type: 'int', min: 1, max: 100 },
    { key: 'has_elevator', label: 'reg.f.has_elevator', type: 'bool' }] },
  room: { title: 'reg.k.room', fields: [
    { key: 'unit', label: 'reg.f.unit', type: 'text', max: 20 },
    { key: 'number', label: 'reg.f.number', type: 'text', required: true, max: 20 },
    { key: 'floor', label: 'reg.f.floor', type: 'int', min: -10, max: 300 },
    { key: 'area', label: 'reg.f.area', type: 'real', min: 0.01, max: 100000 }] },
  shop: { title: 'reg.k.shop', community: true, fields: [
    { key: 'name', label: 'reg.f.name', type: 'text', required: true, max: 50 },
    { key: 'kind', label: 'reg.f.kind', type: 'select', options: SHOP_KINDS },
    { key: 'status', label: 'reg.f.status', type: 'select', options: SHOP_STATUSES },
    { key: 'grid_id', label: 'reg.f.grid_id', type: 'select', options: 'grids' },
    { key: 'address', label: 'reg.f.address', type: 'text', max: 200 },
    { key: 'owner_name', label: 'reg.f.owner_name', type: 'text', max: 50 },
    { key: 'phone', label: 'reg.f.phone', type: 'text', max: 30, masked: true, pattern: /^[0-9+\-\s()]*$/, patternMsg: 'reg.msg.phone' },
    { key: 'license_no', label: 'reg.f.license_no', type: 'text', max: 50 }] },
  tag: { title: 'reg.k.tag', fields: [
    { key: 'code', label: 'reg.f.code', type: 'text', required: true, fixed: true, max: 32,
      pattern: /^[a-z][a-z0-9_]{1,31}$/, patternMsg: 'reg.msg.tagCode' },
    { key: 'name', label: 'reg.f.name', type: 'text', required: true, max: 50 },
    { key: 'category', label: 'reg.f.category', type: 'select', options: TAG_CATEGORIES },
    { key: 'rule', label: 'reg.f.rule', type: 'text', max: 64, placeholder: 'reg.ph.rule' },
    { key: 'sort', label: 'reg.f.sort', type: 'int', min: -1000000, max: 1000000 }] },
  household: { title: 'reg.k.household', community: true, fields: [
    { key: 'number', label: 'reg.f.number_householdnum', type: 'text', max: 30 },
    { key: 'kind', label: 'reg.f.kind_householdtyp', type: 'select', options: HOUSEHOLD_KINDS },
    { key: 'room_id', label: 'reg.f.room_id', type: 'room' },
    { key: 'grid_id', label: 'reg.f.grid_id', type: 'select', options: 'grids', hint: 'reg.ph.gridHint' },
    { key: 'head_resident_id', label: 'reg.f.head_resident_id', type: 'resident' },
    { key: 'address', label: 'reg.f.address', type: 'text', max: 120, masked: true },
    { key: 'notes', label: 'reg.f.notes', type: 'textarea', max: 500 }] },
}

const chars = (s) => [...s].length

/** The client-side message for field f holding v ('' when fine); t is vue-i18n's (labels and messages are keys). */
export function checkField(f, v, t) {
  const label = t(f.label)
  const empty = v === undefined || v === null || v === ''
  if (empty) return f.required ? t('reg.msg.required', { label }) : ''
  if (f.type === 'text' || f.type === 'textarea') {
    if (f.required && !String(v).trim()) return t('reg.msg.required', { label })
    if (f.max && chars(String(v)) > f.max) return t('reg.msg.tooLong', { label, max: f.max })
    if (f.pattern && !f.pattern.test(String(v))) return t(f.patternMsg)
  }
  if (f.type === 'int' || f.type === 'real') {
    const n = Number(v)
    if (!Number.isFinite(n) || (f.type === 'int' && !Number.isInteger(n))) return t(f.type === 'int' ? 'reg.msg.int' : 'reg.msg.number', { label })
    if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) return t('reg.msg.range', { label, min: f.min, max: f.max })
  }
  return ''
}
