/**
 * writeBatch: the repo's one way to write a batch. The encodings go in each op and the
 * batch options are empty (abstract-level's per-op copy is slow after non-empty options),
 * so a database whose own default encoding is utf8 must still get the exact bytes.
 */
import { MemoryLevel } from 'memory-level'
import { expect, it } from 'vitest'
import { type LevelDatabase, writeBatch } from '../src/database.ts'

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const

it('writes and deletes the exact key and value bytes on a utf8-default database', async () => {
  const db = new MemoryLevel<string, string>() // default encodings: utf8
  const key = Uint8Array.of(0x00, 0xff, 0x80, 0x0a)
  const gone = Uint8Array.of(0x01, 0xfe)
  const value = Uint8Array.of(0xc3, 0x28, 0x00)
  await writeBatch(db as unknown as LevelDatabase, [{ type: 'put', key: gone, value }])
  await writeBatch(db as unknown as LevelDatabase, [
    { type: 'put', key, value },
    { type: 'del', key: gone },
  ])
  const entries = await db.iterator(VIEW).all()
  expect(entries.map(([k, v]) => [[...k], [...v]])).toEqual([[[...key], [...value]]])
  await db.close()
})

it('hands the database each op with view encodings and batch options with no keys', async () => {
  const seen: { ops: unknown[]; options: object }[] = []
  const db = {
    batch: async (ops: unknown[], options: object) => {
      seen.push({ ops, options })
    },
  } as unknown as LevelDatabase
  const ops = [
    { type: 'put' as const, key: Uint8Array.of(1), value: Uint8Array.of(2) },
    { type: 'del' as const, key: Uint8Array.of(3) },
  ]
  await writeBatch(db, ops)
  expect(seen).toHaveLength(1)
  expect(Object.keys(seen[0]!.options)).toEqual([])
  expect(seen[0]!.ops).toEqual([
    { ...ops[0], keyEncoding: 'view', valueEncoding: 'view' },
    { ...ops[1], keyEncoding: 'view' },
  ])
  expect(ops[1]).toEqual({ type: 'del', key: Uint8Array.of(3) }) // not changed
})
