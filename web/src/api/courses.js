// Courses (人人授课) and activity rooms (活动室) of issue 14: the catalogue with enrolments, the lottery,
// attendance and leave; rooms, their week calendar, bookings with approval, check-in and no-shows.
import { get, post, patch } from './http'

export const listCourses = (query) => get('/api/v1/courses', query)
export const getCourse = (id) => get(`/api/v1/courses/${id}`)
export const createCourse = (body) => post('/api/v1/courses', body)
export const decideCourse = (id, action, body = {}) => post(`/api/v1/courses/${id}/${action}`, body)
export const listEnrolments = (id) => get(`/api/v1/courses/${id}/enrolments`)
export const enrol = (id, body = {}) => post(`/api/v1/courses/${id}/enrolments`, body)
export const withdraw = (enrolmentId) => post(`/api/v1/course-enrolments/${enrolmentId}/withdraw`, {})
export const drawLottery = (id, body = {}) => post(`/api/v1/courses/${id}/lottery`, body)
export const getAttendance = (sessionId) => get(`/api/v1/course-sessions/${sessionId}/attendance`)
export const setAttendance = (sessionId, items) => post(`/api/v1/course-sessions/${sessionId}/attendance`, { items })
export const askLeave = (sessionId, body = {}) => post(`/api/v1/course-sessions/${sessionId}/leave`, body)

export const listVenues = (query) => get('/api/v1/venues', query)
export const getVenue = (id) => get(`/api/v1/venues/${id}`)
export const createVenue = (body) => post('/api/v1/venues', body)
export const updateVenue = (id, body) => patch(`/api/v1/venues/${id}`, body)
export const venueCalendar = (id, from, days = 7) => get(`/api/v1/venues/${id}/calendar`, { from, days })
export const listBookings = (query) => get('/api/v1/venue-bookings', query)
export const createBooking = (body) => post('/api/v1/venue-bookings', body)
export const actOnBooking = (id, action, body = {}) => post(`/api/v1/venue-bookings/${id}/${action}`, body)
export const listWaits = (query) => get('/api/v1/venue-waits', query)
export const createWait = (body) => post('/api/v1/venue-waits', body)
export const acceptWait = (id) => post(`/api/v1/venue-waits/${id}/accept`, {})

/** Today's (or offset days from today's) local date as YYYY-MM-DD. */
export function localDate(offset = 0) {
  const d = new Date()
  d.setDate(d.getDate() + offset)
  const p = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/** Quarter hours "HH:MM" from from to to (inclusive), for the time pickers of bookings. */
export function quarterHours(from = '06:00', to = '22:00') {
  const m = (s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5))
  const out = []
  for (let x = m(from); x <= m(to); x += 15) out.push(`${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`)
  return out
}
