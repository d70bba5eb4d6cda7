// Party building (党建) and model-resident elections (德治评选), issue 16.
import { get, post, patch, request } from './http'

export const listPartyOrgs = (q) => get('/api/v1/party-orgs', q)
export const listPartyMembers = (q) => get('/api/v1/party-members', q)
export const getPartyMember = (id) => get(`/api/v1/party-members/${id}`)
export const updatePartyMember = (id, body) => patch(`/api/v1/party-members/${id}`, body)
export const listPartyActivities = (q) => get('/api/v1/party-activities', q)
export const reviewPartyActivity = (id, body) => post(`/api/v1/party-activities/${id}/review`, body)
export const getPartyActivity = (id) => get(`/api/v1/party-activities/${id}`)
export const addPartyPhoto = (id, file) =>
  request('POST', `/api/v1/party-activities/${id}/photos`, { raw: file, contentType: file.type || 'application/octet-stream' })
export const partyCalendar = (q) => get('/api/v1/party-calendar', q)
export const listPartyDues = (q) => get('/api/v1/party-dues', q)
export const listPartyArrears = (q) => get('/api/v1/party-dues/arrears', q)
export const payPartyDues = (id, body) => post(`/api/v1/party-dues/${id}/payments`, body)

export const listElections = (q) => get('/api/v1/elections', q)
export const getElection = (id) => get(`/api/v1/elections/${id}`)
export const electionHonours = () => get('/api/v1/elections/honours')
export const electionResult = (id) => get(`/api/v1/elections/${id}/result`)
export const advanceElection = (id, body) => post(`/api/v1/elections/${id}/stage`, body)
export const nominate = (id, body) => post(`/api/v1/elections/${id}/nominations`, body)
export const reviewNomination = (id, nid, body) => post(`/api/v1/elections/${id}/nominations/${nid}/review`, body)
export const raiseObjection = (id, body) => post(`/api/v1/elections/${id}/objections`, body)
export const answerObjection = (id, oid, body) => post(`/api/v1/elections/${id}/objections/${oid}/answer`, body)
export const castBallot = (id, body) => post(`/api/v1/elections/${id}/ballots`, body)
