// node --test web/src/utils/ — serialSaver: one save at a time, in order, and only the newest answer counts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { serialSaver } from './serialSave.js'

// A send whose requests the test finishes by hand, in an order of its choosing.
function manualSend() {
  const pending = []
  const send = (arg) => new Promise((resolve, reject) => pending.push({ arg, resolve, reject }))
  return { send, pending }
}
const tick = () => new Promise((r) => setImmediate(r))

test('the second save is not sent before the first has finished, and only the second is newest', async () => {
  const { send, pending } = manualSend()
  const save = serialSaver(send)
  const first = save('en')
  const second = save('zh-CN')
  await tick()
  assert.deepEqual(pending.map((p) => p.arg), ['en'], 'one request at a time')
  pending[0].resolve({ language: 'en' })
  assert.deepEqual(await first, { value: { language: 'en' }, newest: false })
  await tick()
  assert.deepEqual(pending.map((p) => p.arg), ['en', 'zh-CN'])
  pending[1].resolve({ language: 'zh-CN' })
  assert.deepEqual(await second, { value: { language: 'zh-CN' }, newest: true })
})

test('a failed save rejects only itself; the next one is still sent', async () => {
  const { send, pending } = manualSend()
  const save = serialSaver(send)
  const first = save(1)
  const second = save(2)
  await tick()
  pending[0].reject(new Error('网络错误'))
  await assert.rejects(first, /网络错误/)
  await tick()
  assert.equal(pending.length, 2)
  pending[1].resolve('ok')
  assert.deepEqual(await second, { value: 'ok', newest: true })
})

test('a lone save is the newest', async () => {
  const save = serialSaver(async (x) => x * 2)
  assert.deepEqual(await save(21), { value: 42, newest: true })
})
