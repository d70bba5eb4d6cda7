// Residents and households.
import { get, post, patch, request, withQuery } from './http'

export const listResidents = (query) => get('/api/v1/residents', query)
export const getResident = (id) => get(`/api/v1/residents/${id}`)
export const createResident = (body) => post('/api/v1/residents', body)
export const updateResident = (id, body) => patch(`/api/v1/residents/${id}`, body)
export const revealResident = (id, fields) => post(`/api/v1/residents/${id}/reveal`, { fields })
/** URL of the Excel export for the same filters as the list (masked personal data). */
export const exportUrl = (query) => withQuery('/api/v1/residents/export', { ...query, reveal: 'false' })
export const templateUrl = () => '/api/v1/residents/import/template'
export const importFile = (file, dryRun) =>
  request('POST', withQuery('/api/v1/residents/import', { dry_run: dryRun ? 'true' : 'false' }), {
    raw: file,
    contentType: /\.csv$/i.test(file.name)
      ? 'text/csv'
      : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  })

export const listHouseholds = (query) => get('/api/v1/households', query)
export const getHousehold = (id) => get(`/api/v1/households/${id}`)
export const createHousehold = (body) => post('/api/v1/households', body)
export const updateHousehold = (id, body) => patch(`/api/v1/households/${id}`, body)
/** Move a resident to another household or room ({household_id, room_id, relation?, reason}). */
export const moveResident = (id, body) => post(`/api/v1/residents/${id}/move`, body)
export const listMoves = (id) => get(`/api/v1/residents/${id}/moves`)
