// System administration: accounts and the audit log.
import { get, post, patch } from './http'

export const listUsers = () => get('/api/v1/users')
export const createUser = (body) => post('/api/v1/users', body)
export const updateUser = (id, body) => patch(`/api/v1/users/${id}`, body)
export const resetPassword = (id, password) =>
  post(`/api/v1/users/${id}/password`, { password, must_change_password: true })
export const listAudit = (query) => get('/api/v1/audit', query)
