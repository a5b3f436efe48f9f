export { writeFileAtomic, replaceDirAtomic, tempSibling } from './atomic';
export { withLock } from './lock';
export type { LockOptions } from './lock';
