// The editable fields of each registry object, as the server's org module (src/modules/org/org.c)
// and households (people_http.c) accept them: key, label, type, whether required on create, whether
// it may change after creation, limits. The server stays the authority: these rules only let the
// form say what is wrong under the field before a round trip; the server's 422 names the field too
// and is shown in the same place.
//   type: text | textarea | int | real | bool | select (options: [{value, label}] or a name of a
//   shared list: grids, estates, streets, communities) | room (estate → building → room) | resident
export const ESTATE_KINDS = [
  { value: 'old', label: '老旧小区' }, { value: 'commercial', label: '商品房小区' },
  { value: 'unit', label: '单位宿舍' }, { value: 'other', label: '其他' }]
export const SHOP_KINDS = [
  { value: 'shop', label: '商铺' }, { value: 'restaurant', label: '餐饮' }, { value: 'market_stall', label: '夜市摊位' },
  { value: 'service', label: '生活服务' }, { value: 'other', label: '其他' }]
export const SHOP_STATUSES = [{ value: 'open', label: '营业中' }, { value: 'closed', label: '已停业' }]
export const TAG_CATEGORIES = [{ value: 'care', label: '关爱' }, { value: 'identity', label: '身份' }, { value: 'work', label: '工作' }]
export const HOUSEHOLD_KINDS = [{ value: 'registered', label: '户籍户' }, { value: 'resident', label: '常住户' }, { value: 'floating', label: '流动户' }]

const year = new Date().getFullYear()

/** fields per kind; `fixed` fields are not edited after creation (the server refuses them in PATCH). */
export const KINDS = {
  street: { title: '街道', fields: [
    { key: 'name', label: '名称', type: 'text', required: true, max: 50 },
    { key: 'code', label: '编码', type: 'text', max: 32 }] },
  community: { title: '社区', fields: [
    { key: 'street_id', label: '所属街道', type: 'select', options: 'streets', required: true },
    { key: 'name', label: '名称', type: 'text', required: true, max: 50 },
    { key: 'code', label: '编码', type: 'text', max: 32 },
    { key: 'address', label: '地址', type: 'text', max: 200 },
    { key: 'phone', label: '电话', type: 'text', max: 30, pattern: /^[0-9+\-\s()]*$/, patternMsg: '电话号码格式不正确' }] },
  grid: { title: '网格', community: true, fields: [
    { key: 'name', label: '名称', type: 'text', required: true, max: 50 },
    { key: 'code', label: '编码', type: 'text', max: 32 },
    { key: 'description', label: '说明', type: 'textarea', max: 500 }] },
  estate: { title: '小区', community: true, fields: [
    { key: 'name', label: '名称', type: 'text', required: true, max: 50 },
    { key: 'kind', label: '类型', type: 'select', options: ESTATE_KINDS },
    { key: 'grid_id', label: '网格', type: 'select', options: 'grids' },
    { key: 'address', label: '地址', type: 'text', max: 200 },
    { key: 'built_year', label: '建成年份', type: 'int', min: 1800, max: year + 5 },
    { key: 'property_company', label: '物业公司', type: 'text', max: 100 }] },
  building: { title: '楼栋', fields: [
    { key: 'estate_id', label: '所属小区', type: 'select', options: 'estates', required: true },
    { key: 'name', label: '名称', type: 'text', required: true, max: 50 },
    { key: 'grid_id', label: '网格', type: 'select', options: 'grids' },
    { key: 'floors', label: '层数', type: 'int', min: 1, max: 200 },
    { key: 'units', label: '单元数', type: 'int', min: 1, max: 100 },
    { key: 'has_elevator', label: '是否有电梯', type: 'bool' }] },
  room: { title: '房屋', fields: [
    { key: 'unit', label: '单元', type: 'text', max: 20 },
    { key: 'number', label: '房号', type: 'text', required: true, max: 20 },
    { key: 'floor', label: '楼层', type: 'int', min: -10, max: 300 },
    { key: 'area', label: '面积（㎡）', type: 'real', min: 0.01, max: 100000 }] },
  shop: { title: '商户', community: true, fields: [
    { key: 'name', label: '名称', type: 'text', required: true, max: 50 },
    { key: 'kind', label: '类型', type: 'select', options: SHOP_KINDS },
    { key: 'status', label: '状态', type: 'select', options: SHOP_STATUSES },
    { key: 'grid_id', label: '网格', type: 'select', options: 'grids' },
    { key: 'address', label: '地址', type: 'text', max: 200 },
    { key: 'owner_name', label: '经营者', type: 'text', max: 50 },
    { key: 'phone', label: '电话', type: 'text', max: 30, masked: true, pattern: /^[0-9+\-\s()]*$/, patternMsg: '电话号码格式不正确' },
    { key: 'license_no', label: '营业执照号', type: 'text', max: 50 }] },
  tag: { title: '标签', fields: [
    { key: 'code', label: '编码', type: 'text', required: true, fixed: true, max: 32,
      pattern: /^[a-z][a-z0-9_]{1,31}$/, patternMsg: '标签编码须以小写字母开头，由 2 到 32 个小写字母、数字或下划线组成' },
    { key: 'name', label: '名称', type: 'text', required: true, max: 50 },
    { key: 'category', label: '类别', type: 'select', options: TAG_CATEGORIES },
    { key: 'rule', label: '规则', type: 'text', max: 64, placeholder: '例如 age>=80（留空为手工标签）' },
    { key: 'sort', label: '排序', type: 'int', min: -1000000, max: 1000000 }] },
  household: { title: '家庭户', community: true, fields: [
    { key: 'number', label: '户号', type: 'text', max: 30 },
    { key: 'kind', label: '户别', type: 'select', options: HOUSEHOLD_KINDS },
    { key: 'room_id', label: '房屋', type: 'room' },
    { key: 'grid_id', label: '网格', type: 'select', options: 'grids', hint: '选了房屋时随房屋所在楼栋的网格' },
    { key: 'head_resident_id', label: '户主', type: 'resident' },
    { key: 'address', label: '地址', type: 'text', max: 120, masked: true },
    { key: 'notes', label: '备注', type: 'textarea', max: 500 }] },
}

const chars = (s) => [...s].length

/** The client-side message for field f holding v ('' when fine). */
export function checkField(f, v) {
  const empty = v === undefined || v === null || v === ''
  if (empty) return f.required ? `请填写${f.label}` : ''
  if (f.type === 'text' || f.type === 'textarea') {
    if (f.required && !String(v).trim()) return `请填写${f.label}`
    if (f.max && chars(String(v)) > f.max) return `${f.label}不能超过 ${f.max} 个字`
    if (f.pattern && !f.pattern.test(String(v))) return f.patternMsg
  }
  if (f.type === 'int' || f.type === 'real') {
    const n = Number(v)
    if (!Number.isFinite(n) || (f.type === 'int' && !Number.isInteger(n))) return `${f.label}应为${f.type === 'int' ? '整数' : '数字'}`
    if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) return `${f.label}应在 ${f.min} 到 ${f.max} 之间`
  }
  return ''
}
