export { writeFileAtomic, replaceDirAtomic, removeStaleTempSiblings, tempSibling } from './atomic';
export { withLock } from './lock';
export type { LockOptions } from './lock';
