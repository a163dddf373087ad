// The README's names and versions are the package's: its name in the install commands, the Node.js
// major it asks for, and a changelog whose newest entry is this version or the one being made.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

describe("the README's names and versions", async () => {
  const readme = await readFile('README.md', 'utf8');
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
    name: string;
    version: string;
    engines: { node: string };
    bin: Record<string, string>;
  };

  it('names the package as package.json does, wherever it installs or runs it', () => {
    const commands = [...readme.matchAll(/npm install -g (\S+)|npx -p node@\d+ -p (\S+)/g)].map(
      (m) => m[1] ?? m[2],
    );
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const target of commands)
      expect(target === `./${pkg.name}-*.tgz` || target === pkg.name || target?.startsWith('node@')).toBe(
        true,
      );
    expect(Object.keys(pkg.bin)).toEqual(['csdrift']);
  });

  it('asks for the Node.js major that package.json requires', () => {
    const major = /^>=(\d+)/.exec(pkg.engines.node)?.[1];
    expect(readme).toContain(`csdrift needs Node.js ${major}`);
    expect(readme).toContain(`node@${major}`);
  });

  it('has a changelog whose newest entry is this version, or the next one marked unreleased', () => {
    const newest = /^## Changelog\n\n- (\d+\.\d+\.\d+)( \(unreleased\))?:/m.exec(readme);
    expect(newest).not.toBeNull();
    const [major, minor, patch] = pkg.version.split('.').map(Number) as [number, number, number];
    const next = [`${major}.${minor + 1}.0`, `${major}.${minor}.${patch + 1}`, `${major + 1}.0.0`];
    if (newest?.[2]) expect(next).toContain(newest[1]);
    else expect(newest?.[1]).toBe(pkg.version);
  });
});
