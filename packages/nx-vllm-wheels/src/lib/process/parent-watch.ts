/**
 * Resolves with the former parent's pid once this process has been re-parented, i.e. its parent
 * exited. Checks every `intervalMs`; the timer never keeps the process alive, and aborting `signal`
 * stops the watch (the promise then never settles).
 */
export function whenParentExits(options: { intervalMs?: number; signal?: AbortSignal; ppid?: () => number } = {}): Promise<number> {
  const ppid = options.ppid ?? (() => process.ppid);
  const parent = ppid();
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (ppid() === parent) return;
      clearInterval(timer);
      resolve(parent);
    }, options.intervalMs ?? 500);
    timer.unref();
    options.signal?.addEventListener('abort', () => clearInterval(timer), { once: true });
  });
}
