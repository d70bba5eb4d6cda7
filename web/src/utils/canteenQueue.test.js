// node --test web/src/utils/ — the counter's offline queue against a fake server that records one
// sale per client_ref, as POST /api/v1/canteen/sales does.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createQueue, newClientRef, isTransient } from './canteenQueue.js'

function memoryStorage() {
  const m = new Map()
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)) }
}
function fakeServer() {
  const sales = new Map()
  let down = false
  return {
    sales,
    setDown(v) { down = v },
    async send(body) {
      if (down) { const e = new Error('网络错误'); e.status = 0; throw e }
      if (body.card_id === 404) { const e = new Error('未找到饭卡'); e.status = 404; throw e }
      if (!sales.has(body.client_ref)) sales.set(body.client_ref, body)
      return sales.get(body.client_ref)
    },
  }
}

test('client references are unique and fit the server\'s pattern', () => {
  const seen = new Set()
  for (let i = 0; i < 200; i++) seen.add(newClientRef())
  assert.equal(seen.size, 200)
  for (const r of seen) assert.match(r, /^[A-Za-z0-9_.:-]{8,64}$/)
})

test('sales queued while offline are sent once when the network is back', async () => {
  const storage = memoryStorage()
  const q = createQueue(storage)
  const srv = fakeServer()
  srv.setDown(true)
  q.add({ client_ref: 'web-a-1', menu_item_id: 1, card_id: 7 })
  q.add({ client_ref: 'web-a-2', menu_item_id: 1, card_id: 8 })
  q.add({ client_ref: 'web-a-1', menu_item_id: 1, card_id: 7 }) // a double tap: kept once
  assert.equal(q.size(), 2)
  let r = await q.flush(srv.send)
  assert.deepEqual([r.sent, r.left], [0, 2])
  srv.setDown(false)
  // a second tab holding the same queue flushes at the same time: still one sale per reference
  const other = createQueue(storage)
  const [r1, r2] = await Promise.all([q.flush(srv.send), other.flush(srv.send)])
  assert.equal(srv.sales.size, 2)
  assert.equal(q.size(), 0)
  assert.ok(r1.sent + r2.sent >= 2)
})

test('a refused sale leaves the queue and is reported; transient errors keep it', async () => {
  const q = createQueue(memoryStorage())
  const srv = fakeServer()
  q.add({ client_ref: 'web-b-1', menu_item_id: 1, card_id: 404 })
  q.add({ client_ref: 'web-b-2', menu_item_id: 1, card_id: 9 })
  const r = await q.flush(srv.send)
  assert.equal(r.sent, 1)
  assert.equal(r.refused.length, 1)
  assert.equal(r.refused[0].entry.body.client_ref, 'web-b-1')
  assert.equal(q.size(), 0)
  assert.ok(isTransient({ status: 0 }) && isTransient({ status: 503 }) && !isTransient({ status: 409 }))
})

test('a damaged queue reads as empty', () => {
  const s = memoryStorage()
  s.setItem('nx.canteen.queue', '{not json')
  assert.equal(createQueue(s).size(), 0)
})
