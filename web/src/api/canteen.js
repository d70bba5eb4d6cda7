// 幸福食堂 (issue 12): menus, the counter (diner search, card by QR code, price quote, idempotent
// sales), meal cards with top-ups, orders and delivery lists, the daily and monthly reports. Amounts
// are integers in fen (分) both ways; the pages format them with yuan() below.
import { get, post, patch, request, withQuery } from './http'

export const listMenus = (query) => get('/api/v1/canteen/menus', query)
export const saveMenu = (body) => post('/api/v1/canteen/menus', body)
export const listDishes = (query) => get('/api/v1/canteen/dishes', query)
export const createDish = (body) => post('/api/v1/canteen/dishes', body)
export const updateDish = (id, body) => patch(`/api/v1/canteen/dishes/${id}`, body)
export const getPriceRules = (query) => get('/api/v1/canteen/price-rules', query)
export const putPriceRules = (body) => request('PUT', '/api/v1/canteen/price-rules', { body })
export const setItemSoldOut = (id, soldOut) => patch(`/api/v1/canteen/menu-items/${id}`, { sold_out: soldOut })
export const searchDiners = (q) => get('/api/v1/canteen/diners', { q })
export const cardByCode = (code) => get('/api/v1/canteen/cards', { code })
export const quote = (query) => get('/api/v1/canteen/price-quote', query)
export const createSale = (body) => post('/api/v1/canteen/sales', body)
export const listSales = (query) => get('/api/v1/canteen/sales', query)
export const reverseSale = (id, reason) => post(`/api/v1/canteen/sales/${id}/reverse`, { reason })
export const listCards = (query) => get('/api/v1/canteen/cards', query)
export const createCard = (body) => post('/api/v1/canteen/cards', body)
export const topUp = (id, body) => post(`/api/v1/canteen/cards/${id}/top-ups`, body)
export const refund = (id, body) => post(`/api/v1/canteen/cards/${id}/refunds`, body)
export const replaceCard = (id, body = {}) => post(`/api/v1/canteen/cards/${id}/replace`, body)
export const cardTxns = (id, query) => get(`/api/v1/canteen/cards/${id}/transactions`, query)
export const cardPdfUrl = (id) => `/api/v1/canteen/cards/${id}/card.pdf`
export const cardQrUrl = (id) => `/api/v1/canteen/cards/${id}/qr.svg`
export const listOrders = (query) => get('/api/v1/canteen/orders', query)
export const createOrder = (body) => post('/api/v1/canteen/orders', body)
export const updateOrder = (id, body) => patch(`/api/v1/canteen/orders/${id}`, body)
export const deliveries = (query) => get('/api/v1/canteen/deliveries', query)
export const dailyReport = (query) => get('/api/v1/canteen/reports/daily', query)
export const subsidyReport = (query) => get('/api/v1/canteen/reports/subsidy', query)
export const subsidyXlsxUrl = (query) => withQuery('/api/v1/canteen/reports/subsidy', { ...query, format: 'xlsx' })
export const canteenStats = (communityId) => get('/api/v1/canteen/stats', { community_id: communityId || undefined })
export const rateOrder = (id, body) => post(`/api/v1/canteen/orders/${id}/rating`, body)

/** Fen to "¥1.00" (integers only; a negative amount keeps its sign). */
export function yuan(fen) {
  if (typeof fen !== 'number') return '—'
  const neg = fen < 0
  const a = Math.abs(fen)
  return `${neg ? '-' : ''}¥${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`
}

/** Shanghai's calendar day ("YYYY-MM-DD"), days from today. */
export function shanghaiDay(offset = 0) {
  return new Date(Date.now() + 8 * 3600000 + offset * 86400000).toISOString().slice(0, 10)
}

/** "12.5" (yuan typed by a person) to 1250 fen; null when empty, NaN when not a number. */
export function toFen(text) {
  const s = String(text ?? '').trim()
  if (!s) return null
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return NaN
  const [a, b = ''] = s.split('.')
  return Number(a) * 100 + Number(b.padEnd(2, '0'))
}

/** 1250 fen to "12.50" for an input field ('' for null). */
export const fenText = (fen) => (typeof fen === 'number' ? (fen / 100).toFixed(2) : '')
