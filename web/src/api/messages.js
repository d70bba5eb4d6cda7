// The message module's API (docs/openapi.json, tag 消息与通知; docs/messages.md): every account's
// inbox, preferences, notices and their receipts, briefings (sign-up, attendance), the rules and the
// delivery log.
import { get, post, patch, request } from './http'

export const listInbox = (query) => get('/api/v1/notifications', query)
export const unreadCount = () => get('/api/v1/notifications/unread-count')
export const readMessage = (id) => post(`/api/v1/notifications/${id}/read`)
export const readAll = () => post('/api/v1/notifications/read-all')
export const getPrefs = () => get('/api/v1/message-preferences')
export const putPrefs = (body) => request('PUT', '/api/v1/message-preferences', { body })
export const listNotices = (query) => get('/api/v1/notices', query)
export const getNotice = (id) => get(`/api/v1/notices/${id}`)
export const createNotice = (body) => post('/api/v1/notices', body)
export const noticeReceipts = (id) => get(`/api/v1/notices/${id}/receipts`)
export const listRules = () => get('/api/v1/message-rules')
export const putRules = (body) => request('PUT', '/api/v1/message-rules', { body })
export const listDeliveries = (query) => get('/api/v1/message-deliveries', query)
export const listBriefings = (query) => get('/api/v1/briefings', query)
export const getBriefing = (id) => get(`/api/v1/briefings/${id}`)
export const createBriefing = (body) => post('/api/v1/briefings', body)
export const moveBriefing = (id, body) => patch(`/api/v1/briefings/${id}`, body)
export const signUpBriefing = (id, body = {}) => post(`/api/v1/briefings/${id}/signups`, body)
export const withdrawBriefing = (id, body = {}) => post(`/api/v1/briefings/${id}/withdraw`, body)
export const cancelBriefing = (id, reason) => post(`/api/v1/briefings/${id}/cancel`, { reason })
export const briefingSignups = (id) => get(`/api/v1/briefings/${id}/signups`)
export const markAttendance = (id, body) => post(`/api/v1/briefings/${id}/attendance`, body)
export const attendanceXlsx = (id) => `/api/v1/briefings/${id}/attendance.xlsx`
export const attachToNotice = (id, file) =>
  request('POST', `/api/v1/notices/${id}/attachments`, { raw: file, contentType: file.type, query: { name: file.name } })
export const noticePdf = (id) => `/api/v1/notices/${id}/notice.pdf`
export const messageCosts = (query) => get('/api/v1/message-costs', query)
