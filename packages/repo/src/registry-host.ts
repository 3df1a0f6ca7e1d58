import { type RepoContext, VIEW } from './context.ts'
import { plain } from './layout.ts'
import type { RegistryHost, RegistryOp } from './registry.ts'

/**
 * The {@link RegistryHost} of a Repo: reads through `ctx` once `assertOpen` passes, writes
 * with `write` (the repo's batch, after its queued writes).
 */
export function registryHost(
  ctx: RepoContext,
  assertOpen: () => void,
  write: (ops: RegistryOp[]) => Promise<void>,
): RegistryHost {
  async function* entries(
    gte: Uint8Array,
    lt: Uint8Array,
    limit: number,
    reverse: boolean,
  ): AsyncIterable<[Uint8Array, Uint8Array]> {
    assertOpen()
    for await (const [key, value] of ctx.db.iterator({ gte, lt, limit, reverse, ...VIEW })) {
      yield [plain(key), plain(value)]
    }
  }
  return {
    get: async (key) => {
      assertOpen()
      return ctx.get(key)
    },
    write,
    entries: (gte, lt, limit, reverse) => entries(gte, lt, limit, reverse === true),
    getMany: async (keys) => {
      assertOpen()
      const values = await ctx.db.getMany(keys, VIEW)
      return values.map((value) => (value === undefined ? undefined : plain(value)))
    },
  }
}
