import { type RepoContext, VIEW } from './context.ts'
import { plain } from './layout.ts'
import type { RegistryHost, RegistryOp } from './registry.ts'

/**
 * The {@link RegistryHost} of a Repo: reads through `ctx` once `enter` passes (the repo is open, its layout checked), writes
 * with `write` (the repo's batch, after its queued writes).
 */
export function registryHost(
  ctx: RepoContext,
  enter: () => Promise<void> | undefined,
  write: (ops: RegistryOp[]) => Promise<void>,
): RegistryHost {
  async function* entries(
    gte: Uint8Array,
    lt: Uint8Array,
    limit: number,
    reverse: boolean,
  ): AsyncIterable<[Uint8Array, Uint8Array]> {
    await enter()
    for await (const [key, value] of ctx.db.iterator({ gte, lt, limit, reverse, ...VIEW })) {
      yield [plain(key), plain(value)]
    }
  }
  return {
    get: async (key) => {
      await enter()
      return ctx.get(key)
    },
    write,
    entries: (gte, lt, limit, reverse) => entries(gte, lt, limit, reverse === true),
    getMany: async (keys, writing) => {
      await enter()
      if (writing && writing.length > 0) return ctx.getManyAhead(keys, writing)
      const values = await ctx.getMany(keys)
      return values.map((value) => (value === undefined ? undefined : plain(value)))
    },
  }
}
