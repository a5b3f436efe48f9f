import { whenParentExits } from './parent-watch';

describe('whenParentExits', () => {
  it('resolves with the former parent once the process is re-parented, not before', async () => {
    let ppid = 4242;
    let settled = false;
    const gone = whenParentExits({ intervalMs: 5, ppid: () => ppid }).then((old) => {
      settled = true;
      return old;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
    ppid = 1;
    expect(await gone).toBe(4242);
  });

  it('stops watching when aborted', async () => {
    let ppid = 4242;
    let settled = false;
    const controller = new AbortController();
    void whenParentExits({ intervalMs: 5, ppid: () => ppid, signal: controller.signal }).then(() => (settled = true));
    controller.abort();
    ppid = 1;
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false);
  });
});
