// The online service hall (issue 7): the catalogue (服务事项), applications with materials and
// reviews, documents and their verification, the 高龄津贴 tiers, coming-of-age list, recipients and
// roster, notifications and the service statistics. Shapes: docs/openapi.json, docs/services.md.
import { get, post, patch, request, withQuery } from './http'

export const listItems = (all) => get('/api/v1/service-items', all ? { all: 'true' } : undefined)
export const getItem = (id) => get(`/api/v1/service-items/${id}`)
// May this resident apply (the caller's own; staff pass resident_id), and if not, why — before any form.
export const itemEligibility = (id, residentId) => get(`/api/v1/service-items/${id}/eligibility`, residentId ? { resident_id: residentId } : undefined)
// The catalogue with may_apply on each item ({eligible, reasons}) for the caller's own resident.
export const listItemsForMe = () => get('/api/v1/service-items', { eligibility: 'true' })
export const createItem = (body) => post('/api/v1/service-items', body)
export const updateItem = (id, body) => patch(`/api/v1/service-items/${id}`, body)

const APPS = '/api/v1/service-applications'
export const listApplications = (query) => get(APPS, query)
export const getApplication = (id) => get(`${APPS}/${id}`)
export const createApplication = (body) => post(APPS, body)
export const updateApplication = (id, body) => patch(`${APPS}/${id}`, body)
export const submitApplication = (id) => post(`${APPS}/${id}/submit`)
export const withdrawApplication = (id, note) => post(`${APPS}/${id}/withdraw`, note ? { note } : undefined)
export const reviewApplication = (id, action, note) => post(`${APPS}/${id}/review`, note ? { action, note } : { action })
/** Upload one material (the raw file as the body; the server sniffs its type). */
export const uploadMaterial = (id, key, file) =>
  request('POST', withQuery(`${APPS}/${id}/materials`, { key, filename: file.name }), { raw: file, contentType: file.type || 'application/octet-stream' })
export const removeMaterial = (id, mid) => request('DELETE', `${APPS}/${id}/materials/${mid}`)
export const materialUrl = (id, mid) => `${APPS}/${id}/materials/${mid}`
/** kind: application (申请表) or certificate (证明). */
export const documentUrl = (id, kind) => `${APPS}/${id}/documents/${kind}`
export const verifyUrl = (code) => `/verify/${encodeURIComponent(code)}`

export const serviceStats = (communityId) => get('/api/v1/stats/services', { community_id: communityId })

export const getTiers = () => get('/api/v1/allowance/tiers')
export const saveTiers = (body) => request('PUT', '/api/v1/allowance/tiers', { body })
export const comingOfAge = (communityId) => get('/api/v1/allowance/coming-of-age', { community_id: communityId })
export const listRecipients = (query) => get('/api/v1/allowance/recipients', query)
export const rosterUrl = (month, communityId) => withQuery('/api/v1/allowance/roster', { month, community_id: communityId })

export const listNotifications = (query) => get('/api/v1/notifications', query)
export const readNotification = (id) => post(`/api/v1/notifications/${id}/read`)
