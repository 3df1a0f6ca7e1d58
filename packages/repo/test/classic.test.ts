import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { afterAll } from 'vitest'
import { conformance } from './conformance.ts'

const root = mkdtempSync(join(tmpdir(), 'picostack-repo-classic-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

let dirs = 0
let last = ''
conformance({
  name: 'classic-level (a temp dir per test)',
  async open() {
    last = join(root, String(dirs++))
    return new ClassicLevel(last)
  },
  async reopen() {
    return new ClassicLevel(last)
  },
})
