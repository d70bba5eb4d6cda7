// The inbox stream (GET /api/v1/notifications/stream, docs/messages.md): the server sends the
// event "messages.inbox.changed" to an account whenever a message lands in its inbox, and to no
// other account. Pages that show the inbox (the console header's bell, the resident's 消息 page)
// call onInboxChanged(fn) and reload their list or count when fn runs. One EventSource is shared by
// every listener of the page and closed when the last one leaves. fn also runs after every
// reconnection (what came while the stream was down is read again), never for the first opening
// (the page has just loaded). When the browser gives up on the stream (EventSource CLOSED, e.g. the
// server restarted and answered an error), it is opened again after a growing delay (1 s … 30 s).
export const INBOX_STREAM_URL = '/api/v1/notifications/stream'
export const INBOX_EVENT = 'messages.inbox.changed'

export function inboxStream({ EventSourceImpl = globalThis.EventSource, url = INBOX_STREAM_URL,
  later = (fn, ms) => setTimeout(fn, ms), cancel = (t) => clearTimeout(t) } = {}) {
  const listeners = new Set()
  let es = null
  let timer = null
  let delay = 1000
  let opened = false

  function fire() { for (const fn of [...listeners]) { try { fn() } catch { /* one page's failure is its own */ } } }
  function connect() {
    es = new EventSourceImpl(url, { withCredentials: true })
    es.onopen = () => {
      if (opened) fire()
      opened = true
      delay = 1000
    }
    es.onerror = () => {
      if (!es || es.readyState !== 2) return // CONNECTING: the browser retries by itself
      es.close()
      es = null
      timer = later(() => { timer = null; if (listeners.size) connect() }, delay)
      delay = Math.min(delay * 2, 30000)
    }
    es.addEventListener(INBOX_EVENT, fire)
  }
  function stop() {
    if (es) { es.close(); es = null }
    if (timer) { cancel(timer); timer = null }
    opened = false
    delay = 1000
  }
  /** Call fn whenever my inbox changed; returns the function that stops it. */
  function onInboxChanged(fn) {
    listeners.add(fn)
    if (!es && !timer && EventSourceImpl) connect()
    return () => {
      listeners.delete(fn)
      if (!listeners.size) stop()
    }
  }
  return { onInboxChanged, get open() { return !!es } }
}

const shared = inboxStream()
export const onInboxChanged = (fn) => shared.onInboxChanged(fn)
