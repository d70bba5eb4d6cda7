// node --test web/src/utils/ — the resident pages' "load more" list, against a fake list API.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { useMoreList } from './moreList.js'

// A list API over rows 1…n: the cursor is the next row's index as a string.
function fakeApi(n) {
  const calls = []
  const fetchPage = async (q) => {
    calls.push(q)
    const from = q.cursor ? Number(q.cursor) : 0
    const to = Math.min(n, from + q.limit)
    const items = []
    for (let i = from; i < to; i++) items.push({ id: i + 1 })
    return { items, next_cursor: to < n ? String(to) : null, unread: n - from }
  }
  return { fetchPage, calls }
}
const ids = (l) => l.items.value.map((x) => x.id)
// A promise with its resolve outside, to finish requests in an order of the test's choosing.
function deferred() {
  let resolve, reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

test('first page, then more pages appended until there is no next cursor', async () => {
  const api = fakeApi(5)
  const l = useMoreList(api.fetchPage, { limit: 2 })
  assert.equal(l.loaded.value, false)
  assert.equal(l.next.value, null)
  await l.load()
  assert.deepEqual(ids(l), [1, 2])
  assert.equal(l.next.value, '2')
  assert.equal(l.loaded.value, true)
  assert.equal(l.loading.value, false)
  await l.more()
  assert.deepEqual(ids(l), [1, 2, 3, 4])
  await l.load(true)
  assert.deepEqual(ids(l), [1, 2, 3, 4, 5])
  assert.equal(l.next.value, null)
  assert.equal(await l.more(), undefined) // nothing more: no request
  assert.deepEqual(api.calls, [{ limit: 2, cursor: undefined }, { limit: 2, cursor: '2' }, { limit: 2, cursor: '4' }])
})

test('load() without more starts over: the first page replaces what is shown', async () => {
  const api = fakeApi(5)
  const l = useMoreList(api.fetchPage, { limit: 2 })
  await l.load()
  await l.more()
  await l.load()
  assert.deepEqual(ids(l), [1, 2])
  assert.equal(l.next.value, '2')
  assert.deepEqual(api.calls.at(-1), { limit: 2, cursor: undefined })
})

test('the default limit is 20; a missing items list counts as empty', async () => {
  const calls = []
  const l = useMoreList(async (q) => { calls.push(q); return {} })
  await l.load()
  assert.deepEqual(calls, [{ limit: 20, cursor: undefined }])
  assert.deepEqual(l.items.value, [])
  assert.equal(l.next.value, null)
  assert.equal(l.loaded.value, true)
})

test('onPage sees each answer and whether it was a further page, before loaded is set', async () => {
  const api = fakeApi(3)
  const seen = []
  let l
  l = useMoreList(api.fetchPage, {
    limit: 2,
    onPage: async (res, more) => { seen.push([res.unread, more, ids(l), l.next.value, l.loaded.value]) },
  })
  await l.load()
  await l.more()
  assert.deepEqual(seen, [[3, false, [1, 2], '2', false], [1, true, [1, 2, 3], null, true]])
})

test('an error is kept, the items stay, loading ends; the next load clears it', async () => {
  const api = fakeApi(5)
  let fail = false
  const l = useMoreList(async (q) => { if (fail) throw new Error('HTTP 500'); return api.fetchPage(q) }, { limit: 2 })
  await l.load()
  fail = true
  await l.more()
  assert.equal(l.error.value.message, 'HTTP 500')
  assert.deepEqual(ids(l), [1, 2])
  assert.equal(l.next.value, '2', 'the cursor is kept, so more() asks for the same page again')
  assert.equal(l.loading.value, false)
  fail = false
  await l.more()
  assert.equal(l.error.value, null)
  assert.deepEqual(ids(l), [1, 2, 3, 4])
})

test("an error thrown by onPage is the page's error", async () => {
  const l = useMoreList(fakeApi(1).fetchPage, { onPage: () => { throw new Error('side fetch') } })
  await l.load()
  assert.equal(l.error.value.message, 'side fetch')
  assert.equal(l.loaded.value, false)
})

test('loading is true while a request is on its way', async () => {
  const d = deferred()
  const l = useMoreList(() => d.promise)
  const p = l.load()
  assert.equal(l.loading.value, true)
  d.resolve({ items: [{ id: 1 }] })
  await p
  assert.equal(l.loading.value, false)
  assert.deepEqual(ids(l), [1])
})

test('an answer that comes back after a newer request was started is dropped', async () => {
  const pending = []
  const l = useMoreList((q) => { const d = deferred(); pending.push({ q, d }); return d.promise }, { limit: 2 })
  const first = l.load()
  pending[0].d.resolve({ items: [{ id: 1 }, { id: 2 }], next_cursor: '2' })
  await first
  const older = l.more() // a further page …
  const newer = l.load() // … overtaken by a reload (e.g. a live event)
  pending[2].d.resolve({ items: [{ id: 10 }, { id: 11 }], next_cursor: '2' })
  await newer
  pending[1].d.resolve({ items: [{ id: 3 }, { id: 4 }], next_cursor: '4' })
  await older
  assert.deepEqual(ids(l), [10, 11], 'the late further page is not appended to the reloaded list')
  assert.equal(l.next.value, '2')
  assert.equal(l.loading.value, false)

  // A late error is dropped the same way.
  const a = l.load()
  const b = l.load()
  pending[4].d.resolve({ items: [{ id: 20 }] })
  await b
  pending[3].d.reject(new Error('late'))
  await a
  assert.equal(l.error.value, null)
  assert.deepEqual(ids(l), [20])
})

test('reset() forgets the list at once and loads the first page', async () => {
  const api = fakeApi(5)
  const l = useMoreList(api.fetchPage, { limit: 2 })
  await l.load()
  await l.more()
  const p = l.reset()
  assert.deepEqual(l.items.value, [])
  assert.equal(l.next.value, null)
  assert.equal(l.loaded.value, false)
  await p
  assert.deepEqual(ids(l), [1, 2])
  assert.equal(l.loaded.value, true)
  assert.deepEqual(api.calls.at(-1), { limit: 2, cursor: undefined })
})

test('a plain onPage lands in the same tick as the items and loaded; an async one is waited for', async () => {
  const d = deferred()
  const l = useMoreList(() => d.promise, { onPage: (r) => { l.extra = r.unread } })
  const p = l.load()
  d.resolve({ items: [{ id: 1 }], unread: 4 })
  await d.promise
  assert.equal(l.extra, 4)
  assert.equal(l.loaded.value, true, 'no extra tick between onPage and loaded')
  await p

  let done = false
  const m = useMoreList(async () => ({ items: [] }), { onPage: async () => { await new Promise((r) => setTimeout(r, 5)); done = true } })
  await m.load()
  assert.equal(done, true)
  assert.equal(m.loaded.value, true)
})
