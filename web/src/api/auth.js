// Accounts: login, logout, the current user, own password and preferences.
import { get, post, patch, request } from './http'

export const login = (username, password) =>
  request('POST', '/api/v1/auth/login', { body: { username, password }, quiet401: true })
export const logout = () => post('/api/v1/auth/logout', {})
export const me = () => get('/api/v1/me', undefined, { quiet401: true })
export const changePassword = (old_password, new_password) =>
  post('/api/v1/me/password', { old_password, new_password })
export const setPreferences = (prefs) => patch('/api/v1/me/preferences', prefs)
