// The neighbourhood library and book drifting (issue 14): the catalogue by ISBN, copies with their
// label codes, loans and returns by scanning a label, holds with their queue, readers, donations,
// the dashboard figures, the label sheet PDF and the public journey of a drifting copy.
import { get, post, patch, withQuery } from './http'

export const listBooks = (query) => get('/api/v1/books', query)
export const getBook = (id) => get(`/api/v1/books/${id}`)
export const createBook = (body) => post('/api/v1/books', body)
export const updateBook = (id, body) => patch(`/api/v1/books/${id}`, body)

export const listCopies = (query) => get('/api/v1/book-copies', query)
export const createCopy = (body) => post('/api/v1/book-copies', body)
export const updateCopy = (id, body) => patch(`/api/v1/book-copies/${id}`, body)

export const listLoans = (query) => get('/api/v1/loans', query)
export const checkOut = (body) => post('/api/v1/loans', body)
export const returnLoan = (id) => post(`/api/v1/loans/${id}/return`, {})
export const returnByCode = (code) => post('/api/v1/returns', { code })
export const renewLoan = (id) => post(`/api/v1/loans/${id}/renew`, {})

export const listHolds = (query) => get('/api/v1/holds', query)
export const placeHold = (body) => post('/api/v1/holds', body)
export const cancelHold = (id) => post(`/api/v1/holds/${id}/cancel`, {})

export const getReader = (residentId) => get(`/api/v1/library/readers/${residentId}`)
export const libraryStats = (communityId) => get('/api/v1/library/stats', communityId ? { community_id: communityId } : undefined)
/** The label sheet (PDF) of the copies matching the filter: a link the browser downloads. */
export const labelsUrl = (query) => withQuery('/api/v1/library/labels', query)
/** The public journey of a drifting copy (JSON from the same address as its QR page). */
export const driftJourney = (code) => get(`/drift/${encodeURIComponent(code)}`)
