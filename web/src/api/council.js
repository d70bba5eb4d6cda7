// The courtyard council (庭院议事会, issue 15): topics and their supporters, consultation templates,
// council members, meetings with attendance and minutes, decisions with their follow-up, polls.
import { get, post, patch, request } from './http'

export const listTemplates = () => get('/api/v1/council-templates')
export const createTemplate = (body) => post('/api/v1/council-templates', body)
export const listTopics = (query) => get('/api/v1/topics', query)
export const getTopic = (id) => get(`/api/v1/topics/${id}`)
export const createTopic = (body) => post('/api/v1/topics', body)
export const supportTopic = (id) => post(`/api/v1/topics/${id}/supports`, {})
export const mergeTopic = (id, intoId) => post(`/api/v1/topics/${id}/merge`, { into_id: intoId })
export const advanceTopic = (id) => post(`/api/v1/topics/${id}/advance`, {})

export const listMembers = (query) => get('/api/v1/council-members', query)
export const createMember = (body) => post('/api/v1/council-members', body)
/** {role} or {active: false} (taken off the council; adding them again brings the same record back). */
export const updateMember = (id, body) => patch(`/api/v1/council-members/${id}`, body)

export const listMeetings = (query) => get('/api/v1/council-meetings', query)
export const getMeeting = (id) => get(`/api/v1/council-meetings/${id}`)
export const createMeeting = (body) => post('/api/v1/council-meetings', body)
export const attend = (id, body) => post(`/api/v1/council-meetings/${id}/attendance`, body)
export const saveMinutes = (id, minutes) => post(`/api/v1/council-meetings/${id}/minutes`, { minutes })

export const listDecisions = (query) => get('/api/v1/decisions', query)
export const getDecision = (id) => get(`/api/v1/decisions/${id}`)
export const createDecision = (body) => post('/api/v1/decisions', body)
export const addProgress = (id, body) => post(`/api/v1/decisions/${id}/progress`, body)
export const rateDecision = (id, body) => post(`/api/v1/decisions/${id}/ratings`, body)
export const decisionProblem = (id, body) => post(`/api/v1/decisions/${id}/problem`, body)
/** Upload one image (JPEG, PNG or WebP) as the raw request body. */
export const uploadDecisionPhoto = (id, file) =>
  request('POST', `/api/v1/decisions/${id}/photos`, { raw: file, contentType: file.type || 'application/octet-stream' })

export const listPolls = (query) => get('/api/v1/polls', query)
export const getPoll = (id) => get(`/api/v1/polls/${id}`)
export const createPoll = (body) => post('/api/v1/polls', body)
export const vote = (id, body) => post(`/api/v1/polls/${id}/ballots`, body)
export const closePoll = (id) => post(`/api/v1/polls/${id}/close`, {})
export const pollResult = (id) => get(`/api/v1/polls/${id}/result`)

export const councilStats = (communityId) => get('/api/v1/council/stats', communityId ? { community_id: communityId } : undefined)
