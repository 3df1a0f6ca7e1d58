/**
 * An example's web page as a user gets it, for the Chromium tests (todo-web's and
 * todo-react's): built by vite into a temporary folder and served by vite's preview
 * server on 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, preview, type Rolldown } from 'vite'

/** A built page and the server that serves it. */
export interface BuiltApp {
  /** The bundle's JavaScript chunks. */
  readonly chunks: Rolldown.OutputChunk[]
  /** The page's URL on 127.0.0.1 (a free port). */
  readonly url: string
  /** Stops the server and deletes the build. */
  close(): Promise<void>
}

/**
 * Builds the vite project at `root` into a new temporary folder whose name starts with
 * `prefix`, and serves it; the folder is deleted again if that fails.
 * @param nodeEnv - `process.env.NODE_ENV` during the build, restored after it (vitest sets
 *   `test`, which would bundle React's development build)
 */
export async function serveBuilt(
  root: string,
  prefix: string,
  nodeEnv?: string,
): Promise<BuiltApp> {
  const outDir = await mkdtemp(join(tmpdir(), prefix))
  try {
    const testEnv = process.env.NODE_ENV
    if (nodeEnv !== undefined) process.env.NODE_ENV = nodeEnv
    const result = (await build({
      root,
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    }).finally(() => {
      if (nodeEnv !== undefined) process.env.NODE_ENV = testEnv
    })) as Rolldown.RolldownOutput
    const server = await preview({
      root,
      logLevel: 'warn',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    })
    return {
      chunks: result.output.filter((file): file is Rolldown.OutputChunk => file.type === 'chunk'),
      url: server.resolvedUrls!.local[0]!,
      async close() {
        await server.close()
        await rm(outDir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await rm(outDir, { recursive: true, force: true })
    throw err
  }
}
