// Care files, visit rules and tasks, visits with photos, problems (诉求), grid members and
// incidents (网格事件), the care statistics and the monthly 走访台账 export (issue 6).
import { get, post, patch, request, withQuery } from './http'

export const listVocab = (kind) => get('/api/v1/care/vocab', { kind })
export const createVocab = (body) => post('/api/v1/care/vocab', body)
export const updateVocab = (id, body) => patch(`/api/v1/care/vocab/${id}`, body)
export const listPolicies = () => get('/api/v1/care/policies')
export const createPolicy = (body) => post('/api/v1/care/policies', body)
export const updatePolicy = (id, body) => patch(`/api/v1/care/policies/${id}`, body)

export const listCareFiles = (query) => get('/api/v1/care-files', query)
export const getCareFile = (id) => get(`/api/v1/care-files/${id}`)
export const createCareFile = (body) => post('/api/v1/care-files', body)
export const updateCareFile = (id, body) => patch(`/api/v1/care-files/${id}`, body)
export const closeCareFile = (id, body) => post(`/api/v1/care-files/${id}/close`, body)
export const lifeEvent = (id, body) => post(`/api/v1/care-files/${id}/events`, body)
export const triggerVisit = (id, body) => post(`/api/v1/care-files/${id}/tasks`, body)

export const listTasks = (query) => get('/api/v1/visit-tasks', query)
export const getTask = (id) => get(`/api/v1/visit-tasks/${id}`)
export const updateTask = (id, body) => patch(`/api/v1/visit-tasks/${id}`, body)

export const listVisits = (query) => get('/api/v1/visits', query)
export const getVisit = (id) => get(`/api/v1/visits/${id}`)
export const createVisit = (body) => post('/api/v1/visits', body)
/** Upload one image (JPEG, PNG or WebP) as the raw request body. */
export const uploadVisitPhoto = (id, file) =>
  request('POST', `/api/v1/visits/${id}/photos`, { raw: file, contentType: file.type || 'application/octet-stream' })
export const registerUrl = (month, communityId) => withQuery('/api/v1/visits/register', { month, community_id: communityId })

export const listProblems = (query) => get('/api/v1/problems', query)
export const getProblem = (id) => get(`/api/v1/problems/${id}`)
export const createProblem = (body) => post('/api/v1/problems', body)
export const updateProblem = (id, body) => patch(`/api/v1/problems/${id}`, body)
export const problemNote = (id, note) => post(`/api/v1/problems/${id}/notes`, { note })
export const resolveProblem = (id, resolution) => post(`/api/v1/problems/${id}/resolve`, { resolution })
export const rateProblem = (id, body) => post(`/api/v1/problems/${id}/rate`, body)

export const listMembers = (query) => get('/api/v1/grid-members', query)
export const createMember = (body) => post('/api/v1/grid-members', body)
export const updateMember = (id, body) => patch(`/api/v1/grid-members/${id}`, body)

export const listIncidents = (query) => get('/api/v1/incidents', query)
export const getIncident = (id) => get(`/api/v1/incidents/${id}`)
export const createIncident = (body) => post('/api/v1/incidents', body)
export const dispatchIncident = (id, body) => post(`/api/v1/incidents/${id}/dispatch`, body)
export const handleIncident = (id, result) => post(`/api/v1/incidents/${id}/handle`, { result })
export const closeIncident = (id, note) => post(`/api/v1/incidents/${id}/close`, note ? { note } : {})
export const uploadIncidentPhoto = (id, file) =>
  request('POST', `/api/v1/incidents/${id}/photos`, { raw: file, contentType: file.type || 'application/octet-stream' })

export const careStats = (communityId) => get('/api/v1/stats/care', { community_id: communityId })
