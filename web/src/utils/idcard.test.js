// node --test web/src/utils/ — the ID number rules, with expected values worked out by hand.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { idCheckChar, parseIdNumber } from './idcard.js'

const today = new Date('2026-11-29T00:00:00Z')

test('check character of the GB 11643 sample 11010519491231002', () => {
  // Σ = 1·7+1·9+0·10+1·5+0·8+5·4+1·2+9·1+4·6+9·3+1·7+2·9+3·10+1·5+0·8+0·4+2·2 = 167; 167 mod 11 = 2 → 'X'
  assert.equal(idCheckChar('11010519491231002'), 'X')
})

test('a valid number yields birth date and sex', () => {
  assert.deepEqual(parseIdNumber('11010519491231002X', today), { ok: true, birthDate: '1949-12-31', sex: 'female' })
  assert.deepEqual(parseIdNumber('11010519491231002x', today).ok, true)
  // demo resident 王建国: 370105195107053078 (sequence 307, odd → male)
  assert.deepEqual(parseIdNumber('370105195107053078', today), { ok: true, birthDate: '1951-07-05', sex: 'male' })
})

test('bad numbers are refused with the reason', () => {
  assert.equal(parseIdNumber('370105195107053079', today).reason, 'check')
  assert.equal(parseIdNumber('37010519510705307', today).reason, 'length')
  assert.equal(parseIdNumber('3701051951070530X8', today).reason, 'format')
  assert.equal(parseIdNumber('370105195102303078', today).reason, 'date') // 30 February
  assert.equal(parseIdNumber('370105203001013078', today).reason, 'future')
  assert.equal(parseIdNumber('', today).reason, 'length')
})
