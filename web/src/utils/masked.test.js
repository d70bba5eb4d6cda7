// node --test web/src/utils/ — masked form values kept unless typed over.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { keptValues, keptErrors, isKept } from './masked.js'

const masked = { spouse_id_number: '110105********2215', contact_phone: '139****1111' }

test('untouched masked fields go back as they came; typed ones and others as typed', () => {
  const values = { spouse_id_number: '', contact_phone: '13800002222', child_order: '二孩' }
  assert.deepEqual(keptValues(values, masked),
    { spouse_id_number: '110105********2215', contact_phone: '13800002222', child_order: '二孩' })
  assert.equal(values.spouse_id_number, '', 'the input is not changed')
  assert.deepEqual(keptValues({ spouse_id_number: null }, masked),
    { spouse_id_number: '110105********2215', contact_phone: '139****1111' })
})

test('a required-field error of an untouched masked field is dropped, others stay', () => {
  const values = { spouse_id_number: '', contact_phone: '123' }
  const errors = { spouse_id_number: '必填', contact_phone: '手机号码格式不正确', child_order: '必填' }
  assert.deepEqual(keptErrors(errors, values, masked), { contact_phone: '手机号码格式不正确', child_order: '必填' })
  assert.equal(isKept('spouse_id_number', values, masked), true)
  assert.equal(isKept('contact_phone', values, masked), false)
  assert.equal(isKept('child_order', values, masked), false)
})
