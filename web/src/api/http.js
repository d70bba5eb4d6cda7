// The one way the web app talks to nuanxin. The session lives in the HttpOnly cookie nx_session
// (the token from the login answer is never stored); every non-GET request carries the session's
// CSRF token in X-CSRF-Token. Errors arrive as application/problem+json and are thrown as ApiError
// with status, title, detail and field, so forms can put the message under the right field.
// A 401 on anything but the login itself means the session is gone: onUnauthorized() sends the
// user back to the login page.

let csrfToken = ''
let onUnauthorized = null

export function setCsrf(token) { csrfToken = token || '' }
export function setUnauthorizedHandler(fn) { onUnauthorized = fn }

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`)
    this.status = status
    this.title = problem?.title || ''
    this.detail = problem?.detail || ''
    this.field = problem?.field || ''
    this.type = problem?.type || ''
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [] // a 422 submission lists every problem
  }
}

/** Build "path?k=v" from an object, leaving out empty values. */
export function withQuery(path, params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue
    q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

export async function request(method, path, { body, query, raw, contentType, quiet401 } = {}) {
  const headers = { Accept: 'application/json' }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken
  let payload
  if (raw !== undefined) {
    payload = raw
    headers['Content-Type'] = contentType || 'application/octet-stream'
  } else if (body !== undefined) {
    payload = JSON.stringify(body)
    headers['Content-Type'] = 'application/json'
  }
  let res
  try {
    res = await fetch(withQuery(path, query), { method, headers, body: payload, credentials: 'same-origin' })
  } catch (e) {
    throw new ApiError(0, { title: '网络错误', detail: '无法连接服务器，请检查网络后重试' })
  }
  if (res.status === 204) return null
  const type = res.headers.get('Content-Type') || ''
  const data = type.includes('json') ? await res.json().catch(() => null) : null
  if (!res.ok) {
    const err = new ApiError(res.status, data || { title: res.statusText })
    if (res.status === 401 && !quiet401 && onUnauthorized) onUnauthorized(err)
    throw err
  }
  return data
}

export const get = (path, query, opt) => request('GET', path, { query, ...opt })
export const post = (path, body, opt) => request('POST', path, { body, ...opt })
export const patch = (path, body, opt) => request('PATCH', path, { body, ...opt })
