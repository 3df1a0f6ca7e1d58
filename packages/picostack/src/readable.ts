/**
 * The kernel's state views share one contract with `@picostack/views`: `Readable` (Svelte's
 * `subscribe`, plus `value`) and `Writable`, the one the kernel sets.
 */
export type { Readable } from '@picostack/views'
export { Writable } from '@picostack/views'
