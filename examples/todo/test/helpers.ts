import { afterEach } from 'vitest'
import { TodoKernel } from '../src/kernel.ts'

/**
 * A factory of booted in-memory to-do kernels that the calling test file closes after each
 * test (it registers the `afterEach`). They keep the snapshot (`snapshot: true`) unless
 * told otherwise, so a test reads the whole list with `list()`; the rules under test do
 * not depend on it. `{ snapshot: false }` gives the app's default, tasks on disk only.
 */
export function kernelFactory(): (
  options?: ConstructorParameters<typeof TodoKernel>[1],
) => Promise<TodoKernel> {
  const kernels: TodoKernel[] = []
  afterEach(async () => {
    for (const k of kernels.splice(0)) await k.close()
  })
  return async (options = {}) => {
    const k = new TodoKernel(undefined, { snapshot: true, ...options })
    await k.boot()
    kernels.push(k)
    return k
  }
}

/** The error `promise` rejects with (its `code`, and the store's `reason`); fails if it resolves. */
export async function failure(
  promise: Promise<unknown>,
): Promise<{ code?: string; reason?: string }> {
  try {
    await promise
  } catch (err) {
    return err as { code?: string; reason?: string }
  }
  throw new Error('expected a failure')
}
