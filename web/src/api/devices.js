// Wristbands (issue 5): the registry, telemetry, commands, residents' alert rules, alerts and
// their handling, the live alert stream, the device statistics and the webhook channels.
import { get, post, patch, request, withQuery } from './http'

/** query: q (IMEI/SIM prefix, the resident's name, pinyin or initials), community_id, online, registered,
 * low_battery, resident_id, cursor, limit (≤ 200); answers {items, total, next_cursor}. */
export const listDevices = (query) => get('/api/v1/devices', query)
export const getDevice = (id) => get(`/api/v1/devices/${id}`)
export const createDevice = (body) => post('/api/v1/devices', body)
export const updateDevice = (id, body) => patch(`/api/v1/devices/${id}`, body)
export const devicePositions = (id, query) => get(`/api/v1/devices/${id}/positions`, query)
export const deviceReadings = (id, query) => get(`/api/v1/devices/${id}/readings`, query)
/** Steps per local day, newest first: {items: [{day, steps}]}. */
export const deviceSteps = (id, query) => get(`/api/v1/devices/${id}/steps`, query)
export const listCommands = (id) => get(`/api/v1/devices/${id}/commands`)
export const sendCommand = (id, body) => post(`/api/v1/devices/${id}/commands`, body)
/** Staff checked the wristband is the resident's own: clears the takeover flag, held commands go out
 * (device.write; 409 when nothing is flagged). Answers the device. */
export const confirmIdentity = (id) => post(`/api/v1/devices/${id}/confirm-identity`, {})
export const cancelCommand = (id, cid) => post(`/api/v1/devices/${id}/commands/${cid}/cancel`, {})

// What the family sees of their elder: last position by building, readings with bands, latest visit (audited).
export const familyView = (residentId) => get(`/api/v1/residents/${residentId}/family-view`)
export const getRules = (residentId) => get(`/api/v1/residents/${residentId}/alert-rules`)
export const putRules = (residentId, body) => request('PUT', `/api/v1/residents/${residentId}/alert-rules`, { body })

export const listAlerts = (query) => get('/api/v1/alerts', query)
/** URL of the Excel export of the alerts the list's filters select (no cursor; the session cookie suffices). */
export const alertsExportUrl = (query) => withQuery('/api/v1/alerts/export', query)
export const getAlert = (id) => get(`/api/v1/alerts/${id}`)
/** The numbers to call for an active alarm, in full (audited with the alarm; 409 once resolved). */
export const alertPhones = (id) => post(`/api/v1/alerts/${id}/phones`, {})
export const ackAlert = (id, note) => post(`/api/v1/alerts/${id}/acknowledge`, note ? { note } : {})
/** outcome: 'resolved' or 'false_alarm'; note required by the server. */
export const resolveAlert = (id, body) => post(`/api/v1/alerts/${id}/resolve`, body)

/** Figures of the caller's scope, or of one community in it. */
export const deviceStats = (communityId) => get('/api/v1/stats/devices', { community_id: communityId })

export const listWebhooks = (query) => get('/api/v1/webhooks', query)
export const createWebhook = (body) => post('/api/v1/webhooks', body)
export const updateWebhook = (id, body) => patch(`/api/v1/webhooks/${id}`, body)
export const deleteWebhook = (id) => request('DELETE', `/api/v1/webhooks/${id}`)
export const webhookDeliveries = (id, query) => get(`/api/v1/webhooks/${id}/deliveries`, query)

export const STREAM_URL = '/api/v1/events/stream'
export const STREAM_EVENTS = ['devices.alert.opened', 'devices.alert.repeated', 'devices.alert.escalated',
  'devices.alert.acknowledged', 'devices.alert.resolved']
