// System administration: accounts and the audit log.
import { get, post, patch } from './http'
import { listAll } from './org'

/** Every account, page by page (the list is paged like every other). */
export const listUsers = async () => ({ items: await listAll((q) => get('/api/v1/users', q)) })
export const createUser = (body) => post('/api/v1/users', body)
export const updateUser = (id, body) => patch(`/api/v1/users/${id}`, body)
export const resetPassword = (id, password) =>
  post(`/api/v1/users/${id}/password`, { password, must_change_password: true })
export const listAudit = (query) => get('/api/v1/audit', query)
