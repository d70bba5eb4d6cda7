// Volunteers and partner units (issue 13): teams, volunteers, activities with sign-ups and the
// rotating check-in code, the hours ledger (approval, honour list, Excel export), partner units,
// their services, sessions and slot bookings.
import { get, post, patch, request, withQuery } from './http'

export const listTeams = (query) => get('/api/v1/volunteer-teams', query)
export const createTeam = (body) => post('/api/v1/volunteer-teams', body)
export const listVolunteers = (query) => get('/api/v1/volunteers', query)
export const createVolunteer = (body) => post('/api/v1/volunteers', body)

export const listActivities = (query) => get('/api/v1/volunteer-activities', query)
export const getActivity = (id) => get(`/api/v1/volunteer-activities/${id}`)
export const createActivity = (body) => post('/api/v1/volunteer-activities', body)
export const signUp = (id, body = {}) => post(`/api/v1/volunteer-activities/${id}/signups`, body)
export const cancelSignup = (id, reason) => post(`/api/v1/volunteer-signups/${id}/cancel`, reason ? { reason } : {})
export const checkInCode = (id) => get(`/api/v1/volunteer-activities/${id}/check-in-code`)
export const checkIn = (id, body) => post(`/api/v1/volunteer-activities/${id}/check-ins`, body)

export const listHours = (query) => get('/api/v1/volunteer-hours', query)
export const addHours = (body) => post('/api/v1/volunteer-hours', body)
export const approveHours = (id, body = {}) => post(`/api/v1/volunteer-hours/${id}/approve`, body)
export const hoursSummary = (query) => get('/api/v1/volunteer-hours/summary', query)
export const honourList = (period) => get('/api/v1/volunteer-hours/honour', { period })
export const hoursExportUrl = (period) => withQuery('/api/v1/volunteer-hours/export', { period })

// 时间银行: a volunteer's points (balance and ledger), the earning rule, offers and redemptions
export const getPoints = (query) => get('/api/v1/volunteer-points', query)
export const getPointRule = (query) => get('/api/v1/volunteer-points/rule', query)
export const setPointRule = (body) => request('PUT', '/api/v1/volunteer-points/rule', { body })
export const listOffers = (query) => get('/api/v1/volunteer-point-offers', query)
export const createOffer = (body) => post('/api/v1/volunteer-point-offers', body)
export const redeemPoints = (body) => post('/api/v1/volunteer-points/redemptions', body)

export const listPartners = (query) => get('/api/v1/partners', query)
export const createPartner = (body) => post('/api/v1/partners', body)
/** The thanks letter (PDF) of a partner unit for a year: a link the browser opens. */
export const thanksLetterUrl = (id, year) => `/api/v1/partners/${id}/thanks-letter?year=${year}`
export const listServices = (query) => get('/api/v1/partner-services', query)
export const createService = (body) => post('/api/v1/partner-services', body)
export const listSessions = (query) => get('/api/v1/partner-sessions', query)
export const getSession = (id) => get(`/api/v1/partner-sessions/${id}`)
export const bookSlot = (id, body) => post(`/api/v1/partner-sessions/${id}/bookings`, body)
export const listBookings = (query) => get('/api/v1/partner-bookings', query)
export const updateBooking = (id, body) => patch(`/api/v1/partner-bookings/${id}`, body)

/** "2026-12-06T09:30" (local, minutes) from an ISO time the server sent, for the create forms. */
export function localMinute(d) {
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`
}
