import { MemoryLevel } from 'memory-level'
import { conformance } from './conformance.ts'
import type { Db } from './helpers.ts'

/** memory-level keeps its data across close/open of the same instance. */
function memoryFactory(name: string, options: ConstructorParameters<typeof MemoryLevel>[0]) {
  let last: Db | undefined
  return {
    name,
    async open() {
      last = new MemoryLevel(options)
      return last
    },
    async reopen() {
      await last!.open()
      return last!
    },
  }
}

conformance(memoryFactory('memory-level (default encodings)', undefined))
conformance(
  memoryFactory("memory-level (storeEncoding 'view', no Buffers)", { storeEncoding: 'view' }),
)
