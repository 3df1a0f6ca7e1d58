import fc from 'fast-check'
import { expect, test } from 'vitest'
import { RemoteHeads } from '../src/sync/remote-heads.ts'

const key = fc.integer({ min: 0, max: 40 }).map((n) => n.toString(16).padStart(128, '0'))
const op = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    key,
    headId: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    height: fc.integer({ min: 0, max: 0xffff_ffff }),
  }),
  fc.record({ kind: fc.constant('delete' as const), key }),
)

test('RemoteHeads holds what a Map of the highest heads would, up to its capacity, and never more', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 24 }),
      fc.array(op, { maxLength: 200 }),
      (capacity, ops) => {
        const heads = new RemoteHeads(capacity)
        const model = new Map<string, { headId: number[]; height: number }>()
        for (const o of ops) {
          if (o.kind === 'delete') {
            heads.delete(o.key)
            model.delete(o.key)
            continue
          }
          const known = model.get(o.key)
          const raised = known ? known.height < o.height : model.size < capacity
          expect(heads.raise(o.key, o.headId, o.height)).toBe(raised)
          if (raised) model.set(o.key, { headId: [...o.headId], height: o.height })
        }
        expect(heads.size).toBe(model.size)
        expect(heads.size).toBeLessThanOrEqual(capacity)
        for (const [k, v] of model) {
          const got = heads.get(k)!
          expect({ headId: [...got.headId], height: got.height }).toEqual(v)
        }
      },
    ),
  )
})

test('a record is a copy: changing the head id given or returned changes nothing held', () => {
  const heads = new RemoteHeads(4)
  const headId = new Uint8Array(64).fill(7)
  heads.raise('a', headId, 3)
  headId.fill(0)
  heads.get('a')!.headId.fill(1)
  expect([...heads.get('a')!.headId]).toEqual(Array(64).fill(7))
})
