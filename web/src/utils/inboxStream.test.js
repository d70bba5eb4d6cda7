// node --test web/src/utils/ — inboxStream: one shared EventSource, listeners called on the inbox
// event and after a reconnection (not at the first opening), reopened after CLOSED, closed with the
// last listener.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inboxStream, INBOX_EVENT, INBOX_STREAM_URL } from './inboxStream.js'

function fakeSource() {
  const made = []
  class FakeES {
    constructor(url, opts) { this.url = url; this.opts = opts; this.readyState = 0; this.handlers = {}; this.closed = false; made.push(this) }
    addEventListener(name, fn) { (this.handlers[name] ||= []).push(fn) }
    emit(name) { for (const fn of this.handlers[name] || []) fn({ data: '{}' }) }
    close() { this.closed = true; this.readyState = 2 }
  }
  return { FakeES, made }
}

function manualTimers() {
  const due = []
  return { later: (fn, ms) => { const t = { fn, ms }; due.push(t); return t }, cancel: (t) => { t.fn = null }, due }
}

test('one stream for every listener; each hears the inbox event; the last to leave closes it', () => {
  const { FakeES, made } = fakeSource()
  const s = inboxStream({ EventSourceImpl: FakeES })
  let a = 0, b = 0
  const stopA = s.onInboxChanged(() => a++)
  const stopB = s.onInboxChanged(() => b++)
  assert.equal(made.length, 1, 'shared')
  assert.equal(made[0].url, INBOX_STREAM_URL)
  assert.deepEqual(made[0].opts, { withCredentials: true })
  made[0].onopen()
  assert.deepEqual([a, b], [0, 0], 'the first opening is not a change')
  made[0].emit(INBOX_EVENT)
  assert.deepEqual([a, b], [1, 1])
  made[0].emit('devices.alert.opened')
  assert.deepEqual([a, b], [1, 1], 'other events are not the inbox')
  stopA()
  assert.equal(made[0].closed, false, 'still a listener')
  made[0].emit(INBOX_EVENT)
  assert.deepEqual([a, b], [1, 2])
  stopB()
  assert.equal(made[0].closed, true, 'closed with the last listener')
})

test('a reconnection reads again; a closed stream is reopened after a growing delay', () => {
  const { FakeES, made } = fakeSource()
  const t = manualTimers()
  const s = inboxStream({ EventSourceImpl: FakeES, later: t.later, cancel: t.cancel })
  let n = 0
  const stop = s.onInboxChanged(() => n++)
  made[0].onopen()
  made[0].readyState = 0
  made[0].onerror() // the browser reconnects by itself
  assert.equal(t.due.length, 0)
  made[0].onopen()
  assert.equal(n, 1, 'reconnected: read again')
  made[0].readyState = 2
  made[0].onerror()
  assert.equal(made[0].closed, true)
  assert.equal(t.due[0].ms, 1000)
  t.due[0].fn()
  assert.equal(made.length, 2, 'opened again')
  made[1].readyState = 2
  made[1].onerror()
  assert.equal(t.due[1].ms, 2000, 'the delay grows')
  t.due[1].fn()
  made[2].onopen()
  assert.equal(n, 2, 'the new stream counts as a reconnection')
  stop()
  assert.equal(made[2].closed, true)
})

test('leaving while a reopening waits cancels it', () => {
  const { FakeES, made } = fakeSource()
  const t = manualTimers()
  const s = inboxStream({ EventSourceImpl: FakeES, later: t.later, cancel: t.cancel })
  const stop = s.onInboxChanged(() => {})
  made[0].readyState = 2
  made[0].onerror()
  stop()
  assert.equal(t.due[0].fn, null, 'the pending reopening is cancelled')
  assert.equal(made.length, 1)
})
