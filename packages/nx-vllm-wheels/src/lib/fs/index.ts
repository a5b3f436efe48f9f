export { writeFileAtomic, replaceDirAtomic, removeStaleTempSiblings, tempSibling } from './atomic';
export { withLock } from './lock';
export { isProcessAlive, processTag, taggedProcessState } from './pid';
export type { LockOptions } from './lock';
