/**
 * The package resolves by its name through the exports map (to source under the
 * `@picostack/source` condition that vitest uses) and exports what the README lists.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as byName from '@picostack/feed'
import { describe, expect, it } from 'vitest'
import * as bySource from '../src/index.ts'

const root = new URL('../', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))

describe('package', () => {
  it('resolves @picostack/feed to the same module as src/index.ts', () => {
    expect(byName.Feed).toBe(bySource.Feed)
    expect(Object.keys(byName).sort()).toEqual(Object.keys(bySource).sort())
  })

  it('exports the names the README promises', () => {
    for (const name of [
      'Feed',
      'Block',
      'signPair',
      'getPublicKey',
      'toHex',
      'fromHex',
      'feedFrom',
    ]) {
      expect(byName, name).toHaveProperty(name)
    }
    expect(byName.feedFrom).toBeTypeOf('function')
  })

  it('maps "." to source, types and the built file, and ships both', () => {
    const dot = pkg.exports['.']
    expect(Object.keys(dot)).toEqual(['@picostack/source', 'types', 'default'])
    expect(existsSync(fileURLToPath(new URL(dot['@picostack/source'], root)))).toBe(true)
    expect(dot.types).toBe('./dist/index.d.ts')
    expect(dot.default).toBe('./dist/index.js')
    expect(pkg.exports['./package.json']).toBe('./package.json')
    expect(pkg.files).toEqual(['dist', 'src'])
    expect(pkg.type).toBe('module')
    expect(pkg.sideEffects).toBe(false)
  })
})
