/** The repo conformance suite: registry (registered by ../conformance.ts). */
import { beforeEach, describe, expect, it } from 'vitest'
import { type Repo, RepoError } from '../../src/index.ts'
import { spyReads } from '../db-spy.ts'
import { chain, utf8 } from '../helpers.ts'
import { codeOf, type SuiteState } from './shared.ts'

/** Registers the "registry" tests on the suite state `s`. */
export function registry(s: SuiteState): void {
  describe('registry', () => {
    let repo: Repo
    beforeEach(() => {
      ;({ repo } = s)
    })
    it('reads and writes the root registry and isolated named registries', async () => {
      expect(await repo.readReg('identity')).toBeUndefined()
      await repo.writeReg('identity', utf8('secret'))
      expect(await repo.readReg('identity')).toEqual(utf8('secret'))
      expect(await repo.readReg(utf8('identity'))).toEqual(utf8('secret'))
      const a = repo.registry('a')
      const ab = repo.registry('ab')
      await a.put('b:1', utf8('from a'))
      await ab.put(':1', utf8('from ab'))
      expect(await a.get('b:1')).toEqual(utf8('from a'))
      expect(await ab.get(':1')).toEqual(utf8('from ab'))
      expect(await ab.get('b:1')).toBeUndefined()
      expect(await repo.readReg('b:1')).toBeUndefined()
      const entries = async (r: ReturnType<Repo['registry']>, range = {}) => {
        const out: string[] = []
        for await (const [k, v] of r.entries(range)) {
          out.push(`${new TextDecoder().decode(k)}=${new TextDecoder().decode(v)}`)
        }
        return out
      }
      expect(await entries(a)).toEqual(['b:1=from a'])
      await a.del('b:1')
      expect(await a.get('b:1')).toBeUndefined()
      const t = repo.registry('timers')
      await repo.batch(['3', '1', '2', '10'].map((k) => t.putOp(k, utf8(`v${k}`))))
      expect(await entries(t)).toEqual(['1=v1', '10=v10', '2=v2', '3=v3'])
      expect(await entries(t, { gte: utf8('10'), lt: utf8('3') })).toEqual(['10=v10', '2=v2'])
      expect(await entries(t, { limit: 1 })).toEqual(['1=v1'])
      expect(await entries(t, { reverse: true, limit: 3 })).toEqual(['3=v3', '2=v2', '10=v10'])
      expect(await entries(t, { gte: utf8('10'), lt: utf8('3'), reverse: true })).toEqual([
        '2=v2',
        '10=v10',
      ])
      expect(await codeOf(t.put('x', 'no' as never))).toBe('REPO_INVALID_INPUT')
      // One read of string and byte keys (built in one buffer), and a bad key refused.
      expect(await t.getMany(['1', utf8('10'), 'none', utf8('3')])).toEqual([
        utf8('v1'),
        utf8('v10'),
        undefined,
        utf8('v3'),
      ])
      expect(await codeOf(t.getMany(['1', 2 as never]))).toBe('REPO_INVALID_INPUT')
      expect(() => repo.registry(1 as never)).toThrow(RepoError)
    })

    it('reads ahead the chain records of geneses about to be written, and never trusts a stale one', async () => {
      const reg = repo.registry('store')
      const [g, h, late, warm] = ['g', 'h', 'late', 'warm'].map((b) => chain('alice', [b]).first!)
      await repo.writeBlocks([{ block: warm!, ops: [reg.putOp('k', utf8('v'))] }]) // opened
      const reads = spyReads(s.db)
      expect(await reg.getMany(['k', 'none'], { writing: [g!, h!] })).toEqual([
        utf8('v'),
        undefined,
      ])
      expect(reads.count).toBe(1)
      expect(await repo.writeBlocks([{ block: g!, ops: [reg.putOp('g', utf8('1'))] }])).toBe(1)
      expect(reads.count).toBe(1) // the write read nothing
      // h's record was read before g's batch: dropped with it, read again.
      expect(await repo.writeBlocks([{ block: h! }])).toBe(1)
      expect(reads.count).toBe(2)
      reads.restore()
      // A read ahead that a batch overtakes (it resolves after the genesis was written) is
      // not kept: the genesis is found held, not written a second time.
      const { db } = s
      const getMany = db.getMany
      let release = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      db.getMany = (async (...args: Parameters<typeof getMany>) => {
        const values = await getMany.apply(db, args)
        await gate
        return values
      }) as typeof getMany
      const ahead = reg.getMany(['k'], { writing: [late!] })
      await new Promise((resolve) => setTimeout(resolve, 10)) // the read has run
      db.getMany = getMany
      expect(await repo.writeBlocks([{ block: late! }])).toBe(1)
      release()
      expect(await ahead).toEqual([utf8('v')])
      expect(await repo.writeBlocks([{ block: late! }])).toBe(0)
      await reg.getMany(['k'], { writing: [g!, late!] })
      expect(await repo.writeBlocks([{ block: g! }])).toBe(0)
      expect((await repo.listFeeds()).length).toBe(4)
      expect(await reg.get('g')).toEqual(utf8('1'))
    })
  })
}
