// node --test web/src/utils/ — the two languages have the same messages: a key only in Chinese
// shows its raw name in the English console, and the other way round.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import zhCN from '../i18n/zh-CN.js'
import en from '../i18n/en.js'

function keys(o, prefix = '', out = new Set()) {
  for (const [k, v] of Object.entries(o)) {
    const name = prefix ? `${prefix}.${k}` : k
    if (v && typeof v === 'object' && !Array.isArray(v)) keys(v, name, out)
    else out.add(name)
  }
  return out
}

test('every message key is in both zh-CN and en', () => {
  const zh = keys(zhCN)
  const e = keys(en)
  assert.deepEqual([...zh].filter((k) => !e.has(k)).sort(), [], 'in zh-CN only')
  assert.deepEqual([...e].filter((k) => !zh.has(k)).sort(), [], 'in en only')
  assert.ok(zh.size > 500, `the catalogue was read (${zh.size} keys)`)
})
