/** Polls `probe` every 100 ms until it gives a truthy value, which it returns; throws after `ms`. */
export async function until<T>(what: string, probe: () => T | Promise<T>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
