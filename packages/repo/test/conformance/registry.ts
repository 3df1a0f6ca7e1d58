/** The repo conformance suite: registry (registered by ../conformance.ts). */
import { beforeEach, describe, expect, it } from 'vitest'
import { type Repo, RepoError } from '../../src/index.ts'
import { utf8 } from '../helpers.ts'
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
      expect(() => repo.registry(1 as never)).toThrow(RepoError)
    })
  })
}
