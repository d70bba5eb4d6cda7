// A "load more" list over nuanxin's cursor paging ({items, next_cursor, …}), as the resident pages
// show it: the first page, then each further page appended under it while the server gives a
// next_cursor. The staff console's tables page back and forth instead (cursorList.js).
// onPage(res, more) sees each page's whole answer after its items are in (for what else the answer
// carries, e.g. the unread count, or what the page fetches alongside); its error counts as the
// page's. Requests that come back after a newer one was started are dropped.
import { ref } from 'vue'

export function useMoreList(fetchPage, { limit = 20, onPage } = {}) {
  const items = ref([])
  const next = ref(null)
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref(null)
  let seq = 0

  async function load(more = false) {
    const my = ++seq
    loading.value = true
    error.value = null
    try {
      const res = await fetchPage({ limit, cursor: more ? next.value : undefined })
      if (my !== seq) return
      const page = res.items || []
      items.value = more ? [...items.value, ...page] : page
      next.value = res.next_cursor || null
      // Waited for only when it returns a promise, so a plain callback's changes land in the same tick.
      const side = onPage && onPage(res, more)
      if (side && typeof side.then === 'function') {
        await side
        if (my !== seq) return
      }
      loaded.value = true
    } catch (e) {
      if (my === seq) error.value = e
    } finally {
      if (my === seq) loading.value = false
    }
  }
  /** The next page under the ones shown; nothing when there is none. */
  function more() {
    if (!next.value) return
    return load(true)
  }
  /** Forget what is shown (and any request on its way) and load the first page again. */
  function reset() {
    items.value = []
    next.value = null
    loaded.value = false
    error.value = null
    return load()
  }
  return { items, next, loading, loaded, error, load, more, reset }
}
