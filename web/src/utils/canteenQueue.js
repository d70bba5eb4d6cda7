// The counter's offline queue. A sale gets its client_ref when the operator taps, before anything is
// sent; when the server cannot be reached (a network error, a 5xx or a timeout) the sale is kept in
// localStorage under that reference and sent again later. The server records one sale per
// client_ref (POST /canteen/sales answers 200 with the same sale on a repeat), so sending a queued
// sale twice — two tabs, a retry after a lost answer — never books two meals. A 4xx answer is final:
// the sale is dropped from the queue and reported (a card refused, an item sold out) so that the
// operator can settle it by hand; it is never retried.
//
// storage is anything with getItem/setItem (localStorage in the page, a Map-backed fake in tests).

export const QUEUE_KEY = 'nx.canteen.queue'

/** A new client reference: "web-" + time + random, within the server's 8..64 [A-Za-z0-9_.:-]. */
export function newClientRef(now = Date.now(), rnd = Math.random) {
  const r = Math.floor(rnd() * 0x100000000).toString(36)
  return `web-${now.toString(36)}-${r}`
}

/** True when an error means "try again later" rather than "the server said no". */
export function isTransient(err) {
  const s = err && typeof err.status === 'number' ? err.status : 0
  return s === 0 || s === 408 || s === 429 || s >= 500
}

export function createQueue(storage, key = QUEUE_KEY) {
  function read() {
    try {
      const v = JSON.parse(storage.getItem(key) || '[]')
      return Array.isArray(v) ? v : []
    } catch {
      return []
    }
  }
  function write(list) { storage.setItem(key, JSON.stringify(list)) }
  return {
    list: read,
    size: () => read().length,
    /** Keep a sale (its body, with client_ref) and what the counter showed for it. */
    add(body, shown = {}) {
      const list = read()
      if (!list.some((x) => x.body.client_ref === body.client_ref)) list.push({ body, shown, queued_at: Date.now() })
      write(list)
    },
    remove(ref) { write(read().filter((x) => x.body.client_ref !== ref)) },
    /**
     * Send every queued sale in order with send(body). Stops at the first transient failure (the
     * network is still down; the rest stays queued). Returns {sent, refused: [{entry, error}], left}.
     */
    async flush(send) {
      const out = { sent: 0, refused: [], left: 0 }
      for (const entry of read()) {
        try {
          await send(entry.body)
          out.sent++
        } catch (err) {
          if (isTransient(err)) break
          out.refused.push({ entry, error: err })
        }
        this.remove(entry.body.client_ref)
      }
      out.left = read().length
      return out
    },
  }
}
