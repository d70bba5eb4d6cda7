// A list page over nuanxin's cursor paging ({items, next_cursor, total}): the cursors of the pages
// before the current one are kept on a stack, so "previous" is a pop and "next" a push. Requests
// that come back after a newer one was started are dropped.
import { ref, computed } from 'vue'

export function useCursorList(fetcher, { pageSize = 20 } = {}) {
  const items = ref([])
  const total = ref(null)
  const loading = ref(false)
  const error = ref(null)
  const limit = ref(pageSize)
  const stack = ref([])
  const cursor = ref(undefined)
  const next = ref(null)
  const loaded = ref(false)
  let seq = 0

  async function load() {
    const my = ++seq
    loading.value = true
    error.value = null
    try {
      const res = await fetcher({ limit: limit.value, cursor: cursor.value })
      if (my !== seq) return
      items.value = res.items || []
      total.value = typeof res.total === 'number' ? res.total : null
      next.value = res.next_cursor || null
      loaded.value = true
    } catch (e) {
      if (my === seq) error.value = e
    } finally {
      if (my === seq) loading.value = false
    }
  }
  function reset() {
    stack.value = []
    cursor.value = undefined
    return load()
  }
  function goNext() {
    if (!next.value) return
    stack.value.push(cursor.value)
    cursor.value = next.value
    return load()
  }
  function goPrev() {
    if (!stack.value.length) return
    cursor.value = stack.value.pop()
    return load()
  }
  function setLimit(n) {
    limit.value = n
    return reset()
  }
  const page = computed(() => stack.value.length + 1)
  const hasPrev = computed(() => stack.value.length > 0)
  const hasNext = computed(() => !!next.value)
  return { items, total, loading, error, limit, page, hasPrev, hasNext, loaded, load, reset, goNext, goPrev, setLimit }
}
