// Only the record variables a mapping's expressions use are computed per event.
import { describe, expect, it } from 'vitest'
import { bindingsFor } from '../../../src/mapping/bindings.ts'
import { recordOf } from './helpers.ts'

describe('record variables', () => {
  it('computes none when the expressions use none, and only those used otherwise', () => {
    const record = recordOf({}, { headers: [['a', Buffer.from('1')]] })
    expect(bindingsFor(new Set(['x', 'string']))(record)).toBeUndefined()
    expect(bindingsFor(new Set(['headers', 'offset', 'f']))(record)).toEqual({
      headers: Object.assign(Object.create(null), { a: '1' }),
      offset: '9007199254740993',
    })
  })
})
